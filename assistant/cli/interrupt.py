"""Ending a long command from outside: Ctrl+C, and SIGTERM and SIGHUP exactly as
Ctrl+C. CI timeouts and service managers send TERM, a closed terminal sends HUP;
a command they end must leave the same true record as one Ctrl+C ends (the turn
cancelled and recorded, the final JSON written, the terminal restored), and exit
with 128 + the signal's number, as a shell reports a process that signal killed.

During `run_interruptibly` the work runs in a worker thread, and a stop signal asks
it to stop (as the TUI's Esc does) instead of tearing the process down. The signal
is taken by a handler for the length of the run, not caught as an exception: Python
may raise one at any bytecode of the main thread, outside any `try`, and a signal
that escaped the waiting loop would leave the command waiting on a turn nobody
cancelled. A second signal while the work winds down leaves at once.

Outside such a run (`stop_signals`, for a whole command), TERM and HUP raise
`Stopped`, a KeyboardInterrupt, where Ctrl+C raises one: the code that cleans up
after Ctrl+C cleans up after them too.

A signal the command was started with ignored (`nohup` ignores HUP, a shell ignores
INT for a background job) stays ignored.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any, TypeVar

T = TypeVar("T")

STOP_SIGNALS: tuple[int, ...] = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)
# Those Python leaves at their default, which kills the process with no record.
FATAL_STOP_SIGNALS = tuple(s for s in STOP_SIGNALS if s != signal.SIGINT)


class Stopped(KeyboardInterrupt):
    """A stop signal, raised where Ctrl+C raises KeyboardInterrupt."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal_name(signum))
        self.signum = signum


def signal_of(stop: KeyboardInterrupt) -> int:
    """The signal that raised `stop` (Python's own KeyboardInterrupt is Ctrl+C's)."""
    return getattr(stop, "signum", signal.SIGINT)


def signal_name(signum: int) -> str:
    """How a person names the signal: Ctrl+C for SIGINT, else its name."""
    return "Ctrl+C" if signum == signal.SIGINT else signal.Signals(signum).name


@contextmanager
def on_stop_signals(handler: Callable[[int], None], signals: tuple[int, ...] = STOP_SIGNALS) -> Iterator[None]:
    """`handler(signum)` for each of `signals` for the length of the block, the
    previous handlers back after it. Only the main thread can take signals: in any
    other this does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous: dict[int, Any] = {}
    try:
        for signum in signals:
            if signal.getsignal(signum) != signal.SIG_IGN:
                previous[signum] = signal.signal(signum, lambda number, frame: handler(number))
        yield
    finally:
        for signum, before in previous.items():
            signal.signal(signum, before)


def _raise_stopped(signum: int) -> None:
    raise Stopped(signum)


def stop_signals() -> AbstractContextManager[None]:
    """For a whole command: TERM and HUP raise `Stopped` as Ctrl+C raises KeyboardInterrupt."""
    return on_stop_signals(_raise_stopped, FATAL_STOP_SIGNALS)


def run_interruptibly(run: Callable[[], T], cancel: threading.Event, *, name: str = "work") -> tuple[T, int | None]:
    """`run()` in a worker thread, and the stop signal that asked it to stop
    (`cancel` set), or None. What `run` raises is raised again here."""
    outcome: dict[str, Any] = {}
    done = threading.Event()  # not Thread.join: an interrupted join can wrongly report the thread ended
    stopped_by: list[int] = []

    def work() -> None:
        try:
            outcome["result"] = run()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the main thread
            outcome["error"] = exc
        finally:
            done.set()

    def on_stop(signum: int) -> None:
        if stopped_by:
            raise Stopped(signum)
        stopped_by.append(signum)
        cancel.set()

    with on_stop_signals(on_stop):
        threading.Thread(target=work, name=name, daemon=True).start()
        while not done.wait(0.2):
            pass
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"], (stopped_by[0] if stopped_by else None)
