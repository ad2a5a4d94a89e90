"""The runner: a run stopped part way keeps what finished, and the next one goes on from
there; a task that raises is scored as an error, and the run goes on."""

from __future__ import annotations

import threading
from pathlib import Path

from assistant.backends.scripted import ScriptedBackend
from assistant.core.config import Config
from assistant.core.evals import humaneval, runner
from assistant.core.session.chat import ChatSession
from assistant.core.store import evals
from assistant.core.store.ledger import Ledger

PROBLEMS = humaneval.problems()[:6]


def session(answers: list[str]) -> ChatSession:
    backend = ScriptedBackend(answers, name="local")
    backend.load()
    return ChatSession(Config().with_overrides({"general.backend": "local"}), backend, ledger=Ledger.open,
                       batch=True, project_root=Path.cwd())  # fmt: skip


def canonical(problem: humaneval.Problem) -> str:
    return f"```python\n{problem.prompt}{problem.canonical_solution}```"


def test_a_stopped_run_keeps_what_finished_and_the_next_goes_on() -> None:
    s = session([canonical(p) for p in PROBLEMS])
    first = runner.plan(s, "local", limit=6)
    assert len(first.tasks) == 6 and first.already == 0
    cancel, seen = threading.Event(), []

    def stop_after_two(sample: object) -> None:
        seen.append(sample)
        if len(seen) == 2:
            cancel.set()  # as Ctrl+C does

    done = runner.run(s, first, cancel, stop_after_two)
    assert [d.task_id for d in done] == [p.task_id for p in PROBLEMS[:2]] and all(d.passed for d in done)

    again = runner.plan(s, "local", limit=6)
    assert again.already == 2 and [t.task_id for t in again.tasks] == [p.task_id for p in PROBLEMS[2:]]
    rest = runner.run(s, again, threading.Event(), lambda sample: None)
    assert len(rest) == 4 and all(r.passed for r in rest)
    [totals] = evals.totals(Ledger.open())
    assert (totals.tasks, totals.passed) == (6, 6)


def test_a_task_that_raises_is_an_error_and_the_run_goes_on(monkeypatch) -> None:  # noqa: ANN001
    s = session([canonical(p) for p in PROBLEMS[:2]])
    chosen = runner.plan(s, "local", limit=2)
    real = chosen.task_set.attempt
    calls = []

    def first_raises(*args: object):  # noqa: ANN202
        calls.append(args)
        if len(calls) == 1:
            raise RuntimeError("the disk is full")
        return real(*args)

    monkeypatch.setattr(chosen.task_set, "attempt", first_raises)
    done = runner.run(s, chosen, threading.Event(), lambda sample: None)
    assert [d.status for d in done][0] == "error: RuntimeError: the disk is full" and len(done) == 2
