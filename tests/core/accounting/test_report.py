"""`core.accounting.report`: measured figures per backend and model, the hybrid split, and
the cost against all-Claude and all-local, all equal to figures computed by hand."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from assistant.core.accounting.report import (
    ACTIVE_HOURS,
    BENCH_RUNS,
    MIN_SAMPLES,
    NO_QUALITY_DATA,
    Figure,
    build_report,
    figure,
    main_row,
    rests_on,
)
from assistant.core.results import BenchResult
from assistant.core.store.ledger import Ledger, TurnRecord

approx = pytest.approx
T0 = 1_796_000_000.0
CLAUDE, SMOL = "claude-sonnet-5-5", "SmolLM2"


def claude(i: int, prompt: int, out: int, tps: float, ttft: float, cost: float | None) -> TurnRecord:
    return TurnRecord("s1", T0 + i, "claude", CLAUDE, "ok", prompt_tokens=prompt, completion_tokens=out,
                      tokens_per_second=tps, ttft=ttft, cost=cost, counterfactual_cost=cost)


def local(i: int, prompt: int | None, out: int, tps: float | None, ttft: float | None, cf: float,
          outcome: str = "ok") -> TurnRecord:
    return TurnRecord("s1", T0 + 100 + i, "local", SMOL, outcome, prompt_tokens=prompt, completion_tokens=out,
                      tokens_per_second=tps, ttft=ttft, cost=0.0, counterfactual_cost=cf)


RECORDS = [
    claude(0, 1000, 200, 40.0, 1.0, 0.010),
    claude(1, 2000, 300, 50.0, 2.0, 0.020),
    claude(2, 1000, 100, 60.0, 1.5, 0.005),
    claude(3, 4000, 400, 70.0, 3.0, 0.025),
    local(0, 500, 100, 20.0, 0.2, 0.004),
    local(1, 500, 200, 25.0, 0.4, 0.005),
    local(2, 1000, 300, 30.0, 0.3, 0.009),
    # A request refused before any usage: no tokens, no speed, cost $0.
    local(3, None, 0, None, None, 0.0, outcome="error"),
]
# Claude: 8,000 prompt + 1,000 output = 9,000 tokens for $0.06.
# Local: 2,000 prompt + 600 output = 2,600 tokens for $0. All: 11,600 tokens.


def rows(report):
    return {(r.backend, r.model): r for r in report.rows}


def test_claude_figures_equal_the_hand_computed_ones() -> None:
    row = rows(build_report(RECORDS))[("claude", CLAUDE)]
    assert not row.local and row.turns == 4
    assert (row.tokens_in, row.tokens_out) == (8000, 1000)
    assert row.generation_tps == Figure(55.0, 4)  # median of 40, 50, 60, 70
    assert row.ttft_median == Figure(1.75, 4)  # median of 1.0, 1.5, 2.0, 3.0
    assert row.ttft_p95 == Figure(3.0, 4)  # nearest rank: ceil(0.95 · 4) = 4th smallest
    # $0.06 / 9,000 tokens × 1e6
    assert row.cost_per_million.value == approx(0.06 / 9000 * 1e6) == approx(6.6667, rel=1e-4)
    assert row.cost_per_million.basis == 4
    # 55 tok/s × 3600 s × hours
    assert [(c.hours, c.tokens.value) for c in row.daily_capacity] == [
        (2, 396_000.0), (4, 792_000.0), (8, 1_584_000.0), (24, 4_752_000.0)
    ]
    assert tuple(c.hours for c in row.daily_capacity) == ACTIVE_HOURS


def test_local_figures_skip_what_a_failed_turn_did_not_measure() -> None:
    row = rows(build_report(RECORDS))[("local", SMOL)]
    assert row.local and row.turns == 4
    assert row.generation_tps == Figure(25.0, 3)  # the error turn measured no speed
    assert row.ttft_median == Figure(0.3, 3) and row.ttft_p95 == Figure(0.4, 3)
    assert row.cost_per_million == Figure(0.0, 4)  # $0 over 2,600 tokens
    assert row.daily_capacity[0].tokens.value == 25.0 * 3600 * 2


def test_the_hybrid_split_actually_used() -> None:
    report = build_report(RECORDS)
    split = {s.backend: s for s in report.split}
    assert split["claude"].turns == 4 and split["claude"].share_turns == 0.5
    assert split["claude"].tokens == 9000 and split["claude"].share_tokens == approx(9000 / 11600)
    assert split["local"].local and split["local"].share_tokens == approx(2600 / 11600)
    assert report.local_token_share == Figure(approx(2600 / 11600), 8)


def test_the_split_per_kind_is_each_kind_s_share_of_tokens_served_locally_and_the_plan_takes_it() -> None:
    from dataclasses import replace

    from assistant.core.accounting.workloads import rates_from_report

    kinds = ["code", "code", "explain", "code", "explain", "explain", "code", "explain"]
    records = [replace(r, kind=k) for r, k in zip(RECORDS, kinds)] + [replace(RECORDS[0], kind="")]
    report = build_report(records)
    tokens = {k: [(r.prompt_tokens or 0) + r.completion_tokens for r, kk in zip(RECORDS, kinds) if kk == k] for k in
              ("code", "explain")}
    local = {k: sum((r.prompt_tokens or 0) + r.completion_tokens for r, kk in zip(RECORDS, kinds)
                    if kk == k and r.backend == "local") for k in ("code", "explain")}
    assert [k for k, _ in report.local_share_by_kind] == ["code", "explain"]  # a turn of no kind is left out
    assert [v for _, v in report.local_share_by_kind] == approx([local[k] / sum(tokens[k]) for k in ("code", "explain")])
    assert rates_from_report(report, machine_per_hour=0.0).local_share_by_kind == report.local_share_by_kind


def test_speed_series_keep_each_model_s_last_answered_turns_and_their_spread() -> None:
    from assistant.core.accounting.report import speed_series

    # The error turn and a speed of 0 measured nothing to chart.
    records = [*RECORDS, replace(RECORDS[4], tokens_per_second=0.0), replace(RECORDS[0], tokens_per_second=80.0)]
    claude_series, local_series = speed_series(records)  # in the order of their first turn
    assert (claude_series.backend, claude_series.model) == ("claude", CLAUDE)
    assert claude_series.tps == (40.0, 50.0, 60.0, 70.0, 80.0)
    assert (claude_series.minimum, claude_series.median, claude_series.maximum) == (40.0, 60.0, 80.0)
    assert local_series.tps == (20.0, 25.0, 30.0) and local_series.median == 25.0
    (last_two, _) = speed_series(records, last=2)
    assert last_two.tps == (70.0, 80.0) and (last_two.minimum, last_two.median, last_two.maximum) == (70.0, 75.0, 80.0)
    assert speed_series([RECORDS[7]]) == ()


def test_cost_against_all_claude_and_all_local() -> None:
    report = build_report(RECORDS, machine_per_hour=0.9)
    assert report.cost_actual == Figure(approx(0.06), 8)
    assert report.cost_all_claude == Figure(approx(0.078), 8)  # 0.06 + 0.004 + 0.005 + 0.009 + 0
    # All 8 turns locally: 8 × 0.3 s median TTFT + 1,600 output tokens / 25 tok/s = 2.4 + 64 = 66.4 s
    assert report.all_local_seconds == Figure(approx(66.4), 8)
    assert report.cost_all_local == Figure(approx(0.9 * 66.4 / 3600), 8)  # $0.0166
    assert "8 turns × 0.3 s" in report.all_local_method and "1,600 output tokens ÷ 25 tok/s" in report.all_local_method
    assert "$0.9/hour" in report.all_local_method


def test_all_local_is_zero_on_a_free_machine_whatever_the_time() -> None:
    only_claude = RECORDS[:4]
    report = build_report(only_claude, machine_per_hour=0.0)
    assert report.cost_all_local == Figure(0.0, 4)
    assert report.all_local_seconds.value is None and "no local turns" in report.all_local_seconds.reason
    assert "$0/hour" in report.all_local_method
    priced = build_report(only_claude, machine_per_hour=1.5)
    assert priced.cost_all_local.value is None and "no local turns" in priced.cost_all_local.reason


def test_too_few_turns_give_no_figure_but_a_reason() -> None:
    report = build_report(RECORDS[:2] + RECORDS[4:5])
    row = rows(report)[("claude", CLAUDE)]
    assert MIN_SAMPLES == 3
    for fig in (row.generation_tps, row.ttft_median, row.ttft_p95, row.cost_per_million, row.daily_capacity[3].tokens):
        assert fig == Figure(None, 2, reason="not enough data (2 turns)")
    assert rows(report)[("local", SMOL)].generation_tps.reason == "not enough data (1 turn)"
    assert report.cost_actual == Figure(approx(0.03), 3)  # three turns in all are enough


def test_an_unknown_cost_is_never_counted_as_zero() -> None:
    records = [*RECORDS[:3], claude(3, 4000, 400, 70.0, 3.0, None)]
    report = build_report(records)
    row = rows(report)[("claude", CLAUDE)]
    assert row.cost_per_million == Figure(None, 4, reason="cost unknown for 1 turn")
    assert row.generation_tps.value == 55.0  # the speed is still known
    assert report.cost_actual == Figure(None, 4, reason="cost unknown for 1 turn")
    assert report.cost_all_claude.reason == "all-Claude cost unknown for 1 turn"


def test_quality_has_no_data_rather_than_an_invented_rate() -> None:
    for row in build_report(RECORDS).rows:
        assert row.quality == Figure(None, 0, reason=NO_QUALITY_DATA)


def bench(model: str, prompt_tps: float | None, runs: int = 3, backend: str = "local") -> BenchResult:
    return BenchResult(at=T0, machine="test box", backend=backend, model=model, case="short-prompt/short-answer",
                       runs=runs, prompt_tokens=100, completion_tokens=50, prompt_tps=prompt_tps,
                       generation_tps=30.0, ttft=0.3, ttft_spread=0.05)


def test_prompt_speed_comes_from_benchmark_runs() -> None:
    results = [bench(f"{SMOL} (1.2 GiB, 0a1b2c3d)", 300.0, runs=2), bench(SMOL, 500.0, runs=2), bench(SMOL, None)]
    report = build_report(RECORDS, results)
    row = rows(report)[("local", SMOL)]
    # The median of the two results that measured it, resting on their 2 + 2 runs.
    assert row.prompt_tps == Figure(400.0, 4, BENCH_RUNS)
    assert report.bench_runs == 7
    assert rows(report)[("claude", CLAUDE)].prompt_tps == Figure(None, 0, BENCH_RUNS, "no bench runs")


def test_a_benchmarked_model_without_turns_gets_its_own_row() -> None:
    report = build_report(RECORDS, [bench("qwen-7b", 250.0, runs=2)])
    row = rows(report)[("local", "qwen-7b")]
    assert row.turns == 0 and row.generation_tps.reason == "not enough data (2 bench runs)"
    assert row.prompt_tps == Figure(None, 2, BENCH_RUNS, "not enough data (2 bench runs)")
    assert main_row(report.rows, local=True).model == SMOL  # measured most: 3 turns against 2 runs


def test_no_turns_at_all() -> None:
    report = build_report([])
    assert report.rows == () and report.split == () and report.turns == 0
    assert report.local_token_share == Figure(None, 0, reason="no turns")
    assert main_row(report.rows, local=False) is None


def test_figure_threshold() -> None:
    assert figure(1.0, 3) == Figure(1.0, 3)
    assert figure(None, 3, missing="why") == Figure(None, 3, reason="why")
    assert figure(1.0, 1, BENCH_RUNS).reason == "not enough data (1 bench run)"


def test_the_same_figures_from_a_ledger_file(tmp_path: Path) -> None:
    with Ledger.open(tmp_path / "ledger.sqlite3") as ledger:
        for record in RECORDS:
            ledger.record_turn(record)
        read_back = ledger.turns()
    assert build_report(read_back, machine_per_hour=0.9) == build_report(RECORDS, machine_per_hour=0.9)


def bench_case(model: str, prompt_tokens: int, tps: float, ttft: float, runs: int = 3) -> BenchResult:
    return replace(bench(model, 300.0, runs=runs), prompt_tokens=prompt_tokens, generation_tps=tps, ttft=ttft,
                   case=f"{prompt_tokens}-token prompt")


def test_a_ledger_of_bench_runs_only_gives_speeds_latency_and_capacity_resting_on_them() -> None:
    report = build_report([], [bench_case("qwen-7b", 100, 40.0, 0.2), bench_case("qwen-7b", 2000, 30.0, 1.0)])
    row = rows(report)[("local", "qwen-7b")]
    assert row.generation_tps == Figure(35.0, 0, bench_runs=6)  # the median of 3 x 40 and 3 x 30
    assert row.ttft_median == Figure(0.6, 0, bench_runs=6) and row.ttft_p95.value == 1.0
    assert row.daily_capacity[0].tokens == Figure(35.0 * 3600 * 2, 0, bench_runs=6)
    assert rests_on(row.generation_tps) == "6 bench runs"
    assert main_row(report.rows, local=True) is row  # the plan and the all-local estimate rest on it


def test_turns_and_bench_runs_of_a_model_are_counted_together_as_hand_computed() -> None:
    # SmolLM2's turns: tps 20, 25, 30; TTFT 0.2, 0.4, 0.3 at prompts of 500-1000 tokens.
    results = [bench_case(SMOL, 800, 40.0, 0.5, runs=2), bench_case(SMOL, 4000, 10.0, 3.0, runs=2)]
    row = rows(build_report(RECORDS, results))[("local", SMOL)]
    # Speed: 20, 25, 30 + 40, 40 + 10, 10 -> median 25.
    assert row.generation_tps == Figure(25.0, 3, bench_runs=4)
    assert rests_on(row.generation_tps) == "4 bench runs + 3 turns"
    # First token: only the bench case whose prompt (800) lies within the turns' (500-1000):
    # 0.2, 0.4, 0.3, 0.5, 0.5 -> median 0.4, nearest-rank p95 0.5.
    assert row.ttft_median == Figure(0.4, 3, bench_runs=2) and row.ttft_p95 == Figure(0.5, 3, bench_runs=2)


def test_a_bench_of_one_model_never_fills_another_s_row() -> None:
    report = build_report(RECORDS, [bench_case("qwen-7b", 100, 99.0, 0.1)])
    smol, claude_row = rows(report)[("local", SMOL)], rows(report)[("claude", CLAUDE)]
    assert smol.generation_tps == Figure(25.0, 3) and smol.generation_tps.bench_runs == 0
    assert claude_row.generation_tps.bench_runs == 0 and claude_row.ttft_median.bench_runs == 0
