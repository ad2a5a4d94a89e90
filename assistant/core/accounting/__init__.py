"""Measured figures and what they cost: pricing, per-turn metrics, cost summaries, the report
and workload planning (the benchmark that feeds them is core/benchmark/).

Other packages read the prices' names from the package (`accounting.price_table`):
the module loads when first used (see core/lazy.py)."""

from assistant.core.lazy import exports

__getattr__, __dir__ = exports(globals(), {
    "quality": "quality",
    "PriceError": "pricing", "PriceTable": "pricing", "price_table": "pricing", "turn_costs": "pricing",
    "summarize": "cost_summary",
})  # fmt: skip
