"""The benchmark's measuring (core/benchmark/measure.py) and its cases: exact
figures on a fake clock, consistent ones on a scripted backend's real delays,
and several backends, failures and cancelling."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest

from assistant.backends.scripted import ScriptedBackend, split_tokens
from assistant.core.backends.protocol import Capabilities
from assistant.core.benchmark.cases import BenchCase, bench_cases
from assistant.core.benchmark.measure import bench, model_identity, run_case
from assistant.core.conversation import Message
from assistant.core.events import BackendError, TextDelta, Timings, TurnDone, Usage
from assistant.core.hardware import machine_identity

CASE = BenchCase("tiny", (Message("user", "hi"),), max_tokens=8)
OTHER = BenchCase("other", (Message("user", "hello there"),), max_tokens=8)


# -- a backend on a fake clock: exact figures -----------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@dataclass(frozen=True)
class FakeSettings:
    max_tokens: int = 1024
    temperature: float = 0.7


class TimedBackend:
    """Each run: the first token after `ttft`, then 4 more `gap` apart (fake clock)."""

    name = "timed"
    model_name = "timed-model"

    def __init__(self, clock: FakeClock, script: list[tuple[float, float]], *, timings: bool = False) -> None:
        self.clock, self.script, self.timings = clock, list(script), timings
        self.settings = FakeSettings()
        self.forgotten = 0  # cold caches asked for
        self.seen_settings: list[FakeSettings] = []
        self.loaded = True

    @property
    def capabilities(self) -> Capabilities:
        return Capabilities(context_size=4096, local=True, tokenizer="words")

    def load(self, progress=None) -> None:
        pass

    def forget_cache(self) -> None:
        self.forgotten += 1

    def count_tokens(self, messages):  # not used: every run reports its usage
        raise AssertionError

    def stream(self, messages, cancel):
        ttft, gap = self.script.pop(0)
        self.seen_settings.append(self.settings)
        self.clock.now += ttft
        yield TextDelta("a", 1)
        for _ in range(4):
            self.clock.now += gap
            yield TextDelta(" b", 1)
        yield Usage(prompt_tokens=100, completion_tokens=5, prompt_tokens_evaluated=100)
        if self.timings:
            yield Timings(prompt_eval_seconds=0.25, prompt_eval_tokens=100, generation_seconds=1.0, generated_tokens=4)
        yield TurnDone("end_turn")

    def close(self) -> None:
        pass


def test_medians_spread_and_rates_over_the_measured_runs() -> None:
    clock = FakeClock()
    # the warm-up (9 s to first token) is not measured
    backend = TimedBackend(clock, [(9.0, 1.0), (0.3, 0.1), (0.1, 0.05), (0.2, 0.025)])
    result = run_case(backend, CASE, runs=3, clock=clock, machine="m", model="x")
    assert result.ttft == pytest.approx(0.2)
    assert result.ttft_spread == pytest.approx(0.2)
    assert result.generation_tps == pytest.approx(20.0)  # 4 tokens over 4 gaps: 10, 20, 40 tok/s
    assert result.prompt_tps == pytest.approx(500.0)  # 100 evaluated / TTFT: 333, 1000, 500
    assert (result.prompt_tokens, result.completion_tokens, result.runs) == (100, 5, 3)
    assert (result.backend, result.model, result.case, result.machine) == ("timed", "x", "tiny", "m")
    assert result.peak_memory_bytes is None


def test_prompt_rate_comes_from_the_engines_timings_when_reported() -> None:
    clock = FakeClock()
    backend = TimedBackend(clock, [(1.0, 0.1)] * 2, timings=True)
    assert run_case(backend, CASE, runs=1, clock=clock, machine="m").prompt_tps == pytest.approx(400.0)


def test_every_run_starts_from_a_cold_cache_with_the_cases_bound_then_settings_come_back() -> None:
    clock = FakeClock()
    backend = TimedBackend(clock, [(0.1, 0.1)] * 3)
    progress: list[tuple[int, int]] = []
    run_case(backend, CASE, runs=2, clock=clock, machine="m", on_progress=lambda d, t: progress.append((d, t)))
    assert backend.forgotten == 3  # warm-up included
    assert {s.max_tokens for s in backend.seen_settings} == {CASE.max_tokens}
    assert {s.temperature for s in backend.seen_settings} == {0.0}  # greedy: comparable runs
    assert backend.settings == FakeSettings()
    assert progress == [(0, 3), (1, 3), (2, 3), (3, 3)]


# -- real time: a scripted backend with a delay per token -------------------------


def test_figures_are_consistent_with_the_scripted_delay() -> None:
    delay = 0.01
    answer = "one two three four five six"
    backend = ScriptedBackend([answer], delay=delay)
    result = run_case(backend, CASE, runs=3, machine="m")
    tokens = len(split_tokens(answer))
    assert result.completion_tokens == tokens
    assert result.prompt_tokens == backend.count_tokens(CASE.messages).tokens
    assert delay <= result.ttft < delay + 0.05
    assert 0 <= result.ttft_spread < 0.05
    # every token after the first waited `delay` (a sleep never returns early)
    assert 0.3 / delay < result.generation_tps <= 1.02 / delay
    # no engine timings and no evaluated count: prompt tokens over TTFT (a local backend)
    assert result.prompt_tps == pytest.approx(result.prompt_tokens / result.ttft, rel=0.3)
    assert len(backend.seen) == 4


def test_a_remote_backend_gets_no_made_up_prompt_rate() -> None:
    result = run_case(ScriptedBackend(["a b"], local=False), CASE, runs=1, machine="m")
    assert result.prompt_tps is None and result.ttft is not None


# -- bench: several backends and cases ------------------------------------------


def test_a_backend_that_cannot_load_is_reported_on_one_line_and_skipped() -> None:
    lines: list[str] = []
    broken = ScriptedBackend(load_error="no model file at /nowhere.gguf", name="broken")
    good = ScriptedBackend(["a b c"], name="good")
    results = bench([broken, good], [CASE, OTHER], runs=1, report=lines.append)
    assert lines == ["broken: skipped: no model file at /nowhere.gguf"]
    assert [(r.backend, r.case) for r in results] == [("good", "tiny"), ("good", "other")]
    assert {r.machine for r in results} == {machine_identity()}


def test_a_case_that_fails_is_reported_and_the_next_one_still_runs() -> None:
    lines: list[str] = []
    backend = ScriptedBackend(["a b"], failures=[None, BackendError("rate limited", kind="rate_limit")])
    results = bench([backend], [CASE, OTHER], runs=1, report=lines.append)
    assert lines == ["scripted: tiny: rate limited: skipped"]
    assert [r.case for r in results] == ["other"]


def test_cancel_keeps_the_cases_finished_so_far() -> None:
    cancel = threading.Event()

    def progress(backend: str, case: str, done: int, total: int) -> None:
        if case == "other":
            cancel.set()

    results = bench([ScriptedBackend(["a b"])], [CASE, OTHER], runs=1, cancel=cancel, on_progress=progress)
    assert [r.case for r in results] == ["tiny"]


class HungryBackend(ScriptedBackend):
    """Takes 64 MiB of resident memory when it loads."""

    def load(self, progress=None) -> None:
        super().load(progress)
        self.weights = b"w" * (64 << 20)  # written, so resident

    def close(self) -> None:
        super().close()
        self.weights = b""


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc")
def test_peak_memory_is_the_growth_from_before_a_local_load() -> None:
    hungry = HungryBackend(["a"], name="hungry")
    remote = ScriptedBackend(["a"], name="remote", local=False)
    loaded = ScriptedBackend(["a"], name="loaded")
    loaded.load()
    by_name = {r.backend: r for r in bench([hungry, remote, loaded], [CASE], runs=1)}
    assert by_name["hungry"].peak_memory_bytes >= 60 << 20
    assert by_name["remote"].peak_memory_bytes is None
    assert by_name["loaded"].peak_memory_bytes is None  # its load was not seen


def test_cases_are_fixed_with_bounded_answers() -> None:
    full, quick = bench_cases(), bench_cases(quick=True)
    assert [c.name for c in full] == [
        "short-prompt/short-answer", "short-prompt/long-answer", "long-prompt/short-answer", "long-prompt/long-answer",
    ]  # fmt: skip
    assert [c.max_tokens for c in full] == [32, 256, 32, 256]
    assert [c.max_tokens for c in quick] == [16, 64, 16, 64]
    assert bench_cases() == full  # deterministic
    long_prompt = full[2].messages[-1].content
    assert "def synchronise" in long_prompt and 5_000 < len(long_prompt) < 8_000


# -- the model's identity -------------------------------------------------------


def test_model_identity_adds_a_local_files_size_and_header_hash(tmp_path: Path) -> None:
    backend = ScriptedBackend(model_name="tiny-model")
    assert model_identity(backend) == "tiny-model"
    path = tmp_path / "m.gguf"
    path.write_bytes(b"GGUF" + bytes(3 << 20))
    backend.model_path = path
    identity = model_identity(backend)
    assert re.fullmatch(r"tiny-model · 3\.0 MiB · [0-9a-f]{12}", identity)
    with path.open("r+b") as f:  # past the first MiB: same hash
        f.seek(2 << 20)
        f.write(b"x")
    assert model_identity(backend) == identity
    path.write_bytes(b"GGUG" + bytes(3 << 20))
    assert model_identity(backend) != identity
