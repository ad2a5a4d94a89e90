"""The `assistant` command.

Start-up stays fast: Textual, llama.cpp and the Anthropic SDK are imported only
by the subcommand that needs them, never for `--help` or `--version`.
"""

from __future__ import annotations

import argparse
import logging
import sys
import threading
from collections.abc import Sequence
from typing import Any

from assistant import __version__
from assistant.core import config as config_mod
from assistant.core.config import Config, ConfigError
from assistant.core.paths import Paths

EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


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
    _add_setting_flags(parser, top=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    ask = sub.add_parser("ask", help="answer one question on stdout (stats on stderr)")
    ask.add_argument("question", nargs="*", help="the question (read from stdin when omitted)")
    _add_setting_flags(ask)

    cfg = sub.add_parser("config", help="show the paths and effective settings")
    cfg.add_argument("--init", action="store_true", help="write a commented default config file")
    cfg.add_argument("--force", action="store_true", help="with --init: overwrite an existing file")
    _add_setting_flags(cfg)
    return parser


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    flat = {k: v for k, v in vars(args).items() if "." in k and v is not None}
    for assignment in getattr(args, "assignments", None) or []:
        key, value = config_mod.parse_assignment(assignment)
        flat[key] = value
    return flat


def load_config(paths: Paths, args: argparse.Namespace) -> Config:
    return config_mod.load(paths.config_file).with_overrides(_overrides(args))


def _fail(message: str, code: int = EXIT_ERROR) -> int:
    print(f"assistant: {message}", file=sys.stderr)
    return code


def _setup_logging(paths: Paths) -> None:
    try:
        paths.log_dir.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = logging.FileHandler(paths.log_file, encoding="utf-8")
    except OSError:
        handler = logging.NullHandler()  # an unwritable log dir must not stop the app
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("assistant")
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    paths = Paths.resolve()
    try:
        if args.command == "config":
            return cmd_config(paths, args)
        if args.command == "ask":
            return cmd_ask(paths, args)
        return cmd_tui(paths, args)
    except ConfigError as exc:
        return _fail(f"config error: {exc}", EXIT_USAGE)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `assistant config | head`: the reader left, nothing to say
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def cmd_config(paths: Paths, args: argparse.Namespace) -> int:
    if args.init:
        target = paths.config_file
        if target.exists() and not args.force:
            return _fail(f"{target} already exists (use --force to overwrite)")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(config_mod.default_file_text(), encoding="utf-8")
        except OSError as exc:
            return _fail(f"cannot write {target}: {exc.strerror}")
        print(f"wrote {target}")
        return 0
    config = load_config(paths, args)
    exists = "" if paths.config_file.exists() else "  (not created; `assistant config --init`)"
    print(f"config file  {paths.config_file}{exists}")
    print(f"data dir     {paths.data_dir}")
    print(f"log file     {paths.log_file}")
    print()
    for key, value in config_mod.effective_settings(config):
        shown = value if key.startswith("env.") else config_mod.toml_value(value)
        print(f"{key} = {shown}")
    return 0


def _read_question(args: argparse.Namespace) -> str:
    if args.question:
        return " ".join(args.question)
    if sys.stdin is None or sys.stdin.isatty():
        return ""
    return sys.stdin.read()


def cmd_ask(paths: Paths, args: argparse.Namespace) -> int:
    config = load_config(paths, args)
    question = _read_question(args).strip()
    if not question:
        return _fail("no question: pass it as an argument or pipe it on stdin", EXIT_USAGE)
    _setup_logging(paths)

    from assistant.core.backend import BackendUnavailable
    from assistant.core.chat import ChatSession
    from assistant.core.events import StreamEvent, TextDelta
    from assistant.core.plugins import create_backend
    from assistant.format import turn_summary

    backend = create_backend(config)
    try:
        backend.load()
    except BackendUnavailable as exc:
        return _fail(str(exc))
    session = ChatSession(config, backend)
    out = sys.stdout

    def on_event(event: StreamEvent) -> None:
        if isinstance(event, TextDelta) and event.text:
            out.write(event.text)
            out.flush()

    cancel = threading.Event()
    try:
        result = session.run_turn(question, cancel, on_event)
    except KeyboardInterrupt:
        cancel.set()
        out.write("\n")
        return _fail("cancelled", EXIT_INTERRUPTED)
    finally:
        backend.close()
    if result.text and not result.text.endswith("\n"):
        out.write("\n")
        out.flush()
    print(f"{backend.name} · {backend.model_name} · {turn_summary(result)}", file=sys.stderr)
    if result.error is not None:
        return _fail(result.error.message)
    return 0


def cmd_tui(paths: Paths, args: argparse.Namespace) -> int:
    config_error: str | None = None
    try:
        config = config_mod.load(paths.config_file)
    except ConfigError as exc:
        config, config_error = Config(), str(exc)
    config = config.with_overrides(_overrides(args))  # a bad flag is a usage error: exit 2
    _setup_logging(paths)
    from assistant.ui.app import make_app

    make_app(config, config_error=config_error).run()
    return 0
