"""The `assistant` command.

Start-up stays fast: Textual, llama.cpp and the Anthropic SDK are imported only
by the subcommand that needs them, never for `--help` or `--version`.
"""

from __future__ import annotations

import argparse
import sys
import threading
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from assistant import __version__
from assistant.core import config as config_mod
from assistant.core.config import Config, ConfigError
from assistant.core.paths import Paths
from assistant.core.text import clean_text, decode_bytes, one_line

from assistant.cli.exits import EXIT_INTERRUPTED, EXIT_USAGE, HOW_TO_MEASURE, nothing_recorded
from assistant.cli.exits import fail as _fail
T = TypeVar("T")


def _add_setting_flags(parser: argparse.ArgumentParser, *, top: bool = False) -> None:
    """The same flags go before or after a subcommand; only the top level sets
    defaults, so a subcommand's parser cannot reset a flag given before it."""
    group = parser.add_argument_group("settings (override the config file)")
    if not top:
        group.argument_default = argparse.SUPPRESS
    group.add_argument("--backend", dest="general.backend", metavar="NAME", help="backend to use")
    group.add_argument("--model", dest="local.model_path", metavar="PATH", help="GGUF model file")
    group.add_argument("--n-ctx", dest="local.n_ctx", type=int, metavar="N", help="context size")
    group.add_argument("--n-gpu-layers", dest="local.n_gpu_layers", type=int, metavar="N")
    group.add_argument("--n-threads", dest="local.n_threads", type=int, metavar="N")
    group.add_argument("--max-tokens", dest="local.max_tokens", type=int, metavar="N")
    group.add_argument("--temperature", dest="local.temperature", type=float, metavar="T")
    group.add_argument(
        "--set",
        dest="assignments",
        action="append",
        metavar="SECTION.KEY=VALUE",
        help="any setting, e.g. --set cost.local_machine_per_hour=0.8",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="assistant",
        description="A terminal coding assistant: chat with a local llama.cpp model "
        "(or Claude) and see what every answer really cost and how fast it was.",
    )
    parser.add_argument("--version", action="version", version=f"assistant {__version__}")
    parser.add_argument(
        "--resume", nargs="?", const="last", default=None, metavar="ID",
        help="reopen the last chat of this folder, or session ID (see `assistant sessions`)",
    )
    _add_setting_flags(parser, top=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    ask = sub.add_parser("ask", help="answer one question on stdout (stats on stderr)")
    ask.add_argument("question", nargs="*", help="the question (read from stdin when omitted)")
    ask.add_argument("--quality", action="store_true", help="ask for the best answer there is (routes to Claude)")
    ask.add_argument("--kind", choices=["chat", "refactor", "batch"], default=None, help="the kind of work")
    ask.add_argument("--why", action="store_true", help="print the route decision on stderr")
    _add_setting_flags(ask)

    cfg = sub.add_parser("config", help="show the paths and effective settings")
    cfg.add_argument("--init", action="store_true", help="write a commented default config file")
    cfg.add_argument("--force", action="store_true", help="with --init: overwrite an existing file")
    cfg.add_argument(
        "--set-key",
        action="store_true",
        help="store the Claude API key (read from stdin, or prompted) in the config file, mode 0600",
    )
    _add_setting_flags(cfg)

    refactor = sub.add_parser("refactor", help="ask for an edit of one or more files, review the diff, apply and commit")
    refactor.add_argument("paths", nargs="+", metavar="PATH", help="files to refactor (several: a batch)")
    refactor.add_argument("-m", "--message", required=True, help="the instruction, e.g. \"extract a function\"")
    refactor.add_argument("--yes", action="store_true", help="apply without asking")
    refactor.add_argument("--allow-new", action="store_true", help="let the edit create files you did not name")
    _add_setting_flags(refactor)  # --backend claude|local|auto: who proposes (default: the router decides)

    sub.add_parser("undo", help="take back the app's last applied edit (its commit, or its backup outside git)")

    sessions = sub.add_parser("sessions", help="list the stored chats (resume one with --resume ID)")
    sessions.add_argument("--search", default="", help="only chats whose title, questions or answers contain this")
    export = sub.add_parser("export", help="write a stored chat as Markdown")
    export.add_argument("session", metavar="ID", help="the session (a unique prefix is enough)")
    export.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")

    from assistant.cli.report_args import add_parsers as add_report_parsers

    add_report_parsers(sub, _add_setting_flags)
    from assistant.cli.bench_args import add_parser as add_bench_parser

    add_bench_parser(sub)  # its own setting flags: its --backend is repeatable

    routers = sub.add_parser("routers", help="list the routers (installed and plugin files) and the chain in use")
    _add_setting_flags(routers)

    cost = sub.add_parser("cost", help="what sessions cost and how fast they were, from the ledger")
    scope = cost.add_mutually_exclusive_group()
    scope.add_argument("--session", metavar="ID", help="one session (default: the last one)")
    scope.add_argument("--since", metavar="WHEN", help="turns since: 7d, 12h, 2w, or a date (YYYY-MM-DD)")
    scope.add_argument("--all", action="store_true", help="every turn recorded")
    cost.add_argument("--by", choices=["backend", "model", "day"], default="backend", help="group rows by")
    output = cost.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="exact figures as JSON")
    output.add_argument("--csv", action="store_true", help="exact figures as CSV")
    _add_setting_flags(cost)
    return parser


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    flat = {k: v for k, v in vars(args).items() if "." in k and v is not None}
    for assignment in getattr(args, "assignments", None) or []:
        key, value = config_mod.parse_assignment(assignment)
        flat[key] = value
    return flat


def load_config(paths: Paths, args: argparse.Namespace) -> Config:
    return config_mod.load(paths.config_file).with_overrides(_overrides(args))


def _setup_logging(paths: Paths, config: Config) -> None:
    from assistant.core.logs import setup_logging

    setup_logging(paths, debug=config.general.debug_log, secrets=[config.anthropic_api_key])


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if getattr(args, "message", None):  # an instruction for the model: text, never bytes
        args.message = clean_text(args.message)
    paths = Paths.resolve()
    try:
        if args.command == "config":
            return cmd_config(paths, args)
        if args.command == "ask":
            return cmd_ask(paths, args)
        if args.command == "cost":
            return cmd_cost(paths, args)
        if args.command == "routers":
            return cmd_routers(paths, args)
        if args.command == "sessions":
            return cmd_sessions(paths, args)
        if args.command == "bench":
            from assistant.cli import bench as bench_cli

            config = load_config(paths, args)
            _setup_logging(paths, config)
            return bench_cli.cmd_bench(config, paths, args)
        if args.command in ("report", "plan"):
            from assistant.cli import report as report_cli

            config = load_config(paths, args)
            command = report_cli.cmd_report if args.command == "report" else report_cli.cmd_plan
            return command(config, paths, args)
        if args.command == "export":
            return cmd_export(paths, args)
        if args.command in ("refactor", "undo"):
            config = load_config(paths, args)
            _setup_logging(paths, config)
            from assistant.cli import refactor as refactor_cli

            if args.command == "undo":
                return refactor_cli.cmd_undo(config)
            return refactor_cli.cmd_refactor(config, args)
        return cmd_tui(paths, args)
    except ConfigError as exc:
        return _fail(f"config error: {exc}", EXIT_USAGE)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `assistant config | head`: the reader left, nothing to say
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:  # noqa: BLE001 - a bug of ours is one line here, its traceback in the log
        return _internal_error(paths, exc)


def _internal_error(paths: Paths, exc: Exception) -> int:
    """What a person sees of an error nothing else handled: one line that says where
    the details went (the log file, when it can be written)."""
    import logging

    from assistant.core.text import error_line

    logging.getLogger("assistant").error("unhandled error", exc_info=exc)
    return _fail(f"internal error: {error_line(exc, 200, whole=True)} (the details are in {paths.log_file})")


def cmd_config(paths: Paths, args: argparse.Namespace) -> int:
    if args.init:
        target = paths.config_file
        if target.exists() and not args.force:
            return _fail(f"{target} already exists (use --force to overwrite)")
        try:
            config_mod.write_private(target, config_mod.default_file_text())
        except OSError as exc:
            return _fail(f"cannot write {target}: {exc.strerror}")
        print(f"wrote {target}")
        return 0
    if args.set_key:
        return cmd_set_key(paths)
    config = load_config(paths, args)
    exists = "" if paths.config_file.exists() else "  (not created; `assistant config --init`)"
    print(f"config file  {paths.config_file}{exists}")
    print(f"data dir     {paths.data_dir}")
    print(f"log file     {paths.log_file}")
    print()
    for key, value in config_mod.effective_settings(config):
        shown = value if isinstance(value, config_mod.Masked) else config_mod.toml_value(value)
        print(f"{key} = {shown}")
    return 0


def cmd_set_key(paths: Paths) -> int:
    if sys.stdin is not None and not sys.stdin.isatty():
        key = sys.stdin.readline()
    else:
        import getpass

        key = getpass.getpass("Claude API key (not echoed): ")
    config_mod.store_api_key(paths.config_file, key)
    print(f"stored the API key in {paths.config_file} (readable only by you)")
    return 0


def _read_question(args: argparse.Namespace) -> str:
    """The question as text, whatever bytes it came as: argv words (decoded by
    Python with surrogateescape) and piped stdin (read as bytes) both turn what is
    not UTF-8 into U+FFFD, so nothing downstream (the ledger, the API) meets a
    lone surrogate."""
    if args.question:
        return clean_text(" ".join(args.question))
    stdin = sys.stdin
    if stdin is None or stdin.isatty():
        return ""
    buffer = getattr(stdin, "buffer", None)
    if buffer is not None:
        return decode_bytes(buffer.read())
    return clean_text(stdin.read())


def cmd_ask(paths: Paths, args: argparse.Namespace) -> int:
    config = load_config(paths, args)
    question = _read_question(args).strip()
    if not question:
        return _fail("no question: pass it as an argument or pipe it on stdin", EXIT_USAGE)
    _setup_logging(paths, config)

    from assistant.core.backends.protocol import BackendUnavailable
    from assistant.core.session.chat import AUTO, ChatSession
    from assistant.core.events import (
        FallbackStarted,
        Notice,
        Retrying,
        RouteDecided,
        SessionEvent,
        StreamEvent,
        TextDelta,
    )
    from assistant.core.store.ledger import Ledger
    from assistant.core.plugins import create_backend
    from assistant.core.routing.protocol import QUALITY
    from assistant.render.format import route_badge, turn_summary

    if config.general.backend == AUTO:
        backend = None  # the router chooses; the chosen backend loads before its turn starts
    else:
        backend = create_backend(config)
        try:
            backend.load()
        except BackendUnavailable as exc:
            if backend.capabilities.local or not config.claude.fallback_to_local:
                return _fail(str(exc))
            # A remote backend that cannot start: the turn falls back to the local model.
    # A fixed remote backend falls back to the local model as in the TUI
    # (`claude.fallback_to_local`): the session needs the local one to hand.
    fallback = None if backend is None or backend.capabilities.local else (lambda: create_backend(config, "local"))
    session = ChatSession(config, backend, ledger=Ledger.open, fallback=fallback)
    out = sys.stdout

    def on_event(event: StreamEvent | SessionEvent) -> None:
        if isinstance(event, TextDelta):
            if event.text:
                out.write(event.text)
                out.flush()
        elif isinstance(event, Retrying):
            print(f"assistant: {event.reason} Retrying in {event.wait_seconds:.1f} s.", file=sys.stderr)
        elif isinstance(event, FallbackStarted):
            print(f"assistant: {event.reason} Answering with {event.to_backend} instead.", file=sys.stderr)
        elif isinstance(event, Notice):
            print(f"assistant: {event.text}", file=sys.stderr)
        elif isinstance(event, RouteDecided) and args.why:
            print(f"route: {route_badge(event.decision)}", file=sys.stderr)

    cancel = threading.Event()
    flags = frozenset({QUALITY}) if args.quality else frozenset()
    try:
        result, interrupted = _run_interruptibly(
            lambda: session.run_turn(question, cancel, on_event, kind=args.kind, flags=flags), cancel
        )
    finally:
        session.close()
    if result.text and not result.text.endswith("\n"):
        out.write("\n")
        out.flush()
    if result.text or result.error is None:  # a turn that never started has nothing to measure
        print(f"{result.backend} · {result.model} · {turn_summary(result)}", file=sys.stderr)
    if session.ledger_error:
        print(f"assistant: cost not recorded: {one_line(session.ledger_error)}", file=sys.stderr)
    if interrupted:
        return _fail("cancelled (Ctrl+C); the partial answer is recorded", EXIT_INTERRUPTED)
    if result.error is not None:
        return _fail(result.error.message)
    return 0


def _run_interruptibly(run: Callable[[], T], cancel: threading.Event) -> tuple[T, bool]:
    """`run()` in a worker thread, and whether Ctrl+C stopped it.

    Python raises KeyboardInterrupt in the main thread only; the turn runs in a
    worker, so Ctrl+C lands here, sets `cancel`, and the turn ends the way the
    TUI's Esc ends it (cancelled, the partial answer kept and recorded in the
    ledger). A second Ctrl+C while it winds down leaves at once.
    """
    outcome: dict[str, Any] = {}
    done = threading.Event()  # not Thread.join: an interrupted join can wrongly report the thread ended

    def work() -> None:
        try:
            outcome["result"] = run()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the main thread
            outcome["error"] = exc
        finally:
            done.set()

    threading.Thread(target=work, name="ask-turn", daemon=True).start()
    interrupted = False
    while not done.is_set():
        try:
            done.wait(0.2)
        except KeyboardInterrupt:
            if interrupted:
                raise
            interrupted = True
            cancel.set()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"], interrupted


def cmd_tui(paths: Paths, args: argparse.Namespace) -> int:
    config_error: str | None = None
    try:
        config = config_mod.load(paths.config_file)
    except ConfigError as exc:
        config, config_error = Config(), str(exc)
    config = config.with_overrides(_overrides(args))  # a bad flag is a usage error: exit 2
    _setup_logging(paths, config)
    from assistant.ui.app import make_app

    app = make_app(config, config_error=config_error, resume=args.resume)
    app.run()
    _print_exit_summary(app.session)
    if app.fatal_error:
        return _fail(app.fatal_error)
    return 0


def _print_exit_summary(session: Any) -> None:
    """One screen of what the session cost, from the ledger (nothing when no turn ran)."""
    if session.last is None:
        return
    from rich.console import Console

    from assistant.core.accounting.cost_summary import summarize
    from assistant.core.store.ledger import LedgerError
    from assistant.render.cost import one_screen_summary

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


def _stored_sessions_ledger(paths: Paths):  # noqa: ANN202 - a Ledger, or None
    """The ledger for reading stored chats: read-only (see `Ledger.open_to_read`)."""
    from assistant.core.store.ledger import Ledger

    path = paths.ledger_file
    return Ledger.open_to_read(path) if Ledger.recorded(path) else None


def cmd_sessions(paths: Paths, args: argparse.Namespace) -> int:
    import time

    from assistant.core.store import sessions as session_store
    from assistant.core.store.ledger import LedgerError
    from assistant.render.format import cost

    load_config(paths, args)  # a broken config is said here as by every other command
    try:
        found = []
        if (ledger := _stored_sessions_ledger(paths)) is not None:
            with ledger:
                found = session_store.listing(ledger, clean_text(args.search))
    except LedgerError as exc:
        return _fail(str(exc))
    if not found:
        print("no stored chats yet" + (f" matching {args.search!r}" if args.search else ""))
        return 0
    for record, count in found:
        started = time.strftime("%Y-%m-%d %H:%M", time.localtime(record.started_at))
        print(f"{record.id}  {started}  {count:>3} exchange{'s' if count != 1 else ' '}  {cost(record.cost):>9}  {record.title or '–'}  ({record.cwd})")
    return 0


def cmd_export(paths: Paths, args: argparse.Namespace) -> int:
    from assistant.core.store import sessions as session_store
    from assistant.core.store.ledger import LedgerError
    from assistant.render.sessions import markdown

    load_config(paths, args)
    try:
        ledger = _stored_sessions_ledger(paths)
        if ledger is None:
            return _fail("no stored chats yet")
        with ledger:
            text = markdown(session_store.load(ledger, clean_text(args.session)))
    except LedgerError as exc:
        return _fail(str(exc))
    if args.output:
        try:
            from pathlib import Path

            from assistant.core.atomic import write_atomic

            write_atomic(Path(args.output), text.encode("utf-8"))  # a full disk leaves the old file
        except OSError as exc:
            return _fail(f"cannot write {args.output}: {exc.strerror}")
        print(f"wrote {args.output}")
    else:
        sys.stdout.write(text)
    return 0


def cmd_routers(paths: Paths, args: argparse.Namespace) -> int:
    """The routers that can be named in [router] chain, without importing them."""
    from assistant.core.routing.discovery import list_routers, plugin_dirs

    config = load_config(paths, args)
    chain = config.router.chain
    print(f"chain in use: {' → '.join(chain)} (then rules, when none decides)")
    print()
    routers = list_routers(config)
    width = max((len(r.name) for r in routers), default=4)
    for info in routers:
        used = "*" if info.name in chain else " "
        print(f"{used} {info.name.ljust(width)}  {info.source}")
    print()
    print("plugin folders: " + ", ".join(str(d) for d in plugin_dirs(config)))
    return 0


def cmd_cost(paths: Paths, args: argparse.Namespace) -> int:
    import time

    from assistant.core.accounting.cost_summary import parse_since, summarize
    from assistant.core.store.ledger import Ledger, LedgerError
    from assistant.render.cost import cost_table, summary_csv, summary_json

    load_config(paths, args)  # a broken config is said here as by every other command
    path = paths.ledger_file
    since: float | None = None
    if args.since and not args.all:
        try:
            since = parse_since(args.since, time.time())
        except ValueError as exc:
            return _fail(str(exc), EXIT_USAGE)
    records: list = []
    scope = "all turns" if args.all else f"since {args.since}" if args.since else "the last session"
    if Ledger.recorded(path):
        try:
            with Ledger.open_to_read(path) as ledger:
                if args.all:
                    records = ledger.turns()
                elif args.since:
                    records = ledger.turns(since=since)
                elif (session_id := args.session or ledger.last_session_id()) is not None:
                    records, scope = ledger.turns(session_id=session_id), f"session {session_id}"
        except LedgerError as exc:
            return _fail(str(exc))
    if not records and args.session:
        return _fail(f"no turns recorded for session {args.session}")  # a session named that has none
    nothing = None if records else f"no turns recorded ({scope})"
    summary = summarize(records, by=args.by)
    if args.json:  # a valid summary, empty when nothing is recorded, with the reason
        sys.stdout.write(summary_json(summary, reason=nothing and f"{nothing}: {HOW_TO_MEASURE}") + "\n")
    elif nothing and not args.csv:
        return nothing_recorded(nothing)
    elif args.csv:
        sys.stdout.write(summary_csv(summary))
    else:
        from rich.console import Console

        console = Console(markup=False)  # names and models are outside text, never markup
        console.print(cost_table(summary, title=f"Cost · {scope} · by {args.by}", width=console.width))
    return 0
