"""Offline evaluations in the ledger (migration 14): one row per task a backend's
model was scored on; a task scored again replaces its row, so the newest counts and
an interrupted run continues where it stopped."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields

from assistant.core.store.ledger import Ledger
from assistant.core.store.records import EvalSample, undated

_COLUMNS = tuple(f.name for f in fields(EvalSample))
_INSERT = (f"INSERT OR REPLACE INTO eval_samples ({', '.join(_COLUMNS)}) "
           f"VALUES ({', '.join('?' * len(_COLUMNS))})")  # fmt: skip


@dataclass(frozen=True, slots=True)
class EvalTotals:
    """A backend's model on one task set: how many tasks were scored and what came of them."""

    backend: str
    model: str
    kind: str
    task_set: str
    tasks: int
    passed: int
    well_formed: int
    tokens_in: int
    tokens_out: int
    cost: float | None  # None when any task's cost is unknown
    model_seconds: float
    check_seconds: float
    last_at: float


def record(ledger: Ledger, sample: EvalSample) -> None:
    values = [getattr(sample, name) for name in _COLUMNS]
    ledger.transaction("cannot record the evaluation", lambda conn: conn.execute(_INSERT, values))


def done(ledger: Ledger, backend: str, model: str, task_set: str) -> set[str]:
    """The tasks of `task_set` this backend's model was already scored on."""
    rows = ledger.query("cannot read evaluations",
                        "SELECT task_id FROM eval_samples WHERE backend = ? AND model = ? AND task_set = ?",
                        [backend, model, task_set])  # fmt: skip
    return {task_id for (task_id,) in rows}


def samples(ledger: Ledger, *, backend: str | None = None, task_set: str | None = None,
            run_id: str | None = None) -> list[EvalSample]:  # fmt: skip
    return ledger.select("cannot read evaluations", EvalSample, "eval_samples", _COLUMNS,
                         [("backend = ?", backend), ("task_set = ?", task_set), ("run_id = ?", run_id)])  # fmt: skip


def totals(ledger: Ledger) -> list[EvalTotals]:
    """Per backend, model, kind and task set: the scored tasks, summed up by SQLite."""
    rows = ledger.query(
        "cannot read evaluations",
        "SELECT backend, model, kind, task_set, COUNT(*), TOTAL(passed), TOTAL(well_formed), TOTAL(tokens_in),"
        " TOTAL(tokens_out), CASE WHEN COUNT(cost) = COUNT(*) THEN TOTAL(cost) END, TOTAL(model_seconds),"
        " TOTAL(check_seconds), MAX(at) FROM eval_samples GROUP BY backend, model, kind, task_set"
        " ORDER BY backend, model, kind, task_set",
        [],
    )
    return [EvalTotals(b, m, k, s, int(n), int(p), int(w), int(ti), int(to), c, ms, cs, at)
            for b, m, k, s, n, p, w, ti, to, c, ms, cs, at in rows]  # fmt: skip


def evidence(ledger: Ledger) -> dict[tuple[str, str, str], tuple[int, int]]:
    """(passed, failed) per (backend, undated model, kind), over every task set: what the
    quality figures take from evaluations."""
    found: dict[tuple[str, str, str], tuple[int, int]] = {}
    for t in totals(ledger):
        key = (t.backend, undated(t.model), t.kind)
        passed, failed = found.get(key, (0, 0))
        found[key] = (passed + t.passed, failed + t.tasks - t.passed)
    return found


def rows(items: Iterable[EvalSample]) -> list[dict[str, object]]:
    return [{name: getattr(s, name) for name in _COLUMNS} for s in items]
