"""Claude tests: the real `anthropic` SDK against the loopback fake Messages API
(the `fake` fixture is in tests/conftest.py)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from assistant.backends.claude.backend import ClaudeBackend
from assistant.core.config import Config
from tests.conftest import TEST_KEY

__all__ = ["TEST_KEY", "claude_backend", "claude_config"]


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
    return replace(config, claude=replace(config.claude, **settings))


def claude_backend(base_url: str, **claude: Any) -> ClaudeBackend:
    backend = ClaudeBackend.from_config(claude_config(base_url, **claude))
    backend.load()
    return backend
