"""Measured figures and what they cost: pricing, per-turn metrics, cost summaries, the report,
workload planning and the benchmark that feeds them."""
