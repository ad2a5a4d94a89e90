"""`assistant` with no command: the TUI, then one screen of what the session cost.

Textual leaves SIGTERM and SIGHUP at their default, which kills the process in
raw mode on the alternate screen, with the answer that streams lost: here they
quit as Ctrl+Q does (the answer cancelled and recorded, the terminal restored).
That quit runs on the app's event loop; a loop too busy or wedged to run it within
LEAVE_AFTER_SECONDS, or a second signal, gets the terminal given back from outside
it (cli/terminal.py) and the process ends at once: the next signal would be SIGKILL.

The exit summary's modules (the ledger, sqlite3, the cost tables) are read through
their packages' lazy exports: they load when the app ends, not before its first frame."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
import threading
from typing import TYPE_CHECKING

from rich.console import Console

from assistant.cli.context import backend_named_by, start
from assistant.cli.exits import exit_interrupted, fail
from assistant.cli.interrupt import FATAL_STOP_SIGNALS, Stopped, on_stop_signals, signal_name
from assistant.cli.terminal import Terminal
from assistant import render
from assistant.core import accounting, routing, store
from assistant.core import config as config_mod
from assistant.core.config import Config, ConfigError
from assistant.core.paths import Paths
from assistant.ui.app import AppOptions, make_app

if TYPE_CHECKING:
    from assistant.core.session.chat import ChatSession

log = logging.getLogger(__name__)
# Longer than a cancelled answer takes to stop and be recorded; shorter than what a
# service manager waits before SIGKILL (docker's 10 s).
LEAVE_AFTER_SECONDS = 5.0


def read_config(paths: Paths) -> tuple[Config, str | None]:
    """The config file's settings, its plugins' tables checked too; the defaults and the
    one-line error when something in it is wrong: the TUI starts anyway and says so."""
    try:
        config = config_mod.load(paths.config_file)
        routing.check_settings(config)
    except ConfigError as exc:
        return Config(), str(exc)
    return config, None


def cmd_tui(paths: Paths, args: argparse.Namespace) -> int:
    config, config_error = read_config(paths)
    config = start(paths, args, config)  # a bad flag is a usage error: exit 2
    app = make_app(config, AppOptions(config_error=config_error, resume=args.resume, named_by=backend_named_by(args)))
    terminal = Terminal.found()
    stopped_by: list[int] = []
    deadlines: list[threading.Timer] = []

    def quit_app(signum: int) -> None:
        if stopped_by:  # told again while it ends
            _leave_now(terminal, signum, "sent again while the app ended")
        stopped_by.append(signum)
        try:
            loop = asyncio.get_running_loop()  # the handler runs on the app's own thread
        except RuntimeError:  # the app has not started, or has ended: nothing to quit
            raise Stopped(signum) from None
        try:  # threadsafe: it wakes the loop, which may be waiting in select()
            loop.call_soon_threadsafe(app.call_next, app.action_quit)
        except RuntimeError:  # the loop closed as the signal came: the app has ended
            return
        why = f"the app had not ended {LEAVE_AFTER_SECONDS:.0f} s after it"
        deadline = threading.Timer(LEAVE_AFTER_SECONDS, _leave_now, (terminal, signum, why))
        deadline.daemon = True
        deadlines.append(deadline)
        deadline.start()

    with on_stop_signals(quit_app, FATAL_STOP_SIGNALS):
        try:
            app.run()
        finally:
            for deadline in deadlines:
                deadline.cancel()
    # A hung-up terminal has no one to read it; in a browser tab (`serve`) stdout is the page's pipe.
    if getattr(signal, "SIGHUP", None) not in stopped_by and not app.is_web:
        _print_exit_summary(app.session)
    if app.fatal_error:
        return fail(app.fatal_error)
    return exit_interrupted(stopped_by[0]) if stopped_by else 0


def _leave_now(terminal: Terminal, signum: int, why: str) -> None:
    """The terminal given back, one line said, and out with the signal's exit code,
    from whatever thread: the app's loop is not running its quit."""
    said = f"{signal_name(signum)}: {why}; left at once (the answer under way may be unrecorded)"
    log.warning("the TUI: %s", said)
    terminal.give_back()
    with contextlib.suppress(OSError):  # a hung-up terminal takes no line
        os.write(2, f"assistant: {said}\n".encode())
    os._exit(exit_interrupted(signum))


def _print_exit_summary(session: ChatSession) -> None:
    """One screen of what the session cost, from the ledger (nothing when no turn ran)."""
    if session.last is None:
        return
    ledger = session.ledger()
    if ledger is None:
        return
    try:
        ids = session.status().session_ids
        records = ledger.turns(session_ids=ids) if ids else []
    except store.LedgerError as exc:
        print(f"assistant: {exc}", file=sys.stderr)
        return
    if records:
        summary = accounting.summarize(records, by="backend")
        Console(markup=False).print(render.one_screen_summary(summary, session_id=session.session_id))
