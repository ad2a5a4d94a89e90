"""The turn runner: a routed turn is attempted on the decided backend; when that
one fails before any text, the next allowed candidate takes it; every attempt is
measured, costed and recorded.

A turn is a generator: it yields its events as they come (text, usage, a
fallback…) and returns its `TurnResult`; each attempt is one step of it
(`model_step`), a generator too. A turn of several steps (the model, a tool,
the model again) is more steps in the same loop, and whoever starts a turn only
hands its events on and takes its result (`forward`)."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Generator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, TypeVar

from assistant.core import accounting
from assistant.core.accounting.metrics import Clock, SessionTotals, TurnMetrics
from assistant.core.backends.protocol import Backend, load_failure
from assistant.core.config import Config
from assistant.core.conversation import Message
from assistant.core.events import (
    BackendError,
    FallbackStarted,
    Notice,
    SessionEvent,
    StreamEvent,
    TextDelta,
    TurnDone,
    Usage,
)
from assistant.core.results import TurnResult, TurnStats
from assistant.core.session.pool import BackendPool
from assistant.core.session.recorder import TurnRecorder
from assistant.core.session.turns import events, nothing_can_answer, unavailable_reason
from assistant.core.tool_calls import ToolSpec
from assistant.core.window.sliding import Assembly, ContextTooLarge

if TYPE_CHECKING:
    from assistant.core.decisions import RouteDecision

log = logging.getLogger(__name__)

AUTO = "auto"
# Failures another backend cannot do better on.
NO_FALLBACK_KINDS = {"context"}
# Failures that mean a backend is not set up (no key, no model file).
SETUP_KINDS = {"unavailable", "model_file", "load"}
OnEvent = Callable[[StreamEvent | SessionEvent], None]
# How many turns a backend serves at once: `limits(name)` is held while one streams.
Limits = Callable[[str], contextlib.AbstractContextManager[object]]
TurnEvents = Generator[StreamEvent | SessionEvent, None, TurnResult]
Event = TypeVar("Event")
Result = TypeVar("Result")


@dataclass(frozen=True, slots=True)
class Turn:
    """A routed turn, as the runner is handed it."""

    session_id: str
    mode: str  # the session's: in auto mode, a turn no backend could take says what to configure
    decision: RouteDecision
    windows: Mapping[str, Assembly | ContextTooLarge]  # each candidate's prompt, or why it did not fit
    # What each candidate says before it answers (which of the files named its prompt holds).
    notes: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


def forward(turn: Generator[Event, None, Result], emit: Callable[[Event], None]) -> Result:
    """Run `turn` to its end, handing each event to `emit`, and return its result.
    A turn left early (`emit` raised) is closed: its step lets go of its backend."""
    try:
        while True:
            try:
                event = next(turn)
            except StopIteration as done:
                return done.value
            emit(event)
    finally:
        turn.close()


class TurnRunner:
    def __init__(
        self,
        config: Config,
        pool: BackendPool,
        recorder: TurnRecorder,
        clock: Clock = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        limits: Limits | None = None,
    ) -> None:
        self.config = config
        self.pool = pool
        self.recorder = recorder
        self.clock = clock
        self.wall_clock = wall_clock
        self.totals = SessionTotals()
        self._prices: accounting.PriceTable | None = None
        #: The attempt in progress, for live figures; read from other threads.
        self.current: TurnMetrics | None = None
        self.current_backend: Backend | None = None
        self.current_name: str | None = None
        self.last_backend: str | None = None  # pool name of the backend that answered last
        # Batch refactors run turns from several threads: totals and loads are guarded,
        # and `limits(name)` bounds how many turns a backend serves at once.
        self.state_lock = threading.RLock()
        self.limits: Limits = limits or (lambda name: contextlib.nullcontext())

    # -- what a turn costs ---------------------------------------------------------

    @property
    def prices(self) -> accounting.PriceTable:
        if self._prices is None:
            self._prices = accounting.price_table(self.config.prices)
        return self._prices

    def hourly(self, backend: Backend) -> float | None:
        """What an hour of `backend` costs: its own price (an inference server's), this
        machine's for a local model; None: it is priced per token."""
        caps = backend.capabilities
        if caps.machine_per_hour is not None:
            return caps.machine_per_hour
        return self.config.cost.local_machine_per_hour if caps.local else None

    def costs(
        self, backend: Backend, usage: Usage | None, elapsed: float, billed: bool
    ) -> tuple[float | None, float | None]:
        """(cost, counterfactual cost on the reference Claude model) of a turn."""
        caps = backend.capabilities
        return accounting.turn_costs(
            self.prices,
            local=caps.priced_by_time,
            model=(usage.model if usage and usage.model else backend.model_name),
            usage=usage,
            billed=billed,
            elapsed=elapsed,
            machine_per_hour=self.hourly(backend) or 0.0,
            reference_model=self.config.cost.reference_model,
        )

    def live(self) -> tuple[TurnStats, float | None] | None:
        """The attempt in progress: its figures and its cost so far."""
        current, backend = self.current, self.current_backend
        if current is None or backend is None:
            return None
        stats = current.snapshot()
        cost, _ = self.costs(backend, current.usage, stats.elapsed, billed=True)
        return stats, cost

    # -- route → attempt → fallback → record ----------------------------------------

    def run(self, turn: Turn, cancel: threading.Event) -> TurnEvents:
        """The decided backend answers; when it fails before any text, the next
        allowed candidate does. Every attempt is recorded."""
        decision, windows = turn.decision, turn.windows
        first: TurnResult | None = None
        result: TurnResult | None = None
        for name in self.order(decision, windows):
            backend = self.pool.get(name)
            window = windows.get(name)
            if window is None:
                continue  # not a candidate of this turn
            if first is not None:
                if isinstance(window, ContextTooLarge) or unavailable_reason(backend) or not self.may_fall_back(backend):
                    continue
                yield FallbackStarted(first.backend, backend.name, backend.model_name, first.error.message if first.error else "")
            for note in turn.notes.get(name, ()):
                yield Notice(note)
            started = self.wall_clock()
            if isinstance(window, ContextTooLarge):
                result = self._refused(backend, BackendError(str(window), kind="context"))
            else:
                result = yield from self.model_step(name, backend, window.messages, cancel)
            estimate = decision.estimate_for(name)
            if first is None:
                turn_id = self.recorder.record(turn.session_id, result, started, decision.reason, decision.decided_by,
                                               estimate, kind=decision.kind, explored=decision.explored)  # fmt: skip
                result = first = replace(result, turn_id=turn_id)
            else:
                why = f"fallback from {first.backend}: {first.error.kind if first.error else 'error'}"
                turn_id = self.recorder.record(turn.session_id, result, started, why, "fallback", estimate,
                                               kind=decision.kind)  # fmt: skip
                result = replace(result, fallback_from=first.backend, fallback_reason=first.error.message if first.error else None,
                                 turn_id=turn_id)  # fmt: skip
            if not self._should_fall_back(result, cancel, turn.mode):
                return result
        assert result is not None  # the decided backend always gets its attempt
        if result.error is not None and result.error.kind in SETUP_KINDS and turn.mode == AUTO:
            reasons = {name: unavailable_reason(self.pool.get(name), load=True) for name in windows}
            return replace(result, error=BackendError(nothing_can_answer(reasons), kind=result.error.kind))
        return result

    def order(self, decision: RouteDecision, windows: Mapping[str, object]) -> list[str]:
        """The backends a turn tries, in order: the decided one, then its fallbacks."""
        order = [decision.backend, *decision.fallbacks]
        if decision.allow_any_fallback:
            order += [name for name in windows if name not in order]
        return list(dict.fromkeys(order))

    def _should_fall_back(self, result: TurnResult, cancel: threading.Event, mode: str) -> bool:
        if result.outcome != "error" or result.text or cancel.is_set():
            return False
        if result.error is not None and result.error.kind in NO_FALLBACK_KINDS:
            return False
        return self.falls_back(mode)

    def falls_back(self, mode: str) -> bool:
        """Whether a turn in `mode` that failed before any output goes on elsewhere."""
        return mode == AUTO or bool(self.config.router.fallback)

    def may_fall_back(self, backend: Backend) -> bool:
        try:
            backend.load()
        except Exception as exc:  # noqa: BLE001 - any plugin failure: not a fallback
            log.info("no fallback to %s: %s", backend.name, exc)
            return False
        return True

    def _refused(self, backend: Backend, error: BackendError) -> TurnResult:
        stats = TurnMetrics(self.clock)
        stats.observe(error)
        return TurnResult("", stats.snapshot(), 0.0, "error", None, error, backend=backend.name,
                          model=backend.model_name, counterfactual_cost=0.0)

    def model_step(
        self,
        name: str,
        backend: Backend,
        messages: Sequence[Message],
        cancel: threading.Event,
        *,
        tools: Sequence[ToolSpec] = (),
    ) -> Generator[StreamEvent, None, TurnResult]:
        """One backend's answer to `messages`: its events as they come, then the
        answer measured and costed. `tools` (a task's step, on a backend that calls
        them): its `ToolUse` events come through with the others."""
        if not backend.loaded:  # before the turn's clock starts: loading is not answering

            with self.state_lock:  # two batch workers must not load one model twice
                load_failure(backend)  # a failure is said again by the backend's own stream
        parts: list[str] = []
        error: BackendError | None = None
        stop_reason: str | None = None
        with self.limits(name):  # a batch's per-backend limits; the turn's clock starts once admitted
            metrics = TurnMetrics(self.clock)
            self.current_backend, self.current_name = backend, name
            self.current = metrics
            try:
                for event in events(backend, messages, cancel, tools):
                    metrics.observe(event)
                    if isinstance(event, TextDelta):
                        if event.text:
                            parts.append(event.text)
                    elif isinstance(event, TurnDone):
                        stop_reason = event.stop_reason
                    elif isinstance(event, BackendError):
                        error = event
                    yield event
            except BaseException:  # left early (whoever took the events failed): its live figures end
                self.current = None
                raise
        if metrics.end is None:  # a backend that ended without saying so
            error = BackendError("the backend ended the turn without finishing it")
            metrics.observe(error)
        answer = "".join(parts)
        stats = metrics.snapshot()
        outcome = metrics.outcome or "error"
        if outcome == "error" and answer:
            outcome = "interrupted"
        # A request that failed before the API reported any usage was not billed.
        billed = not (outcome == "error" and metrics.usage is not None and metrics.usage.estimated)
        cost, counterfactual = self.costs(backend, metrics.usage, stats.elapsed, billed)
        with self.state_lock:
            self.totals.add(stats, cost)
            self.recorder.spent(cost)
        self.current = None
        if outcome in ("ok", "interrupted", "cancelled"):
            self.last_backend = name
        return TurnResult(
            answer,
            stats,
            cost,
            outcome,
            stop_reason,
            error,
            backend=backend.name,
            model=(metrics.usage.model if metrics.usage and metrics.usage.model else backend.model_name),
            usage=metrics.usage if billed else None,
            counterfactual_cost=counterfactual,
            routed_to=name,
        )
