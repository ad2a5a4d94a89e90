"""The one way a command makes its chat session from the config.

`assistant ask` and the TUI both open theirs here, so that one question is
routed the same way in both: the same backends in the same order (this
machine's model first), the same fallbacks, the same ledger read for measured
speeds, ratings and what was spent, the same project root, and a fixed
backend explained by how the user named it."""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path

from assistant.core import plugins, store
from assistant.core.accounting.metrics import Clock
from assistant.core.backends.protocol import Backend
from assistant.core.config import Config
from assistant.core.project import find_root
from assistant.core.session.chat import AUTO, ChatSession
from assistant.core.session.pool import BackendSource

LOCAL = "local"  # the backend a remote one falls back to, and the first candidate
CONFIG_NAMED = "named in the config ([general] backend)"


def open_session(
    config: Config,
    *,
    backend: Backend | None = None,
    named_by: str = "",
    ledger: bool = True,
    persist: bool = False,
    clock: Clock = time.monotonic,
    backends: Mapping[str, BackendSource] | None = None,
    fallback: BackendSource | None = None,
    project_root: Path | None = None,
) -> ChatSession:
    """A session on `config`: fixed on `backend` (made, and loaded, by the caller) or on
    the configured one (`general.backend`), else routed turn by turn.

    `named_by`: how the user named the fixed backend ("named with --backend"), said in
    the route's reason; by default, the config's `[general] backend`. `ledger`: turns
    are recorded, and the router reads its figures from what was recorded before
    (off: nothing is read or written). `persist`: the chat is stored, to be resumed.
    `backends` and `fallback` (the backend named `local`) replace the ones the
    config makes: tests and benchmarks. `project_root`: found already (the TUI shows
    it before the session is opened), by the same rule."""
    fixed = backend
    if fixed is None and config.general.backend != AUTO:
        fixed = plugins.create_backend(config)
    sources: dict[str, BackendSource] = {}
    if fixed is not None:  # off this machine a turn may fail: `[router] fallback` takes it (`local`: `fallback`)
        sources = {name: _maker(config, name) for name in config.router.fallback if name not in (fixed.name, LOCAL)}
    sources.update(backends or {})
    return ChatSession(
        config,
        fixed,
        clock,
        ledger=_open_ledger if ledger else None,
        backends=sources,
        fallback=fallback or _maker(config, LOCAL),
        project_root=project_root or find_root(),  # the one project root (core/project.py)
        persist=persist,
        named_by=named_by or (CONFIG_NAMED if config.general.backend != AUTO else ""),
    )


def _maker(config: Config, name: str) -> BackendSource:
    """The backend `name`, made when a turn first needs it."""
    return lambda: plugins.create_backend(config, name)  # entry points are read when first asked for


def _open_ledger() -> store.Ledger:
    return store.Ledger.open()  # sqlite3 loads with the first turn, not before the first frame
