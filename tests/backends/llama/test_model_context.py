"""The local model's window comes from the model: `n_ctx`, or the context its GGUF
says it was trained for when that is smaller, less the answer's reserve. And its
label is the model's name without claims about its context: SmolLM2's GGUF calls
itself "Smollm2 135M 8k Lc100K Mix1 Ep2", whose "8k" is a training run's, not the
4,096 tokens it runs with. GGUFs are written by the `gguf` package, as llama.cpp's
converter writes them, and the real SmolLM2 is read and loaded."""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path

import gguf
import numpy as np
import pytest

from assistant.backends.llama.backend import LlamaCppBackend
from assistant.backends.llama.gguf import read_info
from assistant.backends.llama.options import LlamaOptions
from assistant.backends.scripted import ScriptedBackend
from assistant.core.backends.budget import window_budget
from assistant.core.config import Config
from assistant.core.session.chat import ChatSession
from tests.conftest import small_config, small_options

SMOLLM2 = {"name": "Smollm2 135M 8k Lc100K Mix1 Ep2", "basename": "smollm2", "size_label": "135M",
           "finetune": "8k-lc100k-mix1-ep2"}  # fmt: skip


def write_gguf(path: Path, context: int | None = None, **general: str) -> Path:
    """A GGUF with `general.*` metadata and one small tensor, as the `gguf` package writes it."""
    writer = gguf.GGUFWriter(str(path), arch="llama")
    for key, value in general.items():
        getattr(writer, f"add_{key}")(value)
    if context is not None:
        writer.add_context_length(context)
    writer.add_tensor("weights", np.zeros(8, dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


@pytest.mark.parametrize(
    ("file", "general", "label"),
    [
        # The publisher's file name, less its quantisation, when it names the same model.
        ("SmolLM2-135M-Instruct.Q4_1.gguf", SMOLLM2, "SmolLM2 135M Instruct"),
        # Otherwise the converter's name, less the words that claim a context.
        ("model.gguf", SMOLLM2, "Smollm2 135M Mix1 Ep2"),
        ("Meta-Llama-3.1-70B-Instruct-Q4_K_M.gguf",
         {"name": "Meta Llama 3.1 70B Instruct", "basename": "Meta-Llama-3.1", "size_label": "70B"},
         "Meta Llama 3.1 70B Instruct"),
        # An all-lower-case file name loses to the converter's capitals; "1M" is a context, "7B" the size.
        ("qwen2.5-7b-instruct-1m-q4_k_m.gguf",
         {"name": "Qwen2.5 7B Instruct 1M", "basename": "Qwen2.5", "size_label": "7B"}, "Qwen2.5 7B Instruct"),
        ("Phi-3-mini-128k-instruct.Q8_0.gguf", {}, "Phi 3 mini instruct"),
        ("x.gguf", {"name": "8k"}, "x"),  # nothing but a claim: the file's name
    ],
)  # fmt: skip
def test_a_gguf_s_label_is_its_model_s_name_without_context_claims(
    tmp_path: Path, file: str, general: dict[str, str], label: str
) -> None:
    assert read_info(write_gguf(tmp_path / file, 2048, **general)).name == label


def test_the_local_window_is_n_ctx_less_the_answer(tmp_path: Path) -> None:
    """Not the 4,000 tokens `window_tokens` once defaulted to: a model run at n_ctx
    8,192 takes 8,192 less its answer's 512."""
    path = write_gguf(tmp_path / "Big-7B.gguf", 32_768, name="Big 7B", basename="Big", size_label="7B")
    backend = LlamaCppBackend(replace(LlamaOptions(), n_ctx=8192, max_tokens=512), model_path=path)
    assert window_budget(backend).tokens == 8192 - 512
    backend.check_model_file()  # the header says what the model was trained for: more, so n_ctx stands
    budget = window_budget(backend)
    assert budget.tokens == 8192 - 512
    assert budget.describe() == (
        "local takes 7,680 tokens, its context of 8,192 (n_ctx, [backends.local] n_ctx; the model was trained for "
        "32,768) less 512 kept for the answer ([backends.local] max_tokens)"
    )
    capped = LlamaCppBackend(replace(LlamaOptions(), n_ctx=8192, window_tokens=2000), model_path=path)
    assert window_budget(capped).tokens == 2000  # `window_tokens` is a cap, when set


def test_a_model_trained_for_less_than_n_ctx_is_held_to_its_training(tmp_path: Path) -> None:
    path = write_gguf(tmp_path / "Small-1B.gguf", 2048, name="Small 1B", basename="Small", size_label="1B")
    backend = LlamaCppBackend(replace(LlamaOptions(), n_ctx=4096, max_tokens=256), model_path=path)
    backend.check_model_file()
    assert backend.capabilities.context_size == 2048
    assert window_budget(backend).describe() == (
        "local takes 1,792 tokens, its context of 2,048 (what the model was trained for; [backends.local] n_ctx "
        "4,096 is more) less 256 kept for the answer ([backends.local] max_tokens)"
    )


@pytest.mark.model
def test_smollm2_is_labelled_by_its_name_and_its_window_is_n_ctx_less_the_answer(smollm_path: Path) -> None:
    assert read_info(smollm_path).name == "SmolLM2 135M Instruct"
    backend = LlamaCppBackend(small_options(n_ctx=8192))
    assert backend.model_name == "SmolLM2 135M Instruct"  # before the load, as after
    backend.load()
    try:
        assert backend.model_name == "SmolLM2 135M Instruct"
        assert backend.capabilities.context_size == 8192
        assert window_budget(backend).tokens == 8192 - small_options().max_tokens
    finally:
        backend.close()


@pytest.mark.model
def test_a_question_over_the_local_context_names_n_ctx_not_unpinning(tmp_path: Path) -> None:
    """Nothing pinned, Claude absent: the refusal names the context, n_ctx and
    max_tokens, and says nothing of unpinning."""
    config = small_config()
    session = ChatSession(config, backends={"local": LlamaCppBackend(small_options())}, installed=False,
                          project_root=tmp_path)  # fmt: skip
    session.backend.load()
    result = session.run_turn("word " * 3000, threading.Event())
    assert result.outcome == "error" and result.error is not None and result.error.kind == "context"
    message = result.error.message
    assert "local takes 2,024 tokens, its context of 2,048 (n_ctx, [backends.local] n_ctx; the model was trained " \
           "for 8,192) less 24 kept for the answer ([backends.local] max_tokens)" in message
    assert "unpin" not in message and "/drop" not in message
    session.close()


def test_a_scripted_backend_without_settings_says_its_figures_alone(tmp_path: Path) -> None:
    """A plugin's backend has no settings table: the message names no table it lacks."""
    session = ChatSession(Config(), backends={"local": ScriptedBackend(name="local", context_size=100, max_tokens=20)},
                          installed=False, project_root=tmp_path)  # fmt: skip
    result = session.run_turn("word " * 200, threading.Event())
    assert result.error is not None
    said = "local takes 80 tokens, its context of 100 less 20 kept for the answer (its max_tokens)"
    assert said in result.error.message
