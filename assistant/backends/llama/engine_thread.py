"""One long-lived thread for all of a local model's computation.

llama.cpp's CPU backend (built with OpenMP) runs each decode on a team of
threads owned by the thread that calls it, and libgomp keeps one team per
calling thread for as long as that thread lives. The app calls from many
threads: a Textual worker per turn, the CLI's main thread, a batch refactor's
pool. Two teams alive at once oversubscribe the cores (4 threads on 2), and
libgomp then stops spinning at its barriers and sleeps on a futex instead:
~12,000 context switches a second, and SmolLM2 on 2 cores went from 120 to 60
tokens/sec (measured: bench/tui_local.py, and the per-thread figures in its
docstring). Running every decode on this one thread keeps one team, whichever
thread asks.

`call` runs a function there and returns its result; `post` hands it a task
and returns at once (the scheduler of sequences.py posts its steps so).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class EngineThread:
    def __init__(self, name: str = "llama-engine") -> None:
        self._tasks: queue.SimpleQueue[Callable[[], None] | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._serve, name=name, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while (task := self._tasks.get()) is not None:
            task()  # each task catches its own errors and hands them over

    @property
    def is_current(self) -> bool:
        return threading.current_thread() is self._thread

    def call(self, fn: Callable[[], T]) -> T:
        """`fn()` on the engine thread (at once when already there); its exception is raised here."""
        if self.is_current:
            return fn()
        done = threading.Event()
        box: list = []

        def task() -> None:
            try:
                box.append((True, fn()))
            except BaseException as exc:  # noqa: BLE001 - handed to the caller
                box.append((False, exc))
            finally:
                done.set()

        self._tasks.put(task)
        done.wait()
        ok, value = box[0]
        if not ok:
            raise value
        return value

    def post(self, fn: Callable[[], None]) -> None:
        """`fn()` on the engine thread after the tasks already given; it catches its own errors."""
        self._tasks.put(fn)

    def close(self) -> None:
        """Stop the thread once the tasks already given have run."""
        self._tasks.put(None)
        if not self.is_current:
            self._thread.join(timeout=5)
