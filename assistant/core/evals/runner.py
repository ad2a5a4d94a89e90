"""An offline evaluation: a task set's tasks asked of one backend, each answer scored
by execution (core/evals/execute.py), each score written to the ledger as it ends.

Tasks run as many at once as the backend serves (its capabilities' concurrency;
the session is a batch session, so its limits hold). A task the backend's model was
already scored on is not asked again: a run cut short by Ctrl+C keeps what finished,
and the next one continues. Each model turn is a routed, measured, recorded turn of
the task's kind with the backend forced, so the ledger's speed figures and the cost
come from the same place as every other turn's.
"""

from __future__ import annotations

import logging
import random
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, replace

from assistant.core import store
from assistant.core.decisions import TurnRequest
from assistant.core.evals.edits import Edits
from assistant.core.evals.humaneval import HumanEval
from assistant.core.evals.repos import Repos
from assistant.core.evals.tasks import Attempt, EvalTask, TaskSet
from assistant.core.session.chat import ChatSession
from assistant.core.store.records import EvalSample

log = logging.getLogger(__name__)

STOPPED = "stopped: "  # a task not asked, and why the run stops (the budget's cap)
BUDGET = "budget"  # the router whose caps an evaluation on a paid backend keeps to
# Each kind `assistant eval --kind` takes, and its task set.
TASK_SETS: dict[str, TaskSet] = {"code": HumanEval(), "edit": Edits(), "task": Repos()}
KINDS = tuple(TASK_SETS)


@dataclass(frozen=True, slots=True)
class Plan:
    """What a run will do: its tasks (those not scored yet), and those it skips."""

    backend: str
    model: str
    task_set: TaskSet
    tasks: tuple[EvalTask, ...]
    already: int  # tasks of the selection scored by an earlier run

    @property
    def kind(self) -> str:
        return self.task_set.kind


def select(tasks: Sequence[EvalTask], *, limit: int | None, seed: int | None) -> list[EvalTask]:
    """The tasks a run takes: all, or `limit` of them (the first, or a seeded sample)."""
    chosen = list(tasks)
    if seed is not None:
        random.Random(seed).shuffle(chosen)
    return chosen[:limit] if limit is not None else chosen


def plan(session: ChatSession, backend: str, *, kind: str = "code", limit: int | None = None, seed: int | None = None,
         fresh: bool = False) -> Plan:  # fmt: skip
    task_set = TASK_SETS[kind]
    model = session.backend_named(backend).model_name
    chosen = select(task_set.tasks(), limit=limit, seed=seed)
    ledger = session.ledger()
    seen = set() if fresh or ledger is None else store.evals.done(ledger, backend, model, task_set.name)
    todo = tuple(t for t in chosen if t.task_id not in seen)
    return Plan(backend, model, task_set, todo, len(chosen) - len(todo))


def run(session: ChatSession, chosen: Plan, cancel: threading.Event, on_sample: Callable[[EvalSample], None], *,
        slots: int = 1, on_stop: Callable[[str], None] | None = None) -> list[EvalSample]:  # fmt: skip
    """Ask and score each task of `chosen`, `slots` at a time, until done or `cancel`;
    every sample is recorded as it ends and handed to `on_sample` (from this thread).
    A backend that costs money stops at the budget router's caps (`on_stop` says why)."""
    run_id = uuid.uuid4().hex[:16]
    finished: list[EvalSample] = []
    pending = list(chosen.tasks)
    with ThreadPoolExecutor(max_workers=max(1, slots), thread_name_prefix="eval") as pool:
        running: set[Future[EvalSample]] = set()
        while (pending or running) and not cancel.is_set():
            while pending and len(running) < slots:
                running.add(pool.submit(_one, session, chosen, pending.pop(0), run_id, cancel))
            done, running = wait(running, timeout=0.2, return_when=FIRST_COMPLETED)
            for future in done:
                sample = future.result()
                if sample.status.startswith(STOPPED):
                    cancel.set()
                    if on_stop is not None:
                        on_stop(sample.status.removeprefix(STOPPED))
                elif sample.status != "cancelled":
                    _record(session, sample)
                    finished.append(sample)
                    on_sample(sample)
        if pending or running:  # stopped: what runs still is cancelled, what finished stays
            cancel.set()
    session.ledger_used()  # the quality figures read the new rows on the next turn
    return finished


def _one(session: ChatSession, chosen: Plan, task: EvalTask, run_id: str, cancel: threading.Event) -> EvalSample:
    """One task: asked (unless the budget's caps stop the run first) and scored."""
    started = time.time()
    base = EvalSample(run_id, started, chosen.backend, chosen.model, chosen.kind, chosen.task_set.name, task.task_id,
                      False, False, "")  # fmt: skip
    if not session.backend_named(chosen.backend).capabilities.local:  # money: the budget's caps hold
        decision, _ = session.route(TurnRequest(task.question, chosen.kind))
        if decision.decided_by == BUDGET:
            return replace(base, status=STOPPED + decision.reason)
    try:
        said = chosen.task_set.attempt(session, chosen.backend, task, cancel)
    except Exception as exc:  # noqa: BLE001 - one task's failure is its score, not the run's end
        log.warning("an evaluation task failed", exc_info=True)
        said = Attempt(f"error: {type(exc).__name__}: {exc}")
    return replace(base, model=said.model or chosen.model, passed=said.passed, well_formed=said.well_formed,
                   status=said.status, completion=said.completion, tokens_in=said.tokens_in,
                   tokens_out=said.tokens_out, cost=said.cost, model_seconds=said.model_seconds,
                   check_seconds=said.check_seconds)  # fmt: skip


def _record(session: ChatSession, sample: EvalSample) -> None:
    ledger = session.ledger()
    if ledger is not None:
        store.evals.record(ledger, sample)
