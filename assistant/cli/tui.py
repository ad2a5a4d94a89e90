"""`assistant` with no command: the TUI, then one screen of what the session cost."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from rich.console import Console

from assistant.cli.context import start
from assistant.cli.exits import fail
from assistant.core import config as config_mod
from assistant.core.accounting.cost_summary import summarize
from assistant.core.config import Config, ConfigError
from assistant.core.paths import Paths
from assistant.core.store.ledger import LedgerError
from assistant.render.cost import one_screen_summary
from assistant.ui.app import make_app


def cmd_tui(paths: Paths, args: argparse.Namespace) -> int:
    config_error: str | None = None
    try:
        config = config_mod.load(paths.config_file)
    except ConfigError as exc:
        config, config_error = Config(), str(exc)
    config = start(paths, args, config)  # a bad flag is a usage error: exit 2
    app = make_app(config, config_error=config_error, resume=args.resume)
    app.run()
    _print_exit_summary(app.session)
    if app.fatal_error:
        return fail(app.fatal_error)
    return 0


def _print_exit_summary(session: Any) -> None:
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
