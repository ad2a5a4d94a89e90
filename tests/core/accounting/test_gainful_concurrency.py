"""Which streams at once a machine gains from, as `assistant bench` measured it: what an
auto `[backends.local] parallel` loads with."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from assistant.core.accounting.bench_results import GAINFUL, gainful_concurrency
from assistant.core.results import BenchResult


def run(concurrency: int, generation: float | None, aggregate: float | None = None) -> BenchResult:
    return BenchResult(at=0.0, machine="m", backend="local", model="x", case="c", runs=3, prompt_tokens=40,
                       completion_tokens=128, prompt_tps=None, generation_tps=generation, ttft=None,
                       ttft_spread=None, concurrency=concurrency, aggregate_tps=aggregate)  # fmt: skip


def test_the_most_throughput_wins_where_it_gains_and_one_where_nothing_does() -> None:
    single = [run(1, 100.0), run(1, 120.0)]
    assert gainful_concurrency([*single, run(4, 60.0, 150.0), run(8, 40.0, 190.0)]) == 8
    assert gainful_concurrency([*single, run(4, 60.0, 160.0), run(8, 15.0, 120.0)]) == 4
    assert gainful_concurrency([*single, run(4, 30.0, 112.0)]) == 1  # 112 < 1.1 × 110
    assert gainful_concurrency(single) is None  # several at once never measured
    assert gainful_concurrency([run(4, 60.0, 150.0)]) is None  # one at a time never measured


rates = st.none() | st.floats(0.0, 1e4)
runs = st.lists(st.builds(run, st.integers(1, 16), rates, rates), max_size=12)


@given(runs)
def test_the_answer_is_a_measured_count_one_or_unknown(bench: list[BenchResult]) -> None:
    found = gainful_concurrency(bench)
    measured = {b.concurrency for b in bench if b.concurrency > 1 and b.aggregate_tps}
    assert found is None or found == 1 or found in measured
    if found not in (None, 1):
        best = max(b.aggregate_tps for b in bench if b.concurrency == found and b.aggregate_tps)
        assert best >= GAINFUL * min(b.generation_tps for b in bench if b.concurrency == 1 and b.generation_tps)
