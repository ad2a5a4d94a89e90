"""The one plugin loader: backends and routers, found by name.

A plugin is an entry point of its group (`assistant.backends`,
`assistant.routers`), declared by an installed package exactly as our own
pyproject.toml declares the built-ins; routers may also be single files
(core/routing/discovery.py hands those in). Names are read from package metadata
without importing anything; only the plugin asked for is imported. Whatever
fails is one line, `PluginError` (`RouterError` for routers), naming the plugin,
where it comes from and what went wrong; an unknown name lists what is
installed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.core.backends.protocol import Backend, BackendFactory
from assistant.core.backends.unavailable import UnavailableBackend
from assistant.core.config import Config

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint

BACKENDS_GROUP = "assistant.backends"
SERVER_BACKEND = "server"  # the plugin that serves every `[servers.NAME]` table


class PluginError(Exception):
    """A plugin is missing or failed to load; one line."""


@dataclass(frozen=True, slots=True)
class PluginInfo:
    name: str
    target: str  # "module:attr", as declared
    distribution: str | None


def group_entry_points(group: str) -> dict[str, EntryPoint]:
    """`name → entry point` of `group`; the first of a name wins. Package metadata
    (~12 ms to import) is read only here, when a plugin is asked for: the app's
    start does not pay for it."""
    from importlib.metadata import entry_points

    found: dict[str, EntryPoint] = {}
    for ep in entry_points(group=group):
        found.setdefault(ep.name, ep)
    return found


def one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def load_plugin(
    kind: str,
    group: str,
    name: str,
    *,
    files: Callable[[], Mapping[str, Path]] | None = None,
    import_file: Callable[[str, Path], Any] | None = None,
    shown: Callable[[Path], str] = str,
    error: type[PluginError] = PluginError,
) -> tuple[Any, str]:
    """What the plugin `name` of `group` exports, and where it comes from: its
    entry point, else its file among `files()` (imported by `import_file`).
    Raises `error`, one line."""
    eps = group_entry_points(group)
    found = {} if name in eps or files is None else files()
    if name in eps:
        where = eps[name].value
    elif name in found:
        where = shown(found[name])
    else:
        installed = ", ".join(sorted({*eps, *found})) or "none"
        raise error(f"no {kind} named {name!r} (installed: {installed})")
    try:
        if name in eps:
            return eps[name].load(), where
        assert import_file is not None
        return import_file(name, found[name]), where
    except (Exception, SystemExit) as exc:  # a broken plugin must not take the app down
        raise error(f"{kind} {name!r} ({where}) failed to load: {one_line(exc)}") from exc


def list_backends() -> list[PluginInfo]:
    return [
        PluginInfo(ep.name, ep.value, ep.dist.name if ep.dist else None)
        for ep in sorted(group_entry_points(BACKENDS_GROUP).values(), key=lambda e: e.name)
    ]


def load_backend_factory(name: str) -> BackendFactory:
    """Import the backend registered as `name`; errors list what is installed."""
    factory, _ = load_plugin("backend", BACKENDS_GROUP, name)
    return getattr(factory, "from_config", factory)


def create_backend(config: Config, name: str | None = None) -> Backend:
    """The backend `name` (default: the configured one) built from `config`: an
    installed one, or a `[servers.NAME]` inference server (the `server` plugin).

    Never raises: a backend that cannot be created becomes an `UnavailableBackend`
    whose turns say why, so the app still starts.
    """
    name = name or config.general.backend
    try:
        if name in config.servers:
            return load_backend_factory(SERVER_BACKEND)(config, name)  # type: ignore[call-arg]
        if name == SERVER_BACKEND:
            raise PluginError(f"{SERVER_BACKEND!r} is the kind of backend a [servers.NAME] table makes: name one")
        return load_backend_factory(name)(config)
    except PluginError as exc:
        return UnavailableBackend(name, str(exc))
    except Exception as exc:
        return UnavailableBackend(name, f"backend {name!r} could not start: {exc}")
