"""The parts of llama-cpp-python the local backend uses that are not its public API.

assistant/backends/llama/engine.py holds every one of them (the batch of several
sequences, their native samplers, the KV-cache surgery of a sliding window, the
load progress and the context's sequences, the abort callback) and lists them by name beside the code; tests/backends/llama/test_private_access.py
checks that the list is what engine.py uses and that no other module of the
backend reaches past the public API. bench/probe times `llama_decode`.
pyproject.toml pins llama-cpp-python to the release these are checked on; this
test says which one broke, by name, when a new release is tried."""

from __future__ import annotations

import tomllib
from importlib.metadata import version
from pathlib import Path

import pytest

from assistant.backends.llama import engine
from assistant.backends.llama.backend import LlamaCppBackend

pytestmark = pytest.mark.model


def test_the_installed_release_is_the_pinned_one() -> None:
    pyproject = tomllib.loads((Path(__file__).resolve().parents[3] / "pyproject.toml").read_text())
    [pin] = [d for d in pyproject["project"]["dependencies"] if d.startswith("llama-cpp-python")]
    assert pin == f"llama-cpp-python=={version('llama-cpp-python')}", pin


def test_every_private_part_the_engine_uses_is_there(local_backend: LlamaCppBackend) -> None:
    import llama_cpp.llama_cpp as low

    llama = local_backend.llama
    sampler = local_backend.on_engine(lambda: llama._init_sampler())
    missing = [f"llama_cpp.llama_cpp.{n}" for n in engine.LOW_LEVEL if not hasattr(low, n)]
    missing += [f"Llama.{n}" for n in engine.PRIVATE_ON_LLAMA + engine.ON_LLAMA if not hasattr(llama, n)]
    missing += [f"Llama._ctx.{n}" for n in engine.ON_CONTEXT if not hasattr(llama._ctx, n)]
    missing += [f"Llama._model.{n}" for n in engine.ON_MODEL if not hasattr(llama._model, n)]
    missing += [f"Llama._init_sampler().{n}" for n in engine.ON_SAMPLER if not hasattr(sampler, n)]
    assert not missing, f"llama-cpp-python {version('llama-cpp-python')} lacks {', '.join(missing)}"


def test_the_decode_that_bench_probe_times_is_the_one_the_backend_runs(local_backend: LlamaCppBackend) -> None:
    """bench/probe/sitecustomize.py wraps `llama_cpp.llama_cpp.llama_decode` as the module
    loads; the engine binds that name when it is made, so it calls the wrapper."""
    import llama_cpp.llama_cpp as low

    assert local_backend.engine._decode.func is low.llama_decode
