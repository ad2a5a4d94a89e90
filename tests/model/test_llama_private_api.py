"""The parts of llama-cpp-python the local backend uses that are not its public API.

assistant/backends/llama/backend.py drives `Llama` below `create_chat_completion`
(the lean eval/sample loop, the KV-cache surgery of a sliding window, the load
progress, the abort callback), and bench/probe times `LlamaContext.decode`.
pyproject.toml pins llama-cpp-python to the release these are checked on; this
test says which one broke, by name, when a new release is tried."""

from __future__ import annotations

import tomllib
from importlib.metadata import version
from pathlib import Path

import pytest

from assistant.backends.llama.backend import LlamaCppBackend

pytestmark = pytest.mark.model

LOW_LEVEL = [  # llama_cpp.llama_cpp: the C API's bindings
    "llama_model_default_params", "llama_token_to_piece", "llama_set_abort_callback", "ggml_abort_callback",
    "llama_vocab_get_attr", "llama_vocab_is_eog", "llama_perf_context_reset", "llama_perf_context",
    "llama_get_memory", "llama_memory_can_shift",
]
ON_LLAMA = ["_ctx", "_model", "_input_ids", "_init_sampler", "eval", "reset", "n_tokens", "input_ids"]
ON_CONTEXT = ["ctx", "kv_cache_seq_rm", "kv_cache_seq_shift", "decode"]
ON_MODEL = ["token_get_text", "vocab"]


def test_the_installed_release_is_the_pinned_one() -> None:
    pyproject = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())
    [pin] = [d for d in pyproject["project"]["dependencies"] if d.startswith("llama-cpp-python")]
    assert pin == f"llama-cpp-python=={version('llama-cpp-python')}", pin


def test_every_private_part_the_backend_uses_is_there(local_backend: LlamaCppBackend) -> None:
    import llama_cpp.llama_cpp as low

    llama = local_backend.llama
    missing = [f"llama_cpp.llama_cpp.{n}" for n in LOW_LEVEL if not hasattr(low, n)]
    missing += [f"Llama.{n}" for n in ON_LLAMA if not hasattr(llama, n)]
    missing += [f"Llama._ctx.{n}" for n in ON_CONTEXT if not hasattr(llama._ctx, n)]
    missing += [f"Llama._model.{n}" for n in ON_MODEL if not hasattr(llama._model, n)]
    assert not missing, f"llama-cpp-python {version('llama-cpp-python')} lacks {', '.join(missing)}"
