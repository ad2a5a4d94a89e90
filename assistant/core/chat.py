"""A chat session: the conversation, its backend, and what every turn measured and cost.

Shared by the TUI (which runs `run_turn` in a thread worker) and by
`assistant ask`, so both measure, cost and record turns the same way. Each
finished turn (cancelled and failed ones too) is written to the ledger.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from assistant.core.backend import Backend, BackendUnavailable
from assistant.core.config import Config
from assistant.core.conversation import Conversation
from assistant.core.events import (
    BackendError,
    FallbackStarted,
    SessionEvent,
    StreamEvent,
    TextDelta,
    TurnDone,
    Usage,
)
from assistant.core.metrics import Clock, SessionTotals, TurnMetrics, TurnStats

if TYPE_CHECKING:  # imported when the first turn needs them, not at start-up
    from assistant.core.ledger import Ledger, TurnRecord
    from assistant.core.pricing import PriceTable

log = logging.getLogger(__name__)

Outcome = str  # "ok" | "cancelled" | "interrupted" | "error"
# Failures the local model cannot do better on: falling back would only repeat them.
NO_FALLBACK_KINDS = {"context"}
TITLE_CHARS = 80


@dataclass(frozen=True, slots=True)
class TurnResult:
    text: str
    stats: TurnStats
    cost: float | None  # None: unknown (never shown as $0)
    outcome: Outcome
    stop_reason: str | None
    error: BackendError | None
    backend: str = ""
    model: str = ""
    usage: Usage | None = None
    counterfactual_cost: float | None = None
    # Set when another backend answered because this one could not.
    fallback_from: str | None = None
    fallback_reason: str | None = None


class ChatSession:
    def __init__(
        self,
        config: Config,
        backend: Backend,
        clock: Clock = time.monotonic,
        *,
        ledger: Callable[[], Ledger] | None = None,
        fallback: Callable[[], Backend] | None = None,
        session_id: str | None = None,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.backend = backend
        self.clock = clock
        self.wall_clock = wall_clock
        self.conversation = Conversation(system_prompt=config.general.system_prompt)
        self.totals = SessionTotals()
        self._prices: PriceTable | None = None
        #: The turn in progress, for live figures; read from other threads.
        self.current: TurnMetrics | None = None
        self.current_backend: Backend = backend
        self.last: TurnResult | None = None
        self._session_id = session_id
        self.started_at = wall_clock()
        self._ledger_factory = ledger
        self._ledger: Ledger | None = None
        self._ledger_lock = threading.Lock()  # the turn's worker and the /cost screen both open it
        self._session_written = False
        #: Why the last ledger write failed (None when it worked); the UI says it once.
        self.ledger_error: str | None = None
        self._fallback_factory = fallback
        self._fallback: Backend | None = None

    @property
    def session_id(self) -> str:
        if self._session_id is None:
            from assistant.core.ledger import new_session_id

            self._session_id = new_session_id()
        return self._session_id

    # -- backends ----------------------------------------------------------------

    def switch_backend(self, backend: Backend) -> None:
        old, self.backend = self.backend, backend
        self.current_backend = backend
        if old is backend:
            return
        if old.capabilities.local and not backend.capabilities.local and self._fallback is None:
            self._fallback = old  # keep the loaded local model: Claude's turns fall back to it
        elif old is not self._fallback:
            old.close()

    def fallback_backend(self) -> Backend | None:
        if self._fallback is None and self._fallback_factory is not None:
            self._fallback = self._fallback_factory()
        return self._fallback

    def close(self) -> None:
        for backend in {id(b): b for b in (self.backend, self._fallback) if b is not None}.values():
            backend.close()
        if self._ledger is not None:
            self._ledger.close()

    def clear(self) -> None:
        self.conversation.clear()

    # -- figures -----------------------------------------------------------------

    @property
    def prices(self) -> PriceTable:
        if self._prices is None:
            from assistant.core.pricing import price_table

            self._prices = price_table(self.config.prices)
        return self._prices

    def costs(
        self, backend: Backend, usage: Usage | None, elapsed: float, billed: bool
    ) -> tuple[float | None, float | None]:
        """(cost, counterfactual cost on the reference Claude model) of a turn."""
        from assistant.core.pricing import turn_costs

        return turn_costs(
            self.prices,
            local=backend.capabilities.local,
            model=(usage.model if usage and usage.model else backend.model_name),
            usage=usage,
            billed=billed,
            elapsed=elapsed,
            machine_per_hour=self.config.cost.local_machine_per_hour,
            reference_model=self.config.cost.reference_model,
        )

    def live(self) -> tuple[TurnStats, float | None] | None:
        """The turn in progress (or else the last one): its figures and its cost so far."""
        current = self.current
        if current is not None:
            stats = current.snapshot()
            cost, _ = self.costs(self.current_backend, current.usage, stats.elapsed, billed=True)
            return stats, cost
        if self.last is not None:
            return self.last.stats, self.last.cost
        return None

    def context_fill(self, stats: TurnStats | None = None) -> float | None:
        """Share of the backend's context a turn uses (prompt + answer): `stats`
        when given, else the turn in progress, else the last one."""
        if stats is None:
            live = self.live()
            stats = live[0] if live else None
        if stats is None or stats.tokens_in is None:
            return None
        return (stats.tokens_in + stats.tokens_out) / self.current_backend.capabilities.context_size

    # -- turns -------------------------------------------------------------------

    def _events(self, backend: Backend, cancel: threading.Event) -> Iterator[StreamEvent]:
        """The backend's events; a backend that raises becomes a `BackendError`."""
        try:
            yield from backend.stream(self.conversation.for_backend(), cancel)
        except Exception as exc:  # third-party backends must not take the app down
            yield BackendError(f"{backend.name} failed: {type(exc).__name__}: {exc}")

    def run_turn(
        self,
        text: str,
        cancel: threading.Event,
        on_event: Callable[[StreamEvent | SessionEvent], None] | None = None,
        *,
        route_reason: str = "",
    ) -> TurnResult:
        """Send `text`, stream the answer through `on_event`, and record the turn.

        The model must already be loaded when the turn's clock should not include
        the load (the UI and `ask` load first). When a remote backend fails
        before any text arrived, the local backend answers instead (config
        `claude.fallback_to_local`) and `on_event` hears a `FallbackStarted`.
        """
        self.conversation.add("user", text)
        started = self.wall_clock()
        result = self._attempt(self.backend, cancel, on_event, route_reason)
        self._record(result, started, route_reason)
        fallback = self._fallback_for(result, cancel)
        if fallback is not None:
            reason = result.error.message if result.error else "unavailable"
            if on_event is not None:
                on_event(FallbackStarted(self.backend.name, fallback.name, fallback.model_name, reason))
            first = result
            why = f"fallback from {self.backend.name}: {first.error.kind if first.error else 'error'}"
            started = self.wall_clock()
            result = self._attempt(fallback, cancel, on_event, why, fallback_from=first)
            self._record(result, started, why)
        if result.text:
            # A cancelled or failed answer stays in the conversation as far as it got,
            # so the context matches what the user saw.
            self.conversation.add("assistant", result.text)
        elif result.outcome != "ok":
            self.conversation.messages.pop()  # nothing came back: forget the question
        self.last = result
        return result

    def _fallback_for(self, result: TurnResult, cancel: threading.Event) -> Backend | None:
        if (
            result.outcome != "error"
            or result.text
            or cancel.is_set()
            or self.backend.capabilities.local
            or not self.config.claude.fallback_to_local
            or (result.error is not None and result.error.kind in NO_FALLBACK_KINDS)
        ):
            return None
        try:
            backend = self.fallback_backend()
            if backend is None or backend is self.backend:
                return None
            backend.load()
        except BackendUnavailable as exc:
            log.info("no fallback: %s", exc)
            return None
        except Exception:  # a broken plugin: no fallback, the first error stands
            log.exception("fallback backend failed to load")
            return None
        return backend

    def _attempt(
        self,
        backend: Backend,
        cancel: threading.Event,
        on_event: Callable[[StreamEvent | SessionEvent], None] | None,
        route_reason: str,
        fallback_from: TurnResult | None = None,
    ) -> TurnResult:
        metrics = TurnMetrics(self.clock)
        self.current_backend = backend
        self.current = metrics
        parts: list[str] = []
        error: BackendError | None = None
        stop_reason: str | None = None
        for event in self._events(backend, cancel):
            metrics.observe(event)
            if isinstance(event, TextDelta):
                if event.text:
                    parts.append(event.text)
            elif isinstance(event, TurnDone):
                stop_reason = event.stop_reason
            elif isinstance(event, BackendError):
                error = event
            if on_event is not None:
                on_event(event)
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
        self.totals.add(stats, cost)
        self.current = None
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
            fallback_from=fallback_from.backend if fallback_from else None,
            fallback_reason=fallback_from.error.message if fallback_from and fallback_from.error else None,
        )

    # -- the ledger --------------------------------------------------------------

    def ledger(self) -> Ledger | None:
        """The ledger, opened on first use (off the UI thread); None when it cannot be."""
        with self._ledger_lock:
            if self._ledger is None and self._ledger_factory is not None:
                from assistant.core.ledger import LedgerError

                try:
                    self._ledger = self._ledger_factory()
                except LedgerError as exc:
                    self.ledger_error = str(exc)
                    self._ledger_factory = None  # said once; not tried again every turn
            return self._ledger

    def _record(self, result: TurnResult, started_at: float, route_reason: str) -> None:
        ledger = self.ledger()
        if ledger is None:
            return
        from assistant.core.ledger import LedgerError

        try:
            if not self._session_written:
                title = " ".join(self.conversation.messages[0].content.split())[:TITLE_CHARS]
                ledger.start_session(self.session_id, started_at=self.started_at, cwd=os.getcwd(), title=title)
                self._session_written = True
            ledger.record_turn(turn_record(self.session_id, started_at, result, route_reason, self.config))
            self.ledger_error = None
        except LedgerError as exc:
            log.warning("turn not recorded: %s", exc)
            self.ledger_error = str(exc)


def turn_record(session_id: str, started_at: float, result: TurnResult, route_reason: str, config: Config) -> TurnRecord:
    from assistant.core.ledger import TurnRecord

    s, u = result.stats, result.usage
    return TurnRecord(
        session_id=session_id,
        started_at=started_at,
        backend=result.backend,
        model=result.model,
        outcome=result.outcome,
        route_reason=route_reason,
        prompt_tokens=u.prompt_tokens if u else None,
        completion_tokens=s.tokens_out,
        cache_read_tokens=u.cache_read_tokens if u else 0,
        cache_write_tokens=u.cache_write_tokens if u else 0,
        cache_write_1h_tokens=u.cache_write_1h_tokens if u else 0,
        prompt_tokens_evaluated=u.prompt_tokens_evaluated if u else None,
        usage_estimated=bool(u and u.estimated),
        ttft=s.ttft,
        generation_seconds=s.generation_seconds,
        elapsed=s.elapsed,
        tokens_per_second=s.generation_tps,
        cost=result.cost,
        counterfactual_cost=result.counterfactual_cost,
        reference_model=config.cost.reference_model,
        error=result.error.message if result.error else "",
    )
