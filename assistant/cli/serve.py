"""`assistant serve`: the same TUI in a browser tab, through `textual-serve`.

Each browser session runs its own `assistant` process (textual-serve's model),
with the settings given after `--`, ended with its tab and when `serve` stops
(serve_apps; the app's side, serve_driver). Only the page opened with the URL it
prints gets in (serve_guard: a token made at each start, and Host and Origin
checked), and the page loads nothing from elsewhere (serve_server).
It binds to loopback unless told otherwise; bound elsewhere, anyone who can reach
the port and holds that URL can use the app, its models and its API key, and it
says so."""

from __future__ import annotations

import argparse
import shlex
import sys

from assistant.cli.context import start
from assistant.cli.exits import fail
from assistant.cli.serve_guard import LOOPBACK, Gate
from assistant.cli.serve_server import AssistantServer
from assistant.core.paths import Paths


def cmd_serve(paths: Paths, args: argparse.Namespace) -> int:
    start(paths, args)  # a broken config is said here, before any browser asks
    app_args = [a for a in args.app_args if a != "--"]
    command = shlex.join([sys.executable, "-m", "assistant", *app_args])
    gate = Gate(args.host, args.port)
    if args.host not in LOOPBACK:
        print(f"assistant: serving on {args.host}:{args.port}: anyone who can reach this port and has the URL below "
              "(its token) can use the app, its models and its API key; plain HTTP shows that token to the network",
              file=sys.stderr)  # fmt: skip
    print(f"assistant: open {gate.url} in a browser (Ctrl+C stops)", file=sys.stderr)
    try:
        AssistantServer(command, gate, title="assistant").serve()
    except (OSError, OverflowError) as error:  # the port is taken or out of range, the host unknown
        return fail(f"cannot listen on {args.host}:{args.port}: {error}")
    return 0
