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

`call` runs a function there and returns its result; `iterate` runs a
generator there and hands its items to the caller one at a time, in step (the
generator goes on only once the caller asks for the next item, as if it ran on
the caller's thread: a cancel set on seeing a token stops the very next one).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from typing import TypeVar

T = TypeVar("T")
_DONE = object()


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

    def iterate(self, make: Callable[[], Iterator[T]]) -> Iterator[T]:
        """The items of the generator `make()`, computed on the engine thread.

        When the caller stops early (closes this iterator), the generator is closed
        on the engine thread at its next item, and this returns once it has ended,
        so the engine is idle again before the caller goes on."""
        if self.is_current:
            yield from make()
            return
        out: queue.SimpleQueue = queue.SimpleQueue()
        taken: queue.SimpleQueue[None] = queue.SimpleQueue()  # the caller is done with an item: go on
        stop = threading.Event()

        def task() -> None:
            try:
                items = make()
                try:
                    for item in items:
                        out.put((True, item))
                        taken.get()
                        if stop.is_set():
                            break
                finally:
                    items.close()  # type: ignore[attr-defined]
            except BaseException as exc:  # noqa: BLE001 - handed to the caller
                out.put((False, exc))
            finally:
                out.put(_DONE)

        self._tasks.put(task)
        finished = False
        try:
            while (got := out.get()) is not _DONE:
                ok, value = got
                if not ok:
                    finished = True
                    out.get()  # _DONE
                    raise value
                yield value
                # In step with the caller, as if it ran here: what it does with an
                # item (set a cancel event, wait for the screen) happens before the next.
                taken.put(None)
            finished = True
        finally:
            if not finished:
                stop.set()
                taken.put(None)
                while out.get() is not _DONE:
                    pass

    def close(self) -> None:
        """Stop the thread once the tasks already given have run."""
        self._tasks.put(None)
        if not self.is_current:
            self._thread.join(timeout=5)
