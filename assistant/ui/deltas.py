"""Hand-over of streamed answer text from a worker thread to the UI."""

from __future__ import annotations

import threading
from collections.abc import Callable


class DeltaBuffer:
    """Answer text handed from the worker thread to the UI, coalesced, with backpressure.

    The worker pushes every token; the UI drains the buffer at its frame rate
    (`ui.answer_refresh_hz`), so a stream costs the UI a paint per frame, not
    per token. When more than `limit` characters wait for the screen, `push`
    asks for a paint at once (`on_full`) and blocks until the UI has painted:
    a producer far faster than the frame rate (a scripted stream, a tiny model
    on a big GPU) is then painted as fast as the screen can, and cannot pile
    more text on one frame than the frame renders quickly, which keeps the
    last token's way to the screen short. A real model at tens of tokens per
    second never waits.
    """

    def __init__(self, limit: int = 800, on_full: Callable[[], None] | None = None) -> None:
        self.limit = limit
        #: Called (from the producer's thread, once per batch) when the producer
        #: has to wait: the UI should paint now rather than at its next frame.
        self.on_full = on_full
        self._ready = threading.Condition()
        self._parts: list[str] = []
        self._pending = 0  # characters pushed and not yet on screen
        self._full_told = False

    def push(self, text: str, cancel: threading.Event) -> bool:
        """Add text; True when the UI must be told (the buffer was empty)."""
        with self._ready:
            if self._pending >= self.limit and not cancel.is_set() and self.on_full and not self._full_told:
                self._full_told = True
                self.on_full()
            while self._pending >= self.limit and not cancel.is_set():
                self._ready.wait(0.05)
            self._parts.append(text)
            self._pending += len(text)
            return len(self._parts) == 1

    def drain(self) -> str:
        """Take the waiting text; call `shown` once it is on screen."""
        with self._ready:
            text, self._parts = "".join(self._parts), []
            self._full_told = False
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
