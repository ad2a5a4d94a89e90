"""`assistant` with no command: the TUI, then one screen of what the session cost.

Textual leaves SIGTERM and SIGHUP at their default, which kills the process in
raw mode on the alternate screen, with the answer that streams lost: here they
quit as Ctrl+Q does (the answer cancelled and recorded, the terminal restored)."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from typing import TYPE_CHECKING

from rich.console import Console

from assistant.cli.context import start
from assistant.cli.exits import exit_interrupted, fail
from assistant.cli.interrupt import FATAL_STOP_SIGNALS, Stopped, on_stop_signals
from assistant.core import config as config_mod
from assistant.core import routing
from assistant.core.accounting.cost_summary import summarize
from assistant.core.config import Config, ConfigError
from assistant.core.paths import Paths
from assistant.core.store.ledger import LedgerError
from assistant.render.cost import one_screen_summary
from assistant.ui.app import AppOptions, make_app

if TYPE_CHECKING:
    from assistant.core.session.chat import ChatSession


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
    app = make_app(config, AppOptions(config_error=config_error, resume=args.resume))
    stopped_by: list[int] = []

    def quit_app(signum: int) -> None:
        stopped_by.append(signum)
        try:
            loop = asyncio.get_running_loop()  # the handler runs on the app's own thread
        except RuntimeError:  # the app has not started, or has ended: nothing to quit
            raise Stopped(signum) from None
        try:  # threadsafe: it wakes the loop, which may be waiting in select()
            loop.call_soon_threadsafe(app.call_next, app.action_quit)
        except RuntimeError:  # the loop closed as the signal came: the app has ended
            pass

    with on_stop_signals(quit_app, FATAL_STOP_SIGNALS):
        app.run()
    if getattr(signal, "SIGHUP", None) not in stopped_by:  # a hung-up terminal has no one to read it
        _print_exit_summary(app.session)
    if app.fatal_error:
        return fail(app.fatal_error)
    return exit_interrupted(stopped_by[0]) if stopped_by else 0


def _print_exit_summary(session: ChatSession) -> None:
    """One screen of what the session cost, from the ledger (nothing when no turn ran)."""
    if session.last is None:
        return
    ledger = session.ledger()
    if ledger is None:
        return
    try:
        records = ledger.turns(session_id=session.session_id)
    except LedgerError as exc:
        print(f"assistant: {exc}", file=sys.stderr)
        return
    if records:
        Console(markup=False).print(one_screen_summary(summarize(records, by="backend"), session_id=session.session_id))
