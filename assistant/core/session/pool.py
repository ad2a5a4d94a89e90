"""The backends a session can route to, each created on first use.

Names come from the `assistant.backends` entry points (read without importing
them) plus any backend handed in (tests, `/model PATH.gguf`). Creating a backend
is cheap; loading it (a model, an API client) is left to the caller.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Union

from assistant.core.backends.protocol import Backend
from assistant.core.config import Config
from assistant.core.plugins import SERVER_BACKEND, create_backend, list_backends

BackendSource = Union[Backend, Callable[[], Backend]]


class BackendPool:
    def __init__(
        self,
        config: Config,
        preset: Mapping[str, BackendSource] | None = None,
        factory: Callable[[Config, str], Backend] | None = None,
        *,
        installed: bool = True,
    ) -> None:
        self.config = config
        self._sources: dict[str, BackendSource] = dict(preset or {})
        self._made: dict[str, Backend] = {}
        self._factory = factory
        self._installed = installed
        self._installed_names: list[str] | None = None
        self._lock = threading.RLock()

    def names(self) -> list[str]:
        """Every backend a turn could go to: the handed-in ones, then the installed ones."""
        names = list(self._sources)
        if self._installed:
            if self._installed_names is None:  # read once: scanning package metadata takes ms

                self._installed_names = [p.name for p in list_backends() if p.name != SERVER_BACKEND]
                self._installed_names += list(self.config.servers)  # each `[servers.NAME]` is a backend
            names += [name for name in self._installed_names if name not in self._sources]
        return names

    def get(self, name: str) -> Backend:
        with self._lock:  # the load worker and the warm-up worker may ask at once
            return self._get(name)

    def _get(self, name: str) -> Backend:
        backend = self._made.get(name)
        if backend is None:
            source = self._sources.get(name)
            if source is None:
                backend = self._create(name)
            elif callable(source) and not hasattr(source, "stream"):
                backend = source()
            else:
                backend = source  # type: ignore[assignment]
            self._made[name] = backend
        return backend

    def _create(self, name: str) -> Backend:
        if self._factory is not None:
            return self._factory(self.config, name)

        return create_backend(self.config, name)

    def put(self, backend: Backend) -> Backend | None:
        """Use `backend` under its name from now on; the one it replaces is returned (to close)."""
        with self._lock:
            old = self._made.get(backend.name)
            self._sources[backend.name] = backend
            self._made[backend.name] = backend
        return old if old is not backend else None

    def made(self, name: str) -> Backend | None:
        """The backend `name` if it has been created already (None: not yet)."""
        return self._made.get(name)

    def created(self) -> list[Backend]:
        return list(self._made.values())

    def close(self) -> None:
        for backend in self._made.values():
            backend.close()
