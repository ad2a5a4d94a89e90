"""What an offline evaluation's rows add up to: per backend, model and task set, the
pass rate at one sample (pass@1) with its credible interval (the same Beta(1, 1)
posterior as the ratings', core/accounting/quality.py), its sample size, the share
of answers that were well formed, and tokens, cost and time per task."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

from assistant.core.accounting.quality import estimate
from assistant.core.store.evals import EvalTotals


@dataclass(frozen=True, slots=True)
class EvalFigures:
    backend: str
    model: str
    kind: str
    task_set: str
    tasks: int
    passed: int
    pass_at_1: float  # passed / tasks
    lower: float  # 90% sure the rate is at least this
    upper: float  # and at most this
    well_formed: float  # share of answers that held what was asked for
    tokens_in_per_task: float
    tokens_out_per_task: float
    cost_per_task: float | None
    model_seconds_per_task: float
    check_seconds_per_task: float

    def as_json(self) -> dict[str, object]:
        return asdict(self)


def figures(totals: Sequence[EvalTotals], *, backends: Sequence[str] | None = None) -> list[EvalFigures]:
    """The figures of each (backend, model, task set) in `totals` (of `backends` only, when given)."""
    found = []
    for t in totals:
        if backends is not None and t.backend not in backends or not t.tasks:
            continue
        q = estimate(t.passed, t.tasks - t.passed)
        n = t.tasks
        found.append(EvalFigures(
            t.backend, t.model, t.kind, t.task_set, n, t.passed, t.passed / n, q.lower, q.upper, t.well_formed / n,
            t.tokens_in / n, t.tokens_out / n, None if t.cost is None else t.cost / n, t.model_seconds / n,
            t.check_seconds / n,
        ))  # fmt: skip
    return found
