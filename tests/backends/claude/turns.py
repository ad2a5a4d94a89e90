"""One recorded `ClaudeBackend.stream()` turn, and the contract every turn must keep."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from assistant.backends.claude.backend import ClaudeBackend
from assistant.core.conversation import Message
from assistant.core.events import BackendError, Retrying, StreamEvent, TextDelta, TurnDone, Usage
from tests.conftest import TEST_KEY

WRONG_KEY = "sk-ant-wrong-9876543210fedcba"


@dataclass
class Turn:
    events: list[StreamEvent]
    times: list[float] = field(default_factory=list)  # monotonic time each event arrived
    started: float = 0.0
    ended: float = 0.0

    @property
    def elapsed(self) -> float:
        return self.ended - self.started

    @property
    def deltas(self) -> list[TextDelta]:
        """Every TextDelta, thinking's empty-text ones included."""
        return [e for e in self.events if isinstance(e, TextDelta)]

    @property
    def text_deltas(self) -> list[TextDelta]:
        return [d for d in self.deltas if d.text]

    @property
    def text(self) -> str:
        return "".join(d.text for d in self.deltas)

    @property
    def usages(self) -> list[Usage]:
        return [e for e in self.events if isinstance(e, Usage)]

    @property
    def api_usages(self) -> list[Usage]:
        return [u for u in self.usages if not u.estimated]

    @property
    def retries(self) -> list[Retrying]:
        return [e for e in self.events if isinstance(e, Retrying)]

    @property
    def last(self) -> StreamEvent:
        return self.events[-1]

    @property
    def error(self) -> BackendError:
        assert isinstance(self.last, BackendError), f"expected a BackendError, got {self.last!r}"
        return self.last


def check_contract(turn: Turn) -> None:
    """What every turn must satisfy, whatever happened."""
    events = turn.events
    assert events, "stream() yielded nothing"
    ends = [e for e in events if isinstance(e, TurnDone | BackendError)]
    assert len(ends) == 1 and events[-1] is ends[0], f"not exactly one final event, last: {events[-3:]}"
    if not (isinstance(events[0], BackendError) and len(events) == 1):  # an unloadable backend says only that
        assert isinstance(events[0], Usage) and events[0].estimated, f"first event: {events[0]!r}"
    text_seen = False
    for event in events:
        if isinstance(event, TextDelta) and event.text:
            text_seen = True
        if isinstance(event, Retrying):
            assert not text_seen, "a request was retried after text had arrived"
            assert "\n" not in event.reason and TEST_KEY not in event.reason
        if isinstance(event, BackendError):
            assert "\n" not in event.message, f"BackendError message is not one line: {event.message!r}"
            assert TEST_KEY not in event.message and WRONG_KEY not in event.message
    if text_seen and not (isinstance(events[-1], TurnDone) and events[-1].stop_reason in ("end_turn", "max_tokens")):
        # Text arrived, then the turn ended early: the final Usage is an estimate.
        final = events[-2]
        assert isinstance(final, Usage) and final.estimated, f"before the end: {final!r}"


def record(
    backend: ClaudeBackend,
    messages: Sequence[Message],
    cancel: threading.Event | None = None,
    on_event: Callable[[StreamEvent], None] | None = None,
) -> Turn:
    """Run one turn, keep its events and their arrival times, and check the contract."""
    turn = Turn([], started=time.monotonic())
    for event in backend.stream(messages, cancel or threading.Event()):
        turn.events.append(event)
        turn.times.append(time.monotonic())
        if on_event is not None:
            on_event(event)
    turn.ended = time.monotonic()
    check_contract(turn)
    return turn
