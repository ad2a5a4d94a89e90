"""Claude tests: the real `anthropic` SDK against the loopback fake Messages API
(the `fake` fixture is in tests/conftest.py)."""

from __future__ import annotations

from typing import Any

from assistant.backends.claude.backend import ClaudeBackend
from assistant.core.config import Config
from assistant.core.plugins import plugin_options
from tests.conftest import TEST_KEY

__all__ = ["TEST_KEY", "claude_backend", "claude_config", "claude_from"]


def claude_config(base_url: str, config: Config | None = None, **claude: Any) -> Config:
    """A config that talks to `base_url` with the test key; quick retries and timeouts."""
    config = config or Config()
    settings = {
        "base_url": base_url,
        "api_key": TEST_KEY,
        "max_retries": 3,
        "retry_max_seconds": 5.0,
        "read_timeout": 5.0,
        "connect_timeout": 2.0,
        **claude,
    }
    return config.with_overrides({f"backends.claude.{key}": value for key, value in settings.items()}, "test")


def claude_from(config: Config) -> ClaudeBackend:
    """The Claude backend as the app creates it: its `[backends.claude]` options checked."""
    return ClaudeBackend.from_config(config, plugin_options(ClaudeBackend, config, "backends", "claude"))


def claude_backend(base_url: str, **claude: Any) -> ClaudeBackend:
    backend = claude_from(claude_config(base_url, **claude))
    backend.load()
    return backend
