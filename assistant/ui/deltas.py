"""Hand-over of streamed answer text from a worker thread to the UI."""

from __future__ import annotations

import threading


class DeltaBuffer:
    """Answer text handed from the worker thread to the UI, coalesced, with backpressure.

    The worker pushes every token but posts `AnswerDelta` only when the buffer
    was empty, so a fast stream costs the UI one message per batch, not per
    token. When more than `limit` characters wait for the screen, `push` blocks
    until the UI has painted the previous batch: a producer far faster than the
    screen (a scripted stream, a tiny model on a big GPU) then cannot pile more
    text on one frame than the frame can render quickly, which keeps the last
    token's way to the screen short. A real model at tens of tokens per second
    never waits.
    """

    def __init__(self, limit: int = 800) -> None:
        self.limit = limit
        self._ready = threading.Condition()
        self._parts: list[str] = []
        self._pending = 0  # characters pushed and not yet on screen

    def push(self, text: str, cancel: threading.Event) -> bool:
        """Add text; True when the UI must be told (the buffer was empty)."""
        with self._ready:
            while self._pending >= self.limit and not cancel.is_set():
                self._ready.wait(0.05)
            self._parts.append(text)
            self._pending += len(text)
            return len(self._parts) == 1

    def drain(self) -> str:
        """Take the waiting text; call `shown` once it is on screen."""
        with self._ready:
            text, self._parts = "".join(self._parts), []
        return text

    @property
    def waiting(self) -> bool:
        """Whether text waits to be drained."""
        return bool(self._parts)

    @property
    def pending(self) -> int:
        """Characters pushed and not yet on screen."""
        return self._pending

    def shown(self, text: str) -> None:
        with self._ready:
            self._pending = max(0, self._pending - len(text))
            self._ready.notify_all()
