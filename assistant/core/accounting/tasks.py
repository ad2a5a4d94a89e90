"""Tasks over the ledger's `tasks` rows, added up for `assistant cost`: how many, how
they ended, their steps, model time and tool time apart, what they cost, and what
became of their changes (kept, undone, the checks at their end). Pure: no I/O."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from assistant.core.store.records import TaskRecord


@dataclass(frozen=True, slots=True)
class TaskTotals:
    tasks: int
    ends: tuple[tuple[str, int], ...]  # (how a task ended, how many), most first
    steps: int  # model steps
    tool_steps: int
    model_seconds: float
    tool_seconds: float
    tokens_in: int
    tokens_out: int
    cost: float  # the known costs' sum
    cost_known: bool  # False when some task's cost is unknown: `cost` is then a floor
    committed: int  # tasks whose changes were committed
    undone: int  # of those, taken back by undo
    checks_passed: int  # tasks whose checks at the end all passed
    checks_failed: int


def summarize_tasks(records: Sequence[TaskRecord]) -> TaskTotals | None:
    """The tasks' totals; None when there is none."""
    if not records:
        return None
    passed = failed = 0
    for record in records:
        ran = [c for c in _checks(record) if c.get("status") not in ("not run", "could not run", "cancelled")]
        if ran:
            good = all(c.get("status") in ("passed", "failed before") for c in ran)
            passed, failed = passed + good, failed + (not good)
    return TaskTotals(
        tasks=len(records),
        ends=tuple(Counter(r.end for r in records).most_common()),
        steps=sum(r.steps for r in records),
        tool_steps=sum(r.tool_steps for r in records),
        model_seconds=sum(r.model_seconds for r in records),
        tool_seconds=sum(r.tool_seconds for r in records),
        tokens_in=sum(r.tokens_in for r in records),
        tokens_out=sum(r.tokens_out for r in records),
        cost=sum(r.cost for r in records if r.cost is not None),
        cost_known=all(r.cost is not None for r in records),
        committed=sum(1 for r in records if r.commit_id),
        undone=sum(1 for r in records if r.undone_at is not None),
        checks_passed=passed,
        checks_failed=failed,
    )


def _checks(record: TaskRecord) -> list[dict]:
    try:
        found = json.loads(record.checks)
    except ValueError:
        return []
    return [c for c in found if isinstance(c, dict)] if isinstance(found, list) else []
