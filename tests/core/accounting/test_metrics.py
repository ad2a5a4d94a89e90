from __future__ import annotations

import pytest

from assistant.core.events import BackendError, TextDelta, Timings, TurnDone, Usage
from assistant.core.accounting.metrics import SessionTotals, TurnMetrics
from assistant.core.accounting.pricing import local_turn_cost


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_ttft_and_generation_rate_count_model_tokens() -> None:
    clock = FakeClock()
    m = TurnMetrics(clock)
    clock.now = 100.5
    m.observe(TextDelta("Hel", 1))  # first token at 0.5 s
    for i in range(10):  # 10 more tokens over 2 s; text length is irrelevant
        clock.now += 0.2
        m.observe(TextDelta("x" * (i + 1), 1))
    assert m.ttft == pytest.approx(0.5)
    assert m.generation_tps() == pytest.approx(10 / 2.0)
    clock.now += 1.0
    m.observe(Usage(prompt_tokens=40, completion_tokens=11, prompt_tokens_evaluated=25))
    m.observe(TurnDone("end_turn"))
    s = m.snapshot()
    assert s.finished and s.tokens_out == 11 and s.tokens_in == 40
    assert s.generation_tps == pytest.approx(5.0)  # final: first to last token, not to done
    assert s.elapsed == pytest.approx(3.5)
    assert s.prompt_tokens_evaluated == 25
    assert s.prompt_eval_tps == pytest.approx(25 / 0.5)


def test_live_rate_falls_while_the_stream_stalls() -> None:
    clock = FakeClock()
    m = TurnMetrics(clock)
    m.observe(TextDelta("a", 1))
    clock.now += 1.0
    m.observe(TextDelta("b", 1))
    assert m.generation_tps() == pytest.approx(1.0)
    clock.now += 1.0
    assert m.generation_tps() == pytest.approx(0.5)


def test_engine_timings_win_for_prompt_eval_rate() -> None:
    m = TurnMetrics(FakeClock())
    m.observe(Timings(prompt_eval_seconds=0.25, prompt_eval_tokens=100, generation_seconds=1, generated_tokens=9))
    assert m.prompt_eval_tps() == pytest.approx(400.0)


def test_nothing_measured_is_none_not_zero() -> None:
    m = TurnMetrics(FakeClock())
    m.observe(BackendError("boom"))
    s = m.snapshot()
    assert s.ttft is None and s.generation_tps is None and s.prompt_eval_tps is None
    assert m.outcome == "error"


def test_session_totals_and_unknown_cost() -> None:
    m = TurnMetrics(FakeClock())
    m.observe(Usage(10, 5))
    m.observe(TurnDone("end_turn"))
    totals = SessionTotals()
    totals.add(m.snapshot(), 0.25)
    totals.add(m.snapshot(), None)
    assert totals.turns == 2 and totals.tokens_in == 20 and totals.tokens_out == 10
    assert totals.cost == 0.25 and totals.cost_known is False


def test_local_cost_spreads_the_hourly_rate_over_measured_time() -> None:
    assert local_turn_cost(3.6, 10.0) == pytest.approx(0.01)
    assert local_turn_cost(0.0, 10.0) == 0.0


def test_context_fill_is_the_prompt_over_the_window_budget() -> None:
    import threading

    from assistant.backends.scripted import ScriptedBackend
    from assistant.core.session.chat import ChatSession
    from assistant.core.config import Config

    backend = ScriptedBackend(["one two three"], context_size=2024)  # window: 2,024 - 1,024 reserved
    session = ChatSession(Config(), backend)
    fills = []
    session.run_turn("hi", threading.Event(), lambda event: fills.append(session.status().context_fill))
    assert fills[0] is None  # nothing measured before the usage arrives
    assert session.status().context_fill == session.last.stats.tokens_in / 1000


def test_a_finished_turn_shows_the_engines_own_generation_rate() -> None:
    """The status bar's tokens/sec is the engine's truth (its tokens ÷ its decode
    time), not how fast the tokens were taken downstream; live, the measured rate."""
    clock = FakeClock()
    m = TurnMetrics(clock)
    m.observe(TextDelta("a", 1))
    clock.now += 2.0
    m.observe(TextDelta("b", 1))
    assert m.generation_tps() == pytest.approx(0.5)  # streaming: measured
    m.observe(Timings(prompt_eval_seconds=0.1, prompt_eval_tokens=10, generation_seconds=0.5, generated_tokens=4))
    m.observe(TurnDone("end_turn"))
    assert m.generation_tps() == pytest.approx(8.0)
    assert m.snapshot().generation_seconds == pytest.approx(2.0)  # the measured span is kept
