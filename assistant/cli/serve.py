"""`assistant serve`: the same TUI in a browser tab, through `textual-serve`.

Each browser session runs its own `assistant` process (textual-serve's model),
with the settings given after `--`. It binds to loopback unless told otherwise;
bound elsewhere, anyone who can reach the port can use the app, its models and
its API key, and it says so."""

from __future__ import annotations

import argparse
import shlex
import sys

from assistant.cli.context import start
from assistant.core.paths import Paths

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def cmd_serve(paths: Paths, args: argparse.Namespace) -> int:
    start(paths, args)  # a broken config is said here, before any browser asks
    from textual_serve.server import Server

    app_args = [a for a in args.app_args if a != "--"]
    command = shlex.join([sys.executable, "-m", "assistant", *app_args])
    if args.host not in LOOPBACK:
        print(f"assistant: serving on {args.host}:{args.port}: anyone who can reach this port can use the app, "
              "its models and its API key", file=sys.stderr)  # fmt: skip
    print(f"assistant: open http://{args.host}:{args.port} in a browser (Ctrl+C stops)", file=sys.stderr)
    Server(command, host=args.host, port=args.port, title="assistant").serve()
    return 0
