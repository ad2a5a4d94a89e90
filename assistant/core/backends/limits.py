"""How many turns each backend serves at once, and how fast they may start.

A batch refactor runs files concurrently, each backend as its `Capabilities`
say: up to `max_concurrency` turns at once (an API's setting, an inference
server's slots, one for an in-process model, whose turns queue) and at most
`requests_per_second` started per second where it has such a limit (its own
429 handling still applies).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator

from assistant.core.backends.protocol import Capabilities


class BackendLimits:
    def __init__(
        self,
        capabilities: Callable[[str], Capabilities],
        clock=time.monotonic,  # noqa: ANN001
        sleep=time.sleep,  # noqa: ANN001
    ) -> None:
        """`capabilities(name)`: the backend's, asked when its first turn is admitted
        (a server knows its slots once loaded)."""
        self._capabilities = capabilities
        self._clock, self._sleep = clock, sleep
        self._lock = threading.Lock()
        self._slots: dict[str, threading.Semaphore] = {}
        self._gaps: dict[str, float] = {}
        self._next_start: dict[str, float] = {}

    def _semaphore(self, name: str) -> threading.Semaphore:
        with self._lock:
            if name not in self._slots:
                caps = self._capabilities(name)
                self._slots[name] = threading.Semaphore(max(caps.max_concurrency, 1))
                self._gaps[name] = 1.0 / caps.requests_per_second if caps.requests_per_second else 0.0
            return self._slots[name]

    def _pace(self, name: str) -> None:
        gap = self._gaps[name]
        if not gap:
            return
        with self._lock:
            now = self._clock()
            start = max(now, self._next_start.get(name, now))
            self._next_start[name] = start + gap
        if start > now:
            self._sleep(start - now)

    @contextlib.contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        with self._semaphore(name):
            self._pace(name)
            yield
