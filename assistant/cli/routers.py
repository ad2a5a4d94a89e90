"""`assistant routers`: the routers that can be named in `[router] chain`, and the chain in use."""

from __future__ import annotations

import argparse

from assistant.cli.context import start
from assistant.core.paths import Paths
from assistant.core.routing.discovery import list_routers, plugin_dirs


def cmd_routers(paths: Paths, args: argparse.Namespace) -> int:
    """The routers that can be named in [router] chain, without importing them."""
    config = start(paths, args)
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
