"""The one plugin loader: backends and routers, found by name.

A plugin is an entry point of its group (`assistant.backends`,
`assistant.routers`), declared by an installed package exactly as our own
pyproject.toml declares the built-ins; routers may also be single files
(core/routing/discovery.py hands those in). Names are read from package metadata
without importing anything; only the plugin asked for is imported. Whatever
fails is one line, `PluginError` (`RouterError` for routers), naming the plugin,
where it comes from and what went wrong; an unknown name lists what is
installed.

A plugin declares its settings as a class attribute `Options` (a dataclass of
`assistant.core.options.setting` fields, each with its help, default and
range), read under `[backends.NAME]` or `[routers.NAME]`. The core checks that
table through the plugin's own `Options`, when the plugin is created and at
start-up, and hands the checked options to the factory: `factory(config,
options)`. A plugin without `Options` is called with the config alone, and a
table for it is an error.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.core.backends.protocol import Backend, BackendFactory
from assistant.core.backends.unavailable import UnavailableBackend
from assistant.core.config import Config
from assistant.core.options import ConfigError, is_options, secret_values

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint, EntryPoints

BACKENDS_GROUP = "assistant.backends"
OPTIONS_ATTR = "Options"  # where a plugin declares its settings
SERVER_BACKEND = "server"  # the plugin that serves every `[servers.NAME]` table


class PluginError(Exception):
    """A plugin is missing or failed to load; one line."""


@dataclass(frozen=True, slots=True)
class PluginInfo:
    name: str
    target: str  # "module:attr", as declared
    distribution: str | None


@functools.cache
def group_entry_points(group: str) -> dict[str, EntryPoint]:
    """`name → entry point` of `group`; the first of a name wins. Package metadata
    (~12 ms to import, as much again to scan) is read only here, when a plugin is
    asked for, and scanned once per process for every group: what is installed does
    not change under a running app. The app's start does not pay for it."""
    found: dict[str, EntryPoint] = {}
    for ep in _all_entry_points().select(group=group):
        found.setdefault(ep.name, ep)
    return found


@functools.cache
def _all_entry_points() -> EntryPoints:  # on 3.11 a SelectableGroups, which selects alike
    from importlib.metadata import entry_points

    return entry_points()


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


def load_backend(name: str) -> Any:
    """What the backend plugin `name` exports (a class, or a factory); errors list what is installed."""
    return load_plugin("backend", BACKENDS_GROUP, name)[0]


def load_backend_factory(name: str) -> BackendFactory:
    """Import the backend registered as `name`; errors list what is installed."""
    exported = load_backend(name)
    return getattr(exported, "from_config", exported)


def options_class(exported: Any) -> type | None:
    """The `Options` a plugin declares (on its class, or on the class of what it exports)."""
    cls = getattr(exported, OPTIONS_ATTR, None)
    return cls if is_options(cls) else None


def plugin_options(exported: Any, config: Config, kind: str, name: str) -> object | None:
    """The plugin's options from `[kind.NAME]`, checked by its own `Options` (None: it
    declares none). Raises `ConfigError`, one line naming where, the key and the problem."""
    given = config.plugin_settings(kind, name)
    cls = options_class(exported)
    if cls is None:
        if given.layers:
            raise ConfigError(f"{given.where}: [{kind}.{name}]: {name!r} takes no settings (it declares no {OPTIONS_ATTR})")
        return None
    return given.build(cls, f"{kind}.{name}")


def call_factory(exported: Any, config: Config, options: object | None, **extra: Any) -> Any:
    """The plugin built by its `from_config` (else itself called) with the config, and
    its checked options when it declares some."""
    factory = getattr(exported, "from_config", exported)
    return factory(config, **extra) if options is None else factory(config, options, **extra)


def create_backend(config: Config, name: str | None = None) -> Backend:
    """The backend `name` (default: the configured one) built from `config` and its
    `[backends.NAME]` options: an installed one, or a `[servers.NAME]` inference
    server (the `server` plugin).

    Never raises: a backend that cannot be created (a bad setting included) becomes
    an `UnavailableBackend` whose turns say why, so the app still starts.
    """
    name = name or config.general.backend
    try:
        if name in config.servers:
            return load_backend_factory(SERVER_BACKEND)(config, name)  # type: ignore[call-arg]
        if name == SERVER_BACKEND:
            raise PluginError(f"{SERVER_BACKEND!r} is the kind of backend a [servers.NAME] table makes: name one")
        exported = load_backend(name)
        return call_factory(exported, config, plugin_options(exported, config, "backends", name))
    except (PluginError, ConfigError) as exc:
        return UnavailableBackend(name, str(exc))
    except Exception as exc:
        return UnavailableBackend(name, f"backend {name!r} could not start: {exc}")


def check_backends(config: Config) -> list[str]:
    """Check every `[backends.NAME]` table by its plugin's `Options`, and every
    server's name against the installed backends'; the secrets the options hold
    (for the log's redaction). Raises `ConfigError`, one line."""
    if config.servers:
        installed = {p.name for p in list_backends()}
        if taken := sorted(config.servers.keys() & installed):
            raise ConfigError(f"servers.{taken[0]}: the name is taken by an installed backend "
                              f"(installed: {', '.join(sorted(installed))})")  # fmt: skip
    return check_tables(config, "backends", config.backends, load_backend)


def check_tables(config: Config, kind: str, tables: Mapping[str, Any], load: Callable[[str], Any]) -> list[str]:
    """Check each `[KIND.NAME]` table of `tables` by the `Options` of the plugin `load(NAME)`
    exports; the secrets the options hold. Raises `ConfigError`, one line naming the table."""
    secrets: list[str] = []
    for name, given in tables.items():
        try:
            exported = load(name)
        except PluginError as exc:
            raise ConfigError(f"{given.where}: [{kind}.{name}]: {exc}") from None
        options = plugin_options(exported, config, kind, name)
        if options is not None:
            secrets += secret_values(options, os.environ)
    return secrets
