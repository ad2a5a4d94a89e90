"""The turn runner: a routed turn is attempted on the decided backend; when that
one fails before any text, the next allowed candidate takes it; every attempt is
measured, costed and recorded."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from assistant.core import accounting
from assistant.core.accounting.metrics import Clock, SessionTotals, TurnMetrics
from assistant.core.backends.protocol import Backend, load_failure
from assistant.core.config import Config
from assistant.core.conversation import Message
from assistant.core.events import BackendError, FallbackStarted, SessionEvent, StreamEvent, TextDelta, TurnDone, Usage
from assistant.core.results import TurnResult, TurnStats
from assistant.core.session.pool import BackendPool
from assistant.core.session.recorder import TurnRecorder
from assistant.core.session.turns import events, unavailable_reason
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


class TurnRunner:
    def __init__(
        self,
        config: Config,
        pool: BackendPool,
        recorder: TurnRecorder,
        session_id: Callable[[], str],
        mode: Callable[[], str],
        clock: Clock = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.pool = pool
        self.recorder = recorder
        self._session_id = session_id
        self._mode = mode
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
        # and `limiter(name)` bounds how many turns a backend serves at once.
        self.state_lock = threading.RLock()
        self.limiter: Callable[[str], contextlib.AbstractContextManager[object]] = lambda name: contextlib.nullcontext()

    # -- what a turn costs ---------------------------------------------------------

    @property
    def prices(self) -> accounting.PriceTable:
        if self._prices is None:
            self._prices = accounting.price_table(self.config.prices)
        return self._prices

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
            machine_per_hour=caps.machine_per_hour if caps.machine_per_hour is not None else self.config.cost.local_machine_per_hour,
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

    def serve(
        self,
        decision: RouteDecision,
        windows: Mapping[str, Assembly | ContextTooLarge],
        cancel: threading.Event,
        emit: OnEvent,
    ) -> TurnResult:
        """The decided backend answers; when it fails before any text, the next
        allowed candidate does. Every attempt is recorded."""
        first: TurnResult | None = None
        result: TurnResult | None = None
        for name in self._order(decision, windows):
            backend = self.pool.get(name)
            window = windows.get(name)
            if window is None:
                continue  # not a candidate of this turn
            if first is not None:
                if isinstance(window, ContextTooLarge) or unavailable_reason(backend) or not self._may_fall_back(backend):
                    continue
                emit(FallbackStarted(first.backend, backend.name, backend.model_name, first.error.message if first.error else ""))
            started = self.wall_clock()
            if isinstance(window, ContextTooLarge):
                result = self._refused(backend, BackendError(str(window), kind="context"))
            else:
                result = self._attempt(name, backend, window.messages, cancel, emit)
            estimate = decision.estimate_for(name)
            if first is None:
                turn_id = self.recorder.record(self._session_id(), result, started, decision.reason, decision.decided_by,
                                               estimate, kind=decision.kind, explored=decision.explored)  # fmt: skip
                result = first = replace(result, turn_id=turn_id)
            else:
                why = f"fallback from {first.backend}: {first.error.kind if first.error else 'error'}"
                turn_id = self.recorder.record(self._session_id(), result, started, why, "fallback", estimate,
                                               kind=decision.kind)  # fmt: skip
                result = replace(result, fallback_from=first.backend, fallback_reason=first.error.message if first.error else None,
                                 turn_id=turn_id)  # fmt: skip
            if not self._should_fall_back(result, cancel):
                return result
        assert result is not None  # the decided backend always gets its attempt
        if result.error is not None and result.error.kind in SETUP_KINDS and self._mode() == AUTO:
            return replace(result, error=BackendError(self.nothing_can_answer(windows), kind=result.error.kind))
        return result

    def nothing_can_answer(self, names: Iterable[str]) -> str:
        """One line: why each backend cannot answer, and what to configure."""
        reasons = []
        for name in names:
            reason = unavailable_reason(self.pool.get(name), load=True)
            if reason:
                reasons.append(f"{name}: {reason.rstrip('.')}")
        said = "; ".join(reasons) or "every backend failed"
        return (
            f"No backend can answer ({said}). Set ANTHROPIC_API_KEY for Claude, "
            "or local.model_path to a GGUF file (`assistant config --init` writes a config to edit)."
        )

    def _order(self, decision: RouteDecision, windows: Mapping[str, object]) -> list[str]:
        order = [decision.backend, *decision.fallbacks]
        if decision.allow_any_fallback:
            order += [name for name in windows if name not in order]
        return list(dict.fromkeys(order))

    def _should_fall_back(self, result: TurnResult, cancel: threading.Event) -> bool:
        if result.outcome != "error" or result.text or cancel.is_set():
            return False
        if result.error is not None and result.error.kind in NO_FALLBACK_KINDS:
            return False
        return self._mode() == AUTO or self.config.claude.fallback_to_local

    def _may_fall_back(self, backend: Backend) -> bool:
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

    def _attempt(
        self,
        name: str,
        backend: Backend,
        messages: Sequence[Message],
        cancel: threading.Event,
        emit: OnEvent,
    ) -> TurnResult:
        if not backend.loaded:  # before the turn's clock starts: loading is not answering

            with self.state_lock:  # two batch workers must not load one model twice
                load_failure(backend)  # a failure is said again by the backend's own stream
        parts: list[str] = []
        error: BackendError | None = None
        stop_reason: str | None = None
        with self.limiter(name):  # a batch's per-backend limits; the turn's clock starts once admitted
            metrics = TurnMetrics(self.clock)
            self.current_backend, self.current_name = backend, name
            self.current = metrics
            for event in events(backend, messages, cancel):
                metrics.observe(event)
                if isinstance(event, TextDelta):
                    if event.text:
                        parts.append(event.text)
                elif isinstance(event, TurnDone):
                    stop_reason = event.stop_reason
                elif isinstance(event, BackendError):
                    error = event
                emit(event)
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
