"""Ctrl+C during a long command: the work runs in a worker thread, and Ctrl+C asks
it to stop (as the TUI's Esc does) instead of tearing the process down.

SIGINT is taken by a handler for the length of the run, not caught as a
KeyboardInterrupt: Python may raise that at any bytecode of the main thread,
outside any `try`, and a Ctrl+C that escaped the waiting loop would leave the
command waiting on a turn nobody cancelled. A second Ctrl+C while the work winds
down leaves at once (KeyboardInterrupt, as without the handler).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


def run_interruptibly(run: Callable[[], T], cancel: threading.Event, *, name: str = "work") -> tuple[T, bool]:
    """`run()` in a worker thread, and whether Ctrl+C asked it to stop (`cancel` set).
    What `run` raises is raised again here."""
    outcome: dict[str, Any] = {}
    done = threading.Event()  # not Thread.join: an interrupted join can wrongly report the thread ended
    interrupted = threading.Event()

    def work() -> None:
        try:
            outcome["result"] = run()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the main thread
            outcome["error"] = exc
        finally:
            done.set()

    def on_sigint(signum: int, frame: object) -> None:
        if interrupted.is_set():
            raise KeyboardInterrupt
        interrupted.set()
        cancel.set()

    main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, on_sigint) if main else None
    try:
        threading.Thread(target=work, name=name, daemon=True).start()
        while not done.wait(0.2):
            pass
    finally:
        if main:
            signal.signal(signal.SIGINT, previous)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"], interrupted.is_set()
