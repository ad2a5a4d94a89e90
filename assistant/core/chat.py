"""A chat session: the conversation, its backend, and what every turn measured.

Shared by the TUI (which runs `run_turn` in a thread worker) and by
`assistant ask`, so both measure and cost turns the same way.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from assistant.core.backend import Backend
from assistant.core.config import Config
from assistant.core.conversation import Conversation
from assistant.core.events import BackendError, StreamEvent, TextDelta, TurnDone
from assistant.core.metrics import Clock, SessionTotals, TurnMetrics, TurnStats
from assistant.core.pricing import local_turn_cost

Outcome = str  # "ok" | "cancelled" | "error"


@dataclass(frozen=True, slots=True)
class TurnResult:
    text: str
    stats: TurnStats
    cost: float | None  # None: unknown (never shown as $0)
    outcome: Outcome
    stop_reason: str | None
    error: BackendError | None


class ChatSession:
    def __init__(self, config: Config, backend: Backend, clock: Clock = time.monotonic) -> None:
        self.config = config
        self.backend = backend
        self.clock = clock
        self.conversation = Conversation(system_prompt=config.general.system_prompt)
        self.totals = SessionTotals()
        #: The turn in progress, for live figures; read from other threads.
        self.current: TurnMetrics | None = None
        self.last: TurnResult | None = None

    def switch_backend(self, backend: Backend) -> None:
        old, self.backend = self.backend, backend
        if old is not backend:
            old.close()

    def clear(self) -> None:
        self.conversation.clear()

    def turn_cost(self, stats: TurnStats) -> float | None:
        if self.backend.capabilities.local:
            return local_turn_cost(self.config.cost.local_machine_per_hour, stats.elapsed)
        return None

    def context_fill(self, stats: TurnStats | None = None) -> float | None:
        """Share of the backend's context a turn uses (prompt + answer): `stats`
        when given, else the turn in progress, else the last one."""
        if stats is None:
            current = self.current
            stats = current.snapshot() if current else (self.last.stats if self.last else None)
        if stats is None or stats.tokens_in is None:
            return None
        return (stats.tokens_in + stats.tokens_out) / self.backend.capabilities.context_size

    def _events(self, cancel: threading.Event) -> Iterator[StreamEvent]:
        """The backend's events; a backend that raises becomes a `BackendError`."""
        try:
            yield from self.backend.stream(self.conversation.for_backend(), cancel)
        except Exception as exc:  # third-party backends must not take the app down
            yield BackendError(f"{self.backend.name} failed: {type(exc).__name__}: {exc}")

    def run_turn(
        self,
        text: str,
        cancel: threading.Event,
        on_event: Callable[[StreamEvent], None] | None = None,
    ) -> TurnResult:
        """Send `text`, stream the answer through `on_event`, and record the turn.

        The model must already be loaded when the turn's clock should not include
        the load (the UI and `ask` load first).
        """
        self.conversation.add("user", text)
        metrics = TurnMetrics(self.clock)
        self.current = metrics
        parts: list[str] = []
        error: BackendError | None = None
        stop_reason: str | None = None
        for event in self._events(cancel):
            metrics.observe(event)
            if isinstance(event, TextDelta):
                parts.append(event.text)
            elif isinstance(event, TurnDone):
                stop_reason = event.stop_reason
            elif isinstance(event, BackendError):
                error = event
            if on_event is not None:
                on_event(event)
        if metrics.end is None:  # a backend that ended without saying so
            metrics.observe(BackendError("the backend ended the turn without finishing it"))
        answer = "".join(parts)
        if answer:
            # A cancelled or failed answer stays in the conversation as far as it got,
            # so the context matches what the user saw.
            self.conversation.add("assistant", answer)
        elif error is not None or stop_reason == "cancelled":
            self.conversation.messages.pop()  # nothing came back: forget the question
        stats = metrics.snapshot()
        cost = self.turn_cost(stats)
        self.totals.add(stats, cost)
        outcome = metrics.outcome or "error"
        self.current = None
        self.last = TurnResult(answer, stats, cost, outcome, stop_reason, error)
        return self.last
