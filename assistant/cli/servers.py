"""`assistant servers`: the configured inference servers, whether each answers now,
and what it serves: model, context, slots, price, and its measured speed."""

from __future__ import annotations

import argparse
import json
import statistics
from typing import Any

from assistant.cli.context import start
from assistant.cli.exits import EXIT_ERROR
from assistant.core import plugins
from assistant.core.backends.protocol import BackendUnavailable
from assistant.core.config import Config
from assistant.core.paths import Paths
from assistant.core.secrets import redact, redact_url
from assistant.core.store.ledger import Ledger, LedgerError
from assistant.core.text import one_line
from assistant.render import format as fmt

MEASURED_TURNS = 50


def _speed(paths: Paths, name: str, model: str) -> tuple[float | None, int, str]:
    """The median generation rate of its recent turns, from the ledger: (rate, turns, why none)."""
    if not Ledger.recorded(paths.ledger_file):
        return None, 0, "no turns yet"
    try:
        with Ledger.open_to_read(paths.ledger_file) as ledger:
            turns = ledger.recent(name, model, limit=MEASURED_TURNS)
    except LedgerError as exc:
        return None, 0, f"ledger unreadable ({one_line(str(exc))})"
    rates = [t.tokens_per_second for t in turns if t.tokens_per_second]
    return (statistics.median(rates), len(rates), "") if rates else (None, 0, "no turns yet")


def _describe(config: Config, paths: Paths, name: str) -> dict[str, Any]:
    """What `assistant servers` says of one server, as figures."""
    server = config.servers[name]
    found: dict[str, Any] = {"name": name, "base_url": redact_url(server.base_url), "reachable": False, "why": None}
    backend = plugins.create_backend(config, name)
    try:
        backend.load()
    except BackendUnavailable as exc:
        return {**found, "why": redact(one_line(str(exc)))}
    try:
        caps = backend.capabilities
        rate, turns, why = _speed(paths, name, backend.model_name)
        return {**found, "reachable": True, "model": backend.model_name, "context_tokens": caps.context_size,
                "slots": caps.max_concurrency, "private": caps.private, "cost_per_hour": caps.machine_per_hour,
                "tokens_per_second": rate, "measured_turns": turns, "speed_why": why or None}  # fmt: skip
    finally:
        backend.close()


def _line(d: dict[str, Any]) -> str:
    if not d["reachable"]:
        return f"{d['name']}  {d['base_url']}  unreachable: {d['why']}"
    n = d["slots"]
    price = "per token (price table)" if d["cost_per_hour"] is None else f"${d['cost_per_hour']:g}/hour"
    t = d["measured_turns"]
    speed = f"{fmt.rate(d['tokens_per_second'])} (median of {t} turn{'s' if t != 1 else ''})" if t else d["speed_why"]
    facts = [f"model {d['model']}", f"context {d['context_tokens']:,}", f"{n} slot{'s' if n != 1 else ''}",
             "private" if d["private"] else "not private", price, speed]  # fmt: skip
    return f"{d['name']}  {d['base_url']}  reachable · " + " · ".join(facts)


def cmd_servers(paths: Paths, args: argparse.Namespace) -> int:
    """Each `[servers.NAME]`: exit 1 when one cannot be reached."""
    config = start(paths, args)
    found = [_describe(config, paths, name) for name in sorted(config.servers)]
    if args.json:
        print(json.dumps({"version": 1, "servers": found}, ensure_ascii=True))
    elif not found:
        print("no servers configured: add a [servers.NAME] table with its base_url (assistant config --init shows one)")
    else:
        print("\n".join(_line(d) for d in found))
    return 0 if all(d["reachable"] for d in found) else EXIT_ERROR
