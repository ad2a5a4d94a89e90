"""The llama.cpp backend on the real SmolLM2-135M-Instruct (a Llama-architecture GGUF)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from assistant.backends.llama.backend import LlamaCppBackend
from assistant.core.conversation import Message
from assistant.core.events import BackendError, TextDelta, Timings, TurnDone, Usage
from tests.conftest import collect, small_options

pytestmark = pytest.mark.model

QUESTION = [Message("system", "You are helpful."), Message("user", "Name three colours.")]


def of(events, kind):
    return [e for e in events if isinstance(e, kind)]


def test_streams_text_usage_and_timings(local_backend: LlamaCppBackend) -> None:
    events = collect(local_backend, QUESTION)
    deltas = of(events, TextDelta)
    assert len(deltas) >= 5 and "".join(d.text for d in deltas).strip()
    assert isinstance(events[-1], TurnDone)
    # the prompt's usage comes as soon as it is evaluated (before the first text), the full one at the end
    early, usage = of(events, Usage)
    assert events.index(early) < events.index(deltas[0])
    assert (early.prompt_tokens, early.completion_tokens) == (usage.prompt_tokens, 0)
    assert usage.prompt_tokens == local_backend.count_tokens(QUESTION).tokens
    # every generated token is one delta of one token (plus, at most, a flush of 0 tokens)
    assert usage.completion_tokens == sum(d.tokens for d in deltas)
    assert 0 < usage.completion_tokens <= 24
    [timings] = of(events, Timings)
    assert timings.prompt_eval_seconds > 0 and timings.generation_seconds > 0
    assert timings.generated_tokens >= usage.completion_tokens - 1


def test_chat_template_comes_from_the_gguf(local_backend: LlamaCppBackend) -> None:
    tokens = local_backend.prompt_tokens(QUESTION)
    text = local_backend.llama.detokenize(tokens, special=True).decode()
    assert "<|im_start|>user\nName three colours.<|im_end|>" in text
    assert text.endswith("<|im_start|>assistant\n")


def test_cancel_stops_within_one_token(local_backend: LlamaCppBackend) -> None:
    cancel = threading.Event()
    seen = []
    for event in local_backend.stream([Message("user", "Count from 1 to 100.")], cancel):
        seen.append(event)
        if isinstance(event, TextDelta) and event.tokens:
            cancel.set()
    deltas = [e for e in seen if isinstance(e, TextDelta) and e.tokens]
    assert len(deltas) == 1
    assert seen[-1] == TurnDone("cancelled")
    assert of(seen, Usage)[-1].completion_tokens == 1


def test_second_turn_reuses_the_kv_cache_prefix(local_backend: LlamaCppBackend) -> None:
    first = collect(local_backend, QUESTION)
    answer = "".join(d.text for d in of(first, TextDelta))
    follow_up = QUESTION + [Message("assistant", answer), Message("user", "And three animals?")]
    second = collect(local_backend, follow_up)
    usage = of(second, Usage)[-1]
    assert usage.prompt_tokens > of(first, Usage)[-1].prompt_tokens
    # only the new tail is evaluated; the conversation's prefix comes from the KV cache
    assert usage.prompt_tokens_evaluated is not None
    assert usage.prompt_tokens_evaluated < usage.prompt_tokens // 2
    [timings] = of(second, Timings)
    assert timings.prompt_eval_tokens <= usage.prompt_tokens_evaluated


def test_greedy_output_is_repeatable(local_backend: LlamaCppBackend) -> None:
    a = "".join(d.text for d in of(collect(local_backend, QUESTION), TextDelta))
    local_backend.forget_cache()  # force a full re-evaluation
    b = "".join(d.text for d in of(collect(local_backend, QUESTION), TextDelta))
    assert a == b


def test_context_overflow_is_a_clear_error(local_backend: LlamaCppBackend) -> None:
    long = [Message("user", "word " * 5000)]
    [error] = collect(local_backend, long)
    assert isinstance(error, BackendError) and error.kind == "context"
    assert "more than the model's context of 2,048" in error.message


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d, m: d / "missing.gguf", "model file not found"),
        (lambda d, m: (d / "text.gguf").write_text("hello") and d / "text.gguf", "not a GGUF model file"),
        (lambda d, m: (d / "cut.gguf").write_bytes(m.read_bytes()[:30_000_000]) and d / "cut.gguf", "truncated"),
    ],
)
def test_bad_model_files_are_clear_errors(tmp_path: Path, smollm_path: Path, make, message: str) -> None:
    path = make(tmp_path, smollm_path)
    backend = LlamaCppBackend(small_options(), model_path=path)
    [error] = collect(backend, QUESTION)
    assert isinstance(error, BackendError) and error.kind == "model_file"
    assert message in error.message
    assert not backend.loaded


def test_model_too_large_for_memory(monkeypatch: pytest.MonkeyPatch, smollm_path: Path) -> None:
    monkeypatch.setattr("assistant.backends.llama.backend.available_memory_bytes", lambda: 10 * 2**20)
    backend = LlamaCppBackend(small_options(), model_path=smollm_path)
    [error] = collect(backend, QUESTION)
    assert "model too large for memory" in error.message and "n_gpu_layers" in error.message


def test_corrupt_tensor_data_fails_in_llama_cpp_without_a_crash(tmp_path: Path, smollm_path: Path) -> None:
    """A file whose header is fine but whose metadata is garbage: llama.cpp refuses it."""
    data = bytearray(smollm_path.read_bytes())
    arch = data.find(b"llama", 0, 4096)
    data[arch : arch + 5] = b"zzzzz"  # general.architecture = "zzzzz": unknown to llama.cpp
    bad = tmp_path / "arch.gguf"
    bad.write_bytes(bytes(data))
    backend = LlamaCppBackend(small_options(), model_path=bad)
    [error] = collect(backend, QUESTION)
    assert error.kind == "load" and "llama.cpp could not load arch.gguf" in error.message


def test_load_reports_progress_and_can_be_aborted(smollm_path: Path) -> None:
    seen: list[float] = []
    backend = LlamaCppBackend(small_options(), model_path=smollm_path)
    backend.load(lambda f: seen.append(f) or True)
    assert seen[0] == 0.0 and seen[-1] == 1.0 and seen == sorted(seen)
    backend.close()

    from assistant.core.backends.protocol import BackendUnavailable

    aborting = LlamaCppBackend(small_options(), model_path=smollm_path)
    with pytest.raises(BackendUnavailable):
        aborting.load(lambda f: f < 0.5)
    assert not aborting.loaded


def test_threads_default_to_physical_cores(smollm_path: Path) -> None:
    from assistant.core.hardware import physical_cores

    backend = LlamaCppBackend(small_options(n_threads=0), model_path=smollm_path)
    assert backend.n_threads == physical_cores()
    pinned = LlamaCppBackend(small_options(n_threads=3), model_path=smollm_path)
    assert pinned.n_threads == 3


class CancelDuringDecode(threading.Event):
    """Set by the `at`-th look at it: the abort callback looks between the graph's
    nodes (hundreds per decode), so that look is inside the prompt's first decode."""

    def __init__(self, at: int) -> None:
        super().__init__()
        self.at, self.looks = at, 0

    def is_set(self) -> bool:
        self.looks += 1
        if self.looks == self.at:
            self.set()
        return super().is_set()


def test_cancel_interrupts_a_long_prompt_evaluation(local_backend: LlamaCppBackend) -> None:
    """Esc during the (long) prompt evaluation stops llama.cpp inside the decode: the
    batch it came in is never finished (nothing of the prompt is cached), where a cancel
    looked at only between batches or tokens would let the prompt's evaluation run on."""
    local_backend.forget_cache()
    long_prompt = [Message("user", "Summarise this. " + "The quick brown fox jumps over the lazy dog. " * 150)]
    assert local_backend.count_tokens(long_prompt).tokens > 1500
    cancel = CancelDuringDecode(at=50)
    events = collect(local_backend, long_prompt, cancel)
    assert events[-1] == TurnDone("cancelled")
    assert not of(events, TextDelta)
    assert local_backend.cached_tokens() == []
    # the backend is still usable afterwards, and answers as before
    after = collect(local_backend, QUESTION)
    assert isinstance(after[-1], TurnDone) and of(after, TextDelta)


def test_every_decode_runs_on_the_engine_thread_whoever_streams(local_backend: LlamaCppBackend) -> None:
    """llama.cpp's OpenMP team belongs to the calling thread; decodes from the
    caller's threads (a worker per TUI turn, the CLI's main thread) would leave a
    team per thread alive and oversubscribe the cores. All run on one thread."""
    engine = local_backend.engine
    seen: set[str] = set()
    real = engine.decode

    def recording(*args):  # noqa: ANN002, ANN202
        seen.add(threading.current_thread().name)
        return real(*args)

    engine.decode = recording  # type: ignore[method-assign]
    try:
        collect(local_backend, QUESTION)
        worker = threading.Thread(target=lambda: collect(local_backend, QUESTION), name="a-turn-worker")
        worker.start()
        worker.join()
    finally:
        del engine.decode
    assert len(seen) == 1 and next(iter(seen)).startswith("llama-engine")
