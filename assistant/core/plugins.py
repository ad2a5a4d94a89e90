"""Backends found through the `assistant.backends` entry-point group.

The list of names is read from package metadata without importing any
backend; only the chosen one is imported. Built-ins are registered in our own
pyproject.toml exactly as a third-party package would register its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points

from assistant.core.backend import Backend, BackendFactory
from assistant.core.config import Config

BACKENDS_GROUP = "assistant.backends"


class PluginError(Exception):
    """A plugin is missing or failed to load; one line."""


@dataclass(frozen=True, slots=True)
class PluginInfo:
    name: str
    target: str  # "module:attr", as declared
    distribution: str | None


def _entry_points(group: str) -> dict[str, EntryPoint]:
    return {ep.name: ep for ep in entry_points(group=group)}


def list_backends() -> list[PluginInfo]:
    return [
        PluginInfo(ep.name, ep.value, ep.dist.name if ep.dist else None)
        for ep in sorted(_entry_points(BACKENDS_GROUP).values(), key=lambda e: e.name)
    ]


def load_backend_factory(name: str) -> BackendFactory:
    """Import the backend registered as `name`; errors list what is installed."""
    eps = _entry_points(BACKENDS_GROUP)
    if name not in eps:
        installed = ", ".join(sorted(eps)) or "none"
        raise PluginError(f"no backend named {name!r} (installed: {installed})")
    try:
        factory = eps[name].load()
    except Exception as exc:  # a broken third-party plugin must not take the app down
        raise PluginError(f"backend {name!r} failed to load: {type(exc).__name__}: {exc}") from exc
    return getattr(factory, "from_config", factory)


def create_backend(config: Config, name: str | None = None) -> Backend:
    """The backend `name` (default: the configured one) built from `config`.

    Never raises: a backend that cannot be created becomes an `UnavailableBackend`
    whose turns say why, so the app still starts.
    """
    from assistant.core.unavailable import UnavailableBackend

    name = name or config.general.backend
    try:
        return load_backend_factory(name)(config)
    except PluginError as exc:
        return UnavailableBackend(name, str(exc))
    except Exception as exc:
        return UnavailableBackend(name, f"backend {name!r} could not start: {exc}")
