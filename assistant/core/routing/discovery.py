"""Routers found through the `assistant.routers` entry-point group and plugin files.

Two ways to add a router, neither needing a change here:

* an installable package that declares
  `[project.entry-points."assistant.routers"] name = "package.module:Factory"`
  (the built-ins are registered this way in our own pyproject.toml);
* a single file `name.py` in a plugins folder: the user's (`[router]
  plugins_dir`, else `plugins/` in the config directory) or the app checkout's
  top-level `plugins/` (worked examples), in that order. It must define a
  module-level `ROUTER`: a router instance, or a class or factory called with
  the `Config`.

A class's `from_config(config)` is preferred over calling it; a factory that
takes a `project_root` keyword is given the project's root when there is one.
A router that declares `Options` (core/plugins.py) gets them, read from
`[routers.NAME]` and checked, after the config: `from_config(config, options)`.

The list is read without importing anything (entry points from package
metadata, files by name); only the routers a chain names are imported. Anything
that fails is one `RouterError` line naming the router, where it comes from and
what went wrong.
"""

from __future__ import annotations

import importlib.util
import inspect
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import assistant
from assistant.core.config import Config
from assistant.core.paths import Paths
from assistant.core.options import ConfigError, option_rows
from assistant.core.plugins import (
    PluginError,
    call_factory,
    check_backends,
    check_tables,
    group_entry_points,
    list_backends,
    load_backend,
    load_plugin,
    one_line,
    options_class,
    plugin_options,
)
from assistant.core.project import expand_home
from assistant.core.routing.protocol import Router, RouterError

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint  # package metadata is read only when a plugin is asked for

ROUTERS_GROUP = "assistant.routers"
PLUGIN_ATTR = "ROUTER"


@dataclass(frozen=True, slots=True)
class RouterInfo:
    name: str
    source: str  # "entry point <distribution>", or the plugin file's path
    target: str  # "module:attr" as declared, or "<file>:ROUTER"


def plugin_dirs(config: Config) -> list[Path]:
    """The folders searched for plugin files, in order: the user's (which may
    not exist yet), then the app checkout's `plugins/` when there is one. The
    user's comes first so that a copied and edited example replaces the original."""
    user = (
        Path(config.router.plugins_dir).expanduser()
        if config.router.plugins_dir
        else Paths.resolve().config_dir / "plugins"
    )
    dirs = [user]
    shipped = Path(assistant.__file__).resolve().parents[1] / "plugins"
    if shipped.is_dir() and shipped.resolve() != user.resolve():
        dirs.append(shipped)
    return dirs


def _entry_points() -> dict[str, EntryPoint]:
    return group_entry_points(ROUTERS_GROUP)


def _plugin_files(config: Config) -> dict[str, Path]:
    """`name → file`; a name in an earlier folder hides the same name in a later one."""
    found: dict[str, Path] = {}
    for folder in plugin_dirs(config):
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.py")):
            if path.stem.startswith("_") or not path.stem.isidentifier() or not path.is_file():
                continue
            found.setdefault(path.stem, path)
    return found


def _shown(path: Path) -> str:
    """A plugin file as a person would name it: relative to here or to home when inside."""
    # expand_home: Path.home() raises when there is no home folder (no HOME, no passwd entry)
    for base, prefix in ((Path.cwd(), ""), (Path(expand_home("~")), "~/")):
        try:
            return prefix + path.relative_to(base).as_posix()
        except ValueError:
            continue
    return str(path)


def list_routers(config: Config) -> list[RouterInfo]:
    """Every router that `load_router` can load, entry points first; imports nothing."""
    eps = _entry_points()
    routers = [
        RouterInfo(ep.name, f"entry point {ep.dist.name}" if ep.dist else "entry point", ep.value)
        for ep in sorted(eps.values(), key=lambda e: e.name)
    ]
    routers += [
        RouterInfo(name, str(path), f"{path}:{PLUGIN_ATTR}")
        for name, path in _plugin_files(config).items()
        if name not in eps
    ]
    return routers


def _accepts_project_root(factory: Any) -> bool:
    try:
        params = inspect.signature(factory).parameters
    except (TypeError, ValueError):
        return False
    return "project_root" in params or any(p.kind is p.VAR_KEYWORD for p in params.values())


def build_router(obj: Any, config: Config, project_root: Path | None = None, options: object | None = None) -> Router:
    """A router from what a plugin exports: an instance as is; a class or a
    factory called with the config, its checked `options` when it declares some,
    and the project root when it takes one."""
    if isinstance(obj, type) or not hasattr(obj, "route"):
        factory = getattr(obj, "from_config", obj)
        if not callable(factory):
            raise TypeError(f"{PLUGIN_ATTR} is a {type(obj).__name__}, not a router, class or factory")
        extra = {"project_root": project_root} if project_root is not None and _accepts_project_root(factory) else {}
        obj = call_factory(obj, config, options, **extra)
    if not isinstance(obj, Router) or not callable(getattr(obj, "route", None)):
        raise TypeError(f"{type(obj).__name__} is not a router (it needs a `name` and a `route` method)")
    return obj


def _import_file(name: str, path: Path) -> Any:
    """The plugin file's `ROUTER`, imported under a private module name."""
    module_name = f"_assistant_router_plugin_{name}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # dataclasses and pickling look a class's module up here
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(module_name, None)
        raise
    if not hasattr(module, PLUGIN_ATTR):
        raise AttributeError(f"no module-level {PLUGIN_ATTR} (a router, or a class or factory taking the config)")
    return getattr(module, PLUGIN_ATTR)


def _load(name: str, config: Config) -> tuple[Any, str]:
    """What the router plugin `name` exports, and where it comes from."""
    return load_plugin(
        "router", ROUTERS_GROUP, name,
        files=lambda: _plugin_files(config), import_file=_import_file, shown=_shown, error=RouterError,
    )


def load_router(name: str, config: Config, *, project_root: Path | None = None) -> Router:
    """Import and build the router `name`: an entry point first, then a plugin file,
    with its `[routers.NAME]` options checked.

    Raises `RouterError` (one line) when there is no such router, it fails to
    load or a setting of its is wrong; the message for an unknown name lists
    what is installed.
    """
    exported, where = _load(name, config)
    try:
        options = plugin_options(exported, config, "routers", name)
    except ConfigError as exc:
        raise RouterError(str(exc)) from None
    try:
        return build_router(exported, config, project_root, options)
    except (Exception, SystemExit) as exc:  # a broken plugin must not take the app down
        raise RouterError(f"router {name!r} ({where}) failed to load: {one_line(exc)}") from exc


# -- every plugin's settings ----------------------------------------------------------


def check_settings(config: Config) -> list[str]:
    """Check every `[backends.NAME]` and `[routers.NAME]` table through its plugin's
    `Options`, at start-up, so that a bad value stops the command before anything
    else: one `ConfigError` line naming where, the key and the problem, or, for a
    plugin that is not installed, what is. Returns the secrets the options hold
    (for the log's redaction). Without such tables, nothing is imported."""
    return check_backends(config) + check_tables(config, "routers", config.routers, lambda name: _load(name, config)[0])


def installed_options(config: Config) -> list[tuple[str, type]]:
    """`("backends.NAME", Options)` for every installed backend, then every router,
    that declares options and loads (`assistant config --init` writes their
    sections; `assistant config` shows them)."""
    found: list[tuple[str, type]] = []
    plugins = [("backends", p.name, load_backend) for p in list_backends()]
    plugins += [("routers", r.name, lambda name: _load(name, config)[0]) for r in list_routers(config)]
    for kind, name, load in plugins:
        try:
            cls = options_class(load(name))
        except PluginError:  # a broken plugin: said when it is used, not here
            continue
        if cls is not None:
            found.append((f"{kind}.{name}", cls))
    return found


def plugin_rows(config: Config) -> list[tuple[str, Any]]:
    """`(dotted key, value)` for every setting of every installed plugin's options,
    as `config` sets them, secrets masked."""
    rows: list[tuple[str, Any]] = []
    for section, cls in installed_options(config):
        kind, _, name = section.partition(".")
        rows += option_rows(section, config.plugin_settings(kind, name).build(cls, section), os.environ)
    return rows
