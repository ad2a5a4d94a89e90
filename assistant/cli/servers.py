"""`assistant servers`: the configured inference servers, whether each answers now,
and what it serves: model, context, slots, price, and its measured speed."""

from __future__ import annotations

import argparse
import statistics

from assistant.cli.context import start
from assistant.cli.exits import EXIT_ERROR
from assistant.core import plugins
from assistant.core.backends.protocol import BackendUnavailable
from assistant.core.config import Config
from assistant.core.paths import Paths
from assistant.core.store.ledger import Ledger, LedgerError
from assistant.core.text import one_line
from assistant.render import format as fmt

MEASURED_TURNS = 50


def _speed(paths: Paths, name: str, model: str) -> str:
    """The median generation rate of its recent turns, from the ledger."""
    if not Ledger.recorded(paths.ledger_file):
        return "no turns yet"
    try:
        with Ledger.open_to_read(paths.ledger_file) as ledger:
            turns = ledger.recent(name, model, limit=MEASURED_TURNS)
    except LedgerError as exc:
        return f"ledger unreadable ({one_line(str(exc))})"
    rates = [t.tokens_per_second for t in turns if t.tokens_per_second]
    if not rates:
        return "no turns yet"
    return f"{fmt.rate(statistics.median(rates))} (median of {len(rates)} turn{'s' if len(rates) != 1 else ''})"


def _line(config: Config, paths: Paths, name: str) -> tuple[str, bool]:
    server = config.servers[name]
    backend = plugins.create_backend(config, name)
    try:
        backend.load()
    except BackendUnavailable as exc:
        return f"{name}  {server.base_url}  unreachable: {one_line(str(exc))}", False
    try:
        caps = backend.capabilities
        price = "per token (price table)" if caps.machine_per_hour is None else f"${caps.machine_per_hour:g}/hour"
        facts = [
            f"model {backend.model_name}",
            f"context {caps.context_size:,}",
            f"{caps.max_concurrency} slot{'s' if caps.max_concurrency != 1 else ''}",
            "private" if caps.private else "not private",
            price,
            _speed(paths, name, backend.model_name),
        ]
        return f"{name}  {server.base_url}  reachable · " + " · ".join(facts), True
    finally:
        backend.close()


def cmd_servers(paths: Paths, args: argparse.Namespace) -> int:
    """Each `[servers.NAME]`: exit 1 when one cannot be reached."""
    config = start(paths, args)
    if not config.servers:
        print("no servers configured: add a [servers.NAME] table with its base_url (assistant config --init shows one)")
        return 0
    reachable = True
    for name in sorted(config.servers):
        line, ok = _line(config, paths, name)
        print(line)
        reachable &= ok
    return 0 if reachable else EXIT_ERROR
