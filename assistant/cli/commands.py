"""The `assistant` command: one parser tree and one dispatch table.

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
import re
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn

from assistant import __version__
from assistant.cli.bench_args import add_parser as add_bench_parser
from assistant.cli.context import add_setting_flags, never_fail_to_write
from assistant.cli.exits import EXIT_USAGE, exit_interrupted, fail
from assistant.cli.interrupt import signal_of, stop_signals
from assistant.cli.report_args import add_parsers as add_report_parsers
from assistant.core.config import ConfigError
from assistant.core.paths import Paths
from assistant.core.text import clean_text, error_line

# Written out, not imported: `--help` loads no subcommand (tests check them against the core's).
KINDS = ("chat", "explain", "code", "edit", "batch")
VERDICTS = ("good", "bad", "none")

# Each subcommand's `run(paths, args) -> exit code`, as "module:function" of this package.
COMMANDS: dict[str, str] = {
    "ask": "ask:cmd_ask",
    "bench": "bench:run",
    "config": "configure:cmd_config",
    "cost": "cost:cmd_cost",
    "export": "sessions:cmd_export",
    "plan": "report:run_plan",
    "rate": "rate:cmd_rate",
    "refactor": "refactor:run_refactor",
    "report": "report:run_report",
    "routers": "routers:cmd_routers",
    "serve": "serve:cmd_serve",
    "servers": "servers:cmd_servers",
    "sessions": "sessions:cmd_sessions",
    "undo": "refactor:run_undo",
    None: "tui:cmd_tui",  # no subcommand: the TUI
}


class _Parser(argparse.ArgumentParser):
    """argparse saying back what was typed (`invalid choice: '…'`, `unrecognized
    arguments: …`) short, on one line, with no terminal escape in it."""

    def error(self, message: str) -> NoReturn:
        message = _LONG_QUOTED.sub(lambda m: f"'{m.group(1)[:QUOTED_CHARS]}…'", message)
        message = message if message.isprintable() else ascii(message)[1:-1]
        super().error(message if len(message) <= ERROR_CHARS else message[: ERROR_CHARS - 1] + "…")


QUOTED_CHARS, ERROR_CHARS = 60, 300
_LONG_QUOTED = re.compile(r"'([^']{%d})[^']+'" % QUOTED_CHARS)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="assistant",
        description="A terminal coding assistant: chat with a local llama.cpp model "
        "(or Claude) and see what every answer really cost and how fast it was.",
    )
    parser.add_argument("--version", action="version", version=f"assistant {__version__}")
    parser.add_argument(
        "--resume", nargs="?", const="last", default=None, metavar="ID",
        help="reopen the last chat of this folder, or session ID (see `assistant sessions`)",
    )
    add_setting_flags(parser, top=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    ask = sub.add_parser("ask", help="answer one question on stdout (stats on stderr)")
    ask.add_argument("question", nargs="*", help="the question (read from stdin when omitted)")
    ask.add_argument("--quality", action="store_true", help="ask for the best answer there is (routes to Claude)")
    ask.add_argument("--kind", choices=KINDS, default=None, help="the kind of turn (default: read from the question)")
    ask.add_argument("--why", action="store_true", help="print the route decision on stderr")
    shape = ask.add_mutually_exclusive_group()
    shape.add_argument("--json", action="store_true", help="print the finished turn as one JSON object (run.schema.json)")
    shape.add_argument("--stream-json", action="store_true",
                       help="print one JSON object per line as the turn runs, the finished turn last")  # fmt: skip
    add_setting_flags(ask)

    cfg = sub.add_parser("config", help="show the paths and effective settings")
    cfg.add_argument("--init", action="store_true", help="write a commented default config file")
    cfg.add_argument("--force", action="store_true", help="with --init: overwrite an existing file")
    cfg.add_argument(
        "--set-key",
        action="store_true",
        help="store the Claude API key (read from stdin, or prompted) in the config file, mode 0600",
    )
    add_setting_flags(cfg)

    refactor = sub.add_parser("refactor", help="ask for an edit of one or more files, review the diff, apply and commit")
    refactor.add_argument("paths", nargs="+", metavar="PATH", help="files to refactor (several: a batch)")
    refactor.add_argument("-m", "--message", required=True, help="the instruction, e.g. \"extract a function\"")
    refactor.add_argument("--yes", action="store_true", help="apply without asking")
    refactor.add_argument("--allow-new", action="store_true", help="let the edit create files you did not name")
    refactor.add_argument("--json", action="store_true", help="the outcome per file as JSON on stdout (diffs on stderr)")
    add_setting_flags(refactor)  # --backend claude|local|auto: who proposes (default: the router decides)

    sub.add_parser("undo", help="take back the app's last applied edit (its commit, or its backup outside git)")

    sessions = sub.add_parser("sessions", help="list the stored chats (resume one with --resume ID)")
    sessions.add_argument("--search", default="", help="only chats whose title, questions or answers contain this")
    export = sub.add_parser("export", help="write a stored chat as Markdown")
    export.add_argument("session", metavar="ID", help="the session (a unique prefix is enough)")
    export.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")

    rate = sub.add_parser("rate", help="rate an answer good or bad (what the quality router learns from)")
    rate.add_argument("session", metavar="SESSION", help="the session's id (a unique prefix is enough), or `last`")
    rate.add_argument("turn", metavar="TURN", help="the answered turn's number in the session, from 1, or `last`")
    rate.add_argument("verdict", choices=VERDICTS, help="good, bad, or none to take a rating back")

    add_report_parsers(sub, add_setting_flags)
    add_bench_parser(sub)  # its own setting flags: its --backend is repeatable

    routers = sub.add_parser("routers", help="list the routers (installed and plugin files) and the chain in use")
    add_setting_flags(routers)
    serve = sub.add_parser("serve", help="the TUI in a browser (textual-serve); loopback only unless --host says otherwise")
    serve.add_argument("--host", default="127.0.0.1", help="the address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="the port (default 8000)")
    serve.add_argument("app_args", nargs=argparse.REMAINDER, metavar="-- SETTINGS",
                       help="flags for each app it starts, after --: e.g. -- --model x.gguf --set ui.theme=nord")  # fmt: skip
    servers = sub.add_parser("servers", help="the inference servers of [servers.NAME]: reachable?, model, context, slots, speed")
    servers.add_argument("--json", action="store_true", help="the same as JSON")
    add_setting_flags(servers)

    cost = sub.add_parser("cost", help="what sessions cost and how fast they were, from the ledger")
    scope = cost.add_mutually_exclusive_group()
    scope.add_argument("--session", metavar="ID", help="one session (default: the last one)")
    scope.add_argument("--since", metavar="WHEN", help="turns since: 7d, 12h, 2w, or a date (YYYY-MM-DD)")
    scope.add_argument("--all", action="store_true", help="every turn recorded")
    cost.add_argument("--by", choices=["backend", "model", "day"], default="backend", help="group rows by")
    output = cost.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="exact figures as JSON")
    output.add_argument("--csv", action="store_true", help="exact figures as CSV")
    add_setting_flags(cost)
    return parser


def command(name: str | None) -> Callable[[Paths, argparse.Namespace], int]:
    module, function = COMMANDS[name].split(":")
    return getattr(importlib.import_module(f"assistant.cli.{module}"), function)


def main(argv: Sequence[str] | None = None) -> int:
    never_fail_to_write()
    args = build_parser().parse_args(argv)
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
