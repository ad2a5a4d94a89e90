"""How many turns each backend serves at once, and how fast they may start.

A batch refactor runs files concurrently: Claude up to `edits.claude_concurrency`
requests at once and at most `edits.claude_requests_per_second` started per
second (its own 429 handling still applies); an inference server as many as it
has slots (`max_concurrency`, from the server unless set); an in-process local
model generates one sequence at a time, so its turns queue.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator

from assistant.core.config import Config


class BackendLimits:
    def __init__(
        self,
        config: Config,
        local_names: set[str],
        slots: Callable[[str], int] = lambda name: 1,
        clock=time.monotonic,  # noqa: ANN001
        sleep=time.sleep,  # noqa: ANN001
    ) -> None:
        """`slots(name)`: how many sequences a server generates at once (asked once
        its backend is loaded, when its first turn is admitted)."""
        self._config = config
        self._local = local_names
        self._server_slots = slots
        self._clock, self._sleep = clock, sleep
        self._lock = threading.Lock()
        self._slots: dict[str, threading.Semaphore] = {}
        self._next_start: dict[str, float] = {}

    def _semaphore(self, name: str) -> threading.Semaphore:
        with self._lock:
            if name not in self._slots:
                if name in self._config.servers:
                    n = max(self._server_slots(name), 1)
                else:
                    n = 1 if name in self._local else self._config.edits.claude_concurrency
                self._slots[name] = threading.Semaphore(n)
            return self._slots[name]

    def _pace(self, name: str) -> None:
        if name in self._local or name in self._config.servers:  # Claude's request rate is Claude's
            return
        gap = 1.0 / self._config.edits.claude_requests_per_second
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
