"""The `assistant` command: one dispatch table, over the one parser tree (`parser`).

Each subcommand lives in its own module of this package, named in `COMMANDS`
and imported only when that subcommand runs: `--help` and `--version` import
no subcommand, and Textual, llama.cpp and the Anthropic SDK come only with the
subcommand that needs them. Every command gets its config and its log file
from `context.start`; every failure ends as one line and an exit code
(`exits`).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Callable, Sequence

from assistant.cli.context import never_fail_to_write
from assistant.cli.exits import EXIT_USAGE, exit_interrupted, fail
from assistant.cli.interrupt import signal_of, stop_signals
from assistant.cli.parser import parse_command_line
from assistant.core.config import ConfigError
from assistant.core.paths import Paths
from assistant.core.text import clean_text, error_line

# Each subcommand's `run(paths, args) -> exit code`, as "module:function" of this package.
COMMANDS: dict[str, str] = {
    "ask": "ask:cmd_ask",
    "bench": "bench:run",
    "config": "configure:cmd_config",
    "cost": "cost:cmd_cost",
    "eval": "evals:cmd_eval",
    "export": "sessions:cmd_export",
    "plan": "report:run_plan",
    "rate": "rate:cmd_rate",
    "redo": "rewind:cmd_redo",
    "refactor": "refactor:run_refactor",
    "report": "report:run_report",
    "rewind": "rewind:cmd_rewind",
    "routers": "routers:cmd_routers",
    "serve": "serve:cmd_serve",
    "servers": "servers:cmd_servers",
    "sessions": "sessions:cmd_sessions",
    "undo": "refactor:run_undo",
    None: "tui:cmd_tui",  # no subcommand: the TUI
}


def command(name: str | None) -> Callable[[Paths, argparse.Namespace], int]:
    module, function = COMMANDS[name].split(":")
    return getattr(importlib.import_module(f"assistant.cli.{module}"), function)


def main(argv: Sequence[str] | None = None) -> int:
    never_fail_to_write()
    args = parse_command_line(sys.argv[1:] if argv is None else argv)
    if getattr(args, "message", None):  # an instruction for the model: text, never bytes
        args.message = clean_text(args.message)
    paths = Paths.resolve()
    try:
        with stop_signals():  # SIGTERM and SIGHUP end a command as Ctrl+C does
            return command(args.command)(paths, args)
    except ConfigError as exc:
        return fail(f"config error: {exc}", EXIT_USAGE)
    except KeyboardInterrupt as stop:
        return exit_interrupted(signal_of(stop))
    except BrokenPipeError:  # `assistant config | head`: the reader left, nothing to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:  # noqa: BLE001 - a bug of ours is one line here, its traceback in the log
        return _internal_error(paths, exc)


def _internal_error(paths: Paths, exc: Exception) -> int:
    """What a person sees of an error nothing else handled: one line that says where
    the details went (the log file, when it can be written)."""
    logging.getLogger("assistant").error("unhandled error", exc_info=exc)
    return fail(f"internal error: {error_line(exc, 200, whole=True)} (the details are in {paths.log_file})")
