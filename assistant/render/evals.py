"""How an evaluation's figures read on the command line and in the report."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from assistant.render import format as fmt

if TYPE_CHECKING:
    from assistant.core.accounting.evals import EvalFigures


def quality(f: EvalFigures) -> str:
    """`12/164 = 7.3% (5.1–10.4%)`: passed, pass@1, and the 80% credible interval."""
    return f"{f.passed}/{f.tasks} = {f.pass_at_1:.1%} ({f.lower:.1%}–{f.upper:.1%})"


def figures_lines(found: Sequence[EvalFigures]) -> list[str]:
    if not found:
        return ["Nothing evaluated yet: `assistant eval --backend local --limit 20` scores 20 HumanEval problems."]
    lines = []
    for f in found:
        cost = fmt.cost(f.cost_per_task) if f.cost_per_task is not None else "$?"
        lines.append(
            f"{f.backend} · {f.model} · {f.kind} ({f.task_set}): pass@1 {quality(f)} · well formed {f.well_formed:.0%}"
            f" · per task {f.tokens_in_per_task:,.0f} in / {f.tokens_out_per_task:,.0f} out, {cost},"
            f" model {fmt.seconds(f.model_seconds_per_task)}, tests {fmt.seconds(f.check_seconds_per_task)}"
        )
    return lines
