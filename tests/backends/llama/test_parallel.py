"""Several generations at once on the real SmolLM2, in one llama.cpp context: they
share each decode, each gets what it gets alone (greedy), a cancel stops one only,
and the chat's conversation keeps its cache through a batch."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from assistant.backends.llama.backend import LlamaCppBackend
from assistant.core.conversation import Message
from assistant.core.events import StreamEvent, TextDelta, TurnDone, Usage
from tests.conftest import small_options

pytestmark = pytest.mark.model

TOPICS = ("cats", "the sea", "rain", "old maps")


def poem(topic: str) -> list[Message]:
    return [Message("user", f"Write a short poem about {topic}.")]


@pytest.fixture(scope="module")
def four() -> LlamaCppBackend:
    backend = LlamaCppBackend(small_options(parallel=4, max_tokens=40, n_threads=2))
    backend.load()
    yield backend
    backend.close()


def text(events: list[StreamEvent]) -> str:
    return "".join(e.text for e in events if isinstance(e, TextDelta))


def alone_texts(backend: LlamaCppBackend) -> list[str]:
    """Each topic's poem, run by itself from a cold cache (and the cache cold afterwards)."""
    said = []
    for topic in TOPICS:
        backend.forget_cache()
        said.append(text(list(backend.stream(poem(topic), threading.Event()))))
    backend.forget_cache()
    return said


def on_threads(backend: LlamaCppBackend, prompts: list[list[Message]],
               cancels: list[threading.Event]) -> list[list[StreamEvent]]:  # fmt: skip
    out: list[list[StreamEvent]] = [[] for _ in prompts]

    def one(i: int) -> None:
        for event in backend.stream(prompts[i], cancels[i]):
            out[i].append(event)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(prompts))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return out


def test_four_generations_share_each_decode_and_say_what_they_say_alone(four: LlamaCppBackend) -> None:
    alone = alone_texts(four)
    sizes: list[int] = []
    real = four.engine.decode

    def recording(*args):  # noqa: ANN002, ANN202
        sizes.append(four.engine.batch.size)
        return real(*args)

    four.engine.decode = recording  # type: ignore[method-assign]
    try:
        together = on_threads(four, [poem(t) for t in TOPICS], [threading.Event() for _ in TOPICS])
    finally:
        del four.engine.decode
    assert [text(events) for events in together] == alone
    assert sizes.count(4) >= 10  # the four generated a token each in one decode, step after step
    assert four.capabilities.max_concurrency == 4


class CancelAfter(threading.Event):
    """Set by its stream's consumer after `n` tokens."""

    def __init__(self, n: int) -> None:
        super().__init__()
        self.n = n


def test_a_cancel_stops_one_of_four_and_the_other_three_say_what_they_say_alone(four: LlamaCppBackend) -> None:
    alone = alone_texts(four)
    cancels = [threading.Event() for _ in TOPICS]
    out: list[list[StreamEvent]] = [[] for _ in TOPICS]

    def one(i: int) -> None:
        for event in four.stream(poem(TOPICS[i]), cancels[i]):
            out[i].append(event)
            if i == 1 and isinstance(event, TextDelta) and len(out[i]) >= 4:
                cancels[i].set()  # the second stream, a few tokens in

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(TOPICS))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    cancelled = out[1]
    assert cancelled[-1] == TurnDone("cancelled")
    shown = [e for e in cancelled if isinstance(e, TextDelta) and e.tokens]
    assert len(shown) == [e for e in cancelled if isinstance(e, Usage)][-1].completion_tokens < 40
    assert alone[1].startswith(text(cancelled))
    for i in (0, 2, 3):
        assert text(out[i]) == alone[i], TOPICS[i]
        assert out[i][-1] != TurnDone("cancelled")
    # the backend goes on serving, and the cancelled sequence's slot with it
    again = on_threads(four, [poem(t) for t in TOPICS], [threading.Event() for _ in TOPICS])
    assert [text(events) for events in again] == alone


def test_the_chat_keeps_its_cache_through_a_batch_on_the_other_sequences(four: LlamaCppBackend) -> None:
    """The chat's next turn evaluates as few tokens after a batch as with none in between."""
    chat = [Message("system", "You are helpful."), Message("user", "Name three colours.")]

    def follow_up_evaluated(batch: bool) -> int:
        four.forget_cache()
        answer = text(list(four.stream(chat, threading.Event())))
        if batch:  # eight one-off requests, four at a time (as a batch refactor's limit admits them)
            for start in (0, 4):
                prompts = [[Message("system", "You are helpful."), Message("user", f"Rewrite m{start + i}.py.")]
                           for i in range(4)]  # fmt: skip
                on_threads(four, prompts, [threading.Event() for _ in prompts])
        follow_up = [*chat, Message("assistant", answer), Message("user", "And two more?")]
        usage = [e for e in four.stream(follow_up, threading.Event()) if isinstance(e, Usage)][-1]
        assert usage.prompt_tokens_evaluated is not None
        assert usage.prompt_tokens_evaluated < usage.prompt_tokens // 3
        return usage.prompt_tokens_evaluated

    assert follow_up_evaluated(batch=True) == follow_up_evaluated(batch=False)


def test_a_batch_refactor_of_four_files_on_the_in_process_model_runs_them_at_once(tmp_path: Path,
                                                                                monkeypatch) -> None:  # noqa: ANN001
    from assistant.cli.commands import main
    from assistant.core.store.ledger import Ledger
    from tests.core.edits.gitrepo import make_repo

    files = {f"m{i}.py": f"def f{i}(x):\n    return x+{i}\n" for i in range(4)}
    repo = make_repo(tmp_path / "proj", files)
    monkeypatch.chdir(repo)
    main(["refactor", *files, "-m", "add spaces around +", "--backend", "local", "--yes",
          "--set", "backends.local.parallel=4", "--set", "backends.local.max_tokens=48",
          "--set", "backends.local.n_ctx=2048"])  # fmt: skip
    with Ledger.open() as ledger:
        first = sorted(ledger.turns(), key=lambda t: t.started_at)[:4]
    assert [t.backend for t in first] == ["local"] * 4
    assert max(t.started_at for t in first) < min(t.started_at + t.elapsed for t in first)  # all four at once


def test_auto_parallel_takes_as_many_sequences_as_memory_holds_beside_the_model(smollm_path: Path,
                                                                                monkeypatch) -> None:  # noqa: ANN001
    from assistant.backends.llama.gguf import read_info

    info = read_info(smollm_path)
    per_sequence = info.kv_bytes_per_token * 2048
    assert per_sequence == 30 * 3 * (64 + 64) * 2 * 2048  # SmolLM2: 30 layers, 3 KV heads of 64
    monkeypatch.setattr("assistant.backends.llama.backend.available_memory_bytes",
                        lambda: info.file_size + 3 * per_sequence + 1)  # fmt: skip
    auto = LlamaCppBackend(small_options(parallel=0), model_path=smollm_path)
    auto.check_model_file()
    assert auto.capabilities.max_concurrency == 2 and auto.sequences == 3
    roomy = LlamaCppBackend(small_options(parallel=0), model_path=smollm_path)
    monkeypatch.setattr("assistant.backends.llama.backend.available_memory_bytes", lambda: 2**40)
    roomy.check_model_file()
    assert roomy.capabilities.max_concurrency == 4


def test_a_set_parallel_whose_kv_cache_does_not_fit_is_refused_with_what_to_lower(smollm_path: Path,
                                                                                 monkeypatch) -> None:  # noqa: ANN001
    from assistant.backends.llama.gguf import read_info

    info = read_info(smollm_path)
    monkeypatch.setattr("assistant.backends.llama.backend.available_memory_bytes",
                        lambda: info.file_size + info.kv_bytes_per_token * 2048 * 4)  # fmt: skip
    backend = LlamaCppBackend(small_options(parallel=8), model_path=smollm_path)
    [error] = list(backend.stream(poem("cats"), threading.Event()))
    assert error.kind == "model_file" and "9 sequences of 2,048 tokens" in error.message
    assert "lower backends.local.parallel or n_ctx" in error.message and not backend.loaded


def test_an_auto_parallel_the_device_has_no_room_for_loads_with_one(smollm_path: Path, monkeypatch) -> None:  # noqa: ANN001
    """A GPU's memory is not known beforehand: llama.cpp failing to make the context of
    five sequences is answered by a load of two (one generation and the chat's)."""
    real = LlamaCppBackend._new_llama
    tried: list[int] = []

    def no_room_for_many(self, llama_cpp, progress):  # noqa: ANN001, ANN202
        tried.append(self.sequences)
        if self.sequences > 2:
            raise ValueError("Failed to create llama_context")
        return real(self, llama_cpp, progress)

    monkeypatch.setattr(LlamaCppBackend, "_new_llama", no_room_for_many)
    backend = LlamaCppBackend(small_options(parallel=0, n_gpu_layers=-1), model_path=smollm_path)
    backend.load()
    try:
        assert tried == [5, 2] and backend.capabilities.max_concurrency == 1
        assert backend.engine.sequences == 2
        assert text(list(backend.stream(poem("cats"), threading.Event())))
    finally:
        backend.close()
    pinned = LlamaCppBackend(small_options(parallel=4, n_gpu_layers=-1), model_path=smollm_path)
    with pytest.raises(Exception, match="could not load"):
        pinned.load()  # a set parallel is never lowered behind the user's back


def test_auto_parallel_follows_what_assistant_bench_measured_on_this_machine(smollm_path: Path, capsys) -> None:  # noqa: ANN001
    from assistant.core.hardware import machine_identity
    from assistant.core.results import BenchResult
    from assistant.core.store.ledger import Ledger

    backend = LlamaCppBackend(small_options(parallel=0), model_path=smollm_path)
    assert backend.measured_parallel() is None  # no ledger yet

    def measured(machine: str, concurrency: int, generation: float, aggregate: float | None) -> BenchResult:
        return BenchResult(at=1.0, machine=machine, backend="local", model=backend.model_name, case="c", runs=1,
                           prompt_tokens=40, completion_tokens=64, prompt_tps=None, generation_tps=generation,
                           ttft=None, ttft_spread=None, concurrency=concurrency, aggregate_tps=aggregate)  # fmt: skip

    here = machine_identity()
    with Ledger.open() as ledger:
        ledger.record_bench([measured(here, 1, 100.0, None), measured(here, 2, 70.0, 135.0),
                             measured(here, 4, 30.0, 105.0),  # no gain at 4 on this machine
                             measured("another machine · 64 cores", 8, 90.0, 700.0)])  # fmt: skip
    backend.load()
    try:
        assert backend.measured_parallel() == 2
        assert backend.capabilities.max_concurrency == 2 and backend.engine.sequences == 3
    finally:
        backend.close()
    from assistant.cli.commands import main

    assert main(["report", "--all"]) == 0
    words = " ".join(capsys.readouterr().out.split())
    assert "an auto [backends.local] parallel loads with 2 on this machine" in words


def test_closing_the_backend_ends_its_running_generations_as_cancelled(smollm_path: Path) -> None:
    backend = LlamaCppBackend(small_options(parallel=2, max_tokens=400), model_path=smollm_path)
    backend.load()
    events: list[StreamEvent] = []
    streaming = threading.Event()

    def one() -> None:
        for event in backend.stream([Message("user", "Tell me a very long story.")], threading.Event()):
            events.append(event)
            streaming.set()

    worker = threading.Thread(target=one)
    worker.start()
    assert streaming.wait(60)
    backend.close()
    worker.join(60)
    assert not worker.is_alive() and events[-1] == TurnDone("cancelled")
    assert not backend.loaded
