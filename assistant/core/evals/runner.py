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

import random
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, replace

from assistant.core import store
from assistant.core.conversation import Message
from assistant.core.decisions import TurnRequest
from assistant.core.evals import humaneval
from assistant.core.evals.execute import Verdict, run_python
from assistant.core.session.chat import ChatSession
from assistant.core.store.records import EvalSample

KINDS = ("code",)
STOPPED = "stopped: "  # a task not asked, and why the run stops (the budget's cap)
BUDGET = "budget"  # the router whose caps an evaluation on a paid backend keeps to


@dataclass(frozen=True, slots=True)
class Plan:
    """What a run will do: its tasks (those not scored yet), and those it skips."""

    backend: str
    model: str
    kind: str
    task_set: str
    tasks: tuple[humaneval.Problem, ...]
    already: int  # tasks of the selection scored by an earlier run


def select(problems: Sequence[humaneval.Problem], *, limit: int | None, seed: int | None) -> list[humaneval.Problem]:
    """The tasks a run takes: all, or `limit` of them (the first, or a seeded sample)."""
    chosen = list(problems)
    if seed is not None:
        random.Random(seed).shuffle(chosen)
    return chosen[:limit] if limit is not None else chosen


def plan(session: ChatSession, backend: str, *, limit: int | None = None, seed: int | None = None,
         fresh: bool = False) -> Plan:  # fmt: skip
    model = session.backend_named(backend).model_name
    chosen = select(humaneval.problems(), limit=limit, seed=seed)
    ledger = session.ledger()
    seen = set() if fresh or ledger is None else store.evals.done(ledger, backend, model, humaneval.TASK_SET)
    todo = tuple(p for p in chosen if p.task_id not in seen)
    return Plan(backend, model, humaneval.KIND, humaneval.TASK_SET, todo, len(chosen) - len(todo))


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


def _one(session: ChatSession, chosen: Plan, problem: humaneval.Problem, run_id: str,
         cancel: threading.Event) -> EvalSample:  # fmt: skip
    """One task: the model's answer, its code, the tests run on it."""
    question = humaneval.question(problem)
    if not session.backend_named(chosen.backend).capabilities.local:  # money: the budget's caps hold
        decision, _ = session.route(TurnRequest(question, chosen.kind))
        if decision.decided_by == BUDGET:
            return EvalSample(run_id, time.time(), chosen.backend, chosen.model, chosen.kind, chosen.task_set,
                              problem.task_id, False, False, STOPPED + decision.reason)  # fmt: skip
    messages = [Message("system", session.system_prompt), Message("user", question)]
    started = time.time()
    result = session.run_task(messages, cancel, kind=chosen.kind, forced=chosen.backend, forced_by="assistant eval")
    base = EvalSample(run_id, started, chosen.backend, result.model or chosen.model, chosen.kind, chosen.task_set,
                      problem.task_id, False, False, "", tokens_in=result.stats.tokens_in,
                      tokens_out=result.stats.tokens_out, cost=result.cost,
                      model_seconds=result.stats.elapsed)  # fmt: skip
    if cancel.is_set() or result.outcome in ("cancelled", "interrupted"):
        return replace(base, status="cancelled")
    if result.outcome == "error":
        return replace(base, status=f"error: {result.error.message if result.error else 'the backend failed'}")
    code, well_formed = humaneval.completion(problem, result.text)
    if not well_formed:
        return replace(base, status="no code", completion=code)
    verdict: Verdict = run_python(humaneval.program(problem, code), cancel)
    return replace(base, passed=verdict.passed, well_formed=True, status=verdict.status, completion=code,
                 check_seconds=verdict.seconds)  # fmt: skip


def _record(session: ChatSession, sample: EvalSample) -> None:
    ledger = session.ledger()
    if ledger is not None:
        store.evals.record(ledger, sample)
