"""`core.accounting.workloads`: workloads as data, and the time and cost of each configuration
computed by hand from given rates."""

from __future__ import annotations

from dataclasses import replace

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from assistant.core.accounting.workloads import (
    CLAUDE_TPS,
    DEFAULT_PROMPT_TOKENS,
    LOCAL_TPS,
    LOCAL_TTFT,
    SPLIT,
    MissingRate,
    PlanLimits,
    PlanRates,
    WorkItem,
    Workload,
    WorkloadError,
    builtin_workloads,
    claude_seconds,
    at_prompt_length,
    parse_workloads,
    plan,
    rates_from_report,
    read_workloads,
)
from assistant.core.accounting.report import build_report
from tests.core.accounting.test_report import RECORDS

approx = pytest.approx

# Claude: 50 tok/s, 2 s to the first token, $10 per million tokens.
# Local: 20 tok/s, 0.5 s to the first token, a machine at $0.90/hour.
RATES = PlanRates(
    claude_tps=50.0, claude_ttft=2.0, claude_per_million=10.0,
    local_tps=20.0, local_ttft=0.5, local_per_hour=0.9, local_share=0.5,
)
SEQUENTIAL = PlanLimits(claude_concurrency=1, claude_requests_per_second=100.0)  # pacing (0.01 s) never binds


def workload(name: str) -> Workload:
    return {w.name: w for w in builtin_workloads()}[name]


def configs(result):
    return {c.name: c for c in result.configurations}


def test_the_built_in_scenarios_are_the_analysis_workloads() -> None:
    spec, sprint = workload("spec-week"), workload("refactor-sprint")
    assert [(i.count, i.output_tokens) for i in spec.items] == [(50, 2000), (30, 5000), (20, 3000)]
    assert [(i.count, i.output_tokens) for i in sprint.items] == [(10, 10_000), (20, 2000), (15, 1500)]
    assert plan(spec, RATES, SEQUENTIAL).output_tokens == 310_000  # 100k + 150k + 60k
    assert plan(sprint, RATES, SEQUENTIAL).output_tokens == 162_500  # 100k + 40k + 22.5k
    # Prompts (our assumption, documented in workloads.toml): 50×1,000 + 30×3,000 + 20×2,000
    assert plan(spec, RATES, SEQUENTIAL).prompt_tokens == 180_000
    assert plan(sprint, RATES, SEQUENTIAL).prompt_tokens == 187_500  # 10×10,500 + 20×3,000 + 15×1,500


def test_spec_week_with_given_rates() -> None:
    c = configs(plan(workload("spec-week"), RATES, SEQUENTIAL))
    # Claude, one at a time: specs 50 × (2 + 2,000/50 = 42 s) = 2,100; code 30 × (2 + 100) = 3,060;
    # docs 20 × (2 + 60) = 1,240: 6,400 s. Cost: 490,000 tokens × $10/M = $4.90.
    assert (c["claude"].seconds, c["claude"].cost) == (approx(6400.0), approx(4.90))
    assert c["claude"].local.requests == 0 and c["claude"].missing == ()
    # Local, one sequence at a time: 50 × (0.5 + 100) + 30 × (0.5 + 250) + 20 × (0.5 + 150)
    # = 5,025 + 7,515 + 3,010 = 15,550 s; $0.90/h × 15,550 s / 3,600 = $3.8875.
    assert (c["local"].seconds, c["local"].cost) == (approx(15_550.0), approx(3.8875))
    # Hybrid at 50% local: 25/15/10 items each way, both sides at once.
    # Claude: 25 × 42 + 15 × 102 + 10 × 62 = 3,200 s, $2.45; local: 7,775 s, $0.9 × 7,775 / 3,600 = $1.94375.
    h = c["hybrid"]
    assert (h.claude.requests, h.local.requests) == (50, 50)
    assert (h.claude.seconds, h.local.seconds) == (approx(3200.0), approx(7775.0))
    assert h.seconds == approx(7775.0)  # the longer side
    assert h.cost == approx(2.45 + 1.94375)
    assert "50% of tokens local" in h.note


def test_refactor_sprint_with_given_rates() -> None:
    c = configs(plan(workload("refactor-sprint"), RATES, SEQUENTIAL))
    # Claude: 10 × (2 + 200) + 20 × (2 + 40) + 15 × (2 + 30) = 2,020 + 840 + 480 = 3,340 s;
    # 350,000 tokens × $10/M = $3.50.
    assert (c["claude"].seconds, c["claude"].cost) == (approx(3340.0), approx(3.50))
    # Local: 10 × 500.5 + 20 × 100.5 + 15 × 75.5 = 5,005 + 2,010 + 1,132.5 = 8,147.5 s; × $0.9/3,600.
    assert (c["local"].seconds, c["local"].cost) == (approx(8147.5), approx(2.036875))


def test_concurrency_shortens_claude_time_but_not_its_cost() -> None:
    sprint = workload("refactor-sprint")
    parallel = configs(plan(sprint, RATES, PlanLimits(claude_concurrency=4, claude_requests_per_second=2.0)))
    # 4 slots, starts 0.5 s apart. 10 refactors of 202 s: three waves starting at 0/202/404 (+0.5 s
    # each), the last two ending at 606 and 606.5, leaving two slots for the 20 tests of 42 s from
    # 405; the tests end at 732.5, the 15 docs of 32 s fill the four slots from 699: the last one
    # starts at 827 and ends at 859 s.
    assert parallel["claude"].seconds == approx(859.0)
    assert parallel["claude"].cost == approx(3.50)
    assert parallel["local"].seconds == approx(8147.5)  # the local model runs one at a time regardless


def test_a_local_side_measured_over_several_streams_drains_its_queue_that_much_faster() -> None:
    only_local = PlanRates(local_tps=20.0, local_ttft=0.5, local_per_hour=0.9, local_share=1.0)
    one = configs(plan(workload("spec-week"), only_local, SEQUENTIAL))["local"]
    slots = replace(only_local, local_aggregate=(4, 50.0))  # 4 streams at once: 50 tok/s in all
    four = configs(plan(workload("spec-week"), slots, SEQUENTIAL))["local"]
    assert one.seconds == approx(15_550.0) and four.seconds == approx(15_550.0 * 20.0 / 50.0)
    assert four.cost == approx(0.9 * four.seconds / 3600)


def test_claude_seconds_by_slots_and_by_pace() -> None:
    # 8 requests of 10 s, 4 at once, 2/s: starts 0, .5, 1, 1.5; then 10, 10.5, 11, 11.5 -> 21.5 s.
    assert claude_seconds([10.0] * 8, 4, 2.0) == approx(21.5)
    assert claude_seconds([10.0] * 8, 1, 2.0) == approx(80.0)
    # Short requests: the pace binds: starts 0, 0.5, …, 3.5; the last ends at 4.5 s.
    assert claude_seconds([1.0] * 8, 4, 2.0) == approx(4.5)
    assert claude_seconds([], 4, 2.0) == 0.0


def test_a_missing_rate_is_named_instead_of_a_number() -> None:
    rates = PlanRates(claude_ttft=2.0, claude_per_million=10.0, local_per_hour=0.0,
                      why=((CLAUDE_TPS, "not enough data (2 turns)"),))
    c = configs(plan(workload("spec-week"), rates, SEQUENTIAL))
    assert c["claude"].seconds is None and c["claude"].cost == approx(4.90)  # the price is known
    assert c["claude"].missing == (MissingRate(CLAUDE_TPS, "not enough data (2 turns)"),)
    assert c["local"].seconds is None and c["local"].cost == 0.0  # a $0/h machine costs $0
    assert c["local"].missing == (MissingRate(LOCAL_TPS), MissingRate(LOCAL_TTFT))
    assert c["hybrid"].seconds is None and c["hybrid"].cost is None
    assert c["hybrid"].missing == (MissingRate(SPLIT),)


def test_hybrid_needs_only_the_rates_of_the_backends_it_uses() -> None:
    only_local = PlanRates(local_tps=20.0, local_ttft=0.5, local_per_hour=0.9, local_share=1.0)
    h = configs(plan(workload("spec-week"), only_local, SEQUENTIAL))["hybrid"]
    assert h.claude.requests == 0 and h.missing == ()
    assert h.seconds == approx(15_550.0)


def test_hybrid_split_per_kind_where_measured() -> None:
    rates = PlanRates(**{**_fields(RATES), "local_share": 0.0, "local_share_by_kind": (("batch", 1.0),)})
    h = configs(plan(workload("spec-week"), rates, SEQUENTIAL))["hybrid"]
    # The 20 docs (batch) go local: 20 × 150.5 = 3,010 s; the 80 chat items on Claude: 2,100 + 3,060 s.
    assert (h.claude.requests, h.local.requests) == (80, 20)
    assert (h.claude.seconds, h.local.seconds) == (approx(5160.0), approx(3010.0))
    assert "batch 100%" in h.note


def _fields(rates: PlanRates) -> dict:
    return {name: getattr(rates, name) for name in PlanRates.__dataclass_fields__}


def test_rates_from_a_report() -> None:
    rates = rates_from_report(build_report(RECORDS), machine_per_hour=0.9)
    assert (rates.claude_tps, rates.claude_ttft) == (55.0, 1.75)
    assert rates.claude_per_million == approx(0.06 / 9000 * 1e6)
    assert (rates.local_tps, rates.local_ttft, rates.local_per_hour) == (25.0, 0.3, 0.9)
    assert rates.local_share == approx(2600 / 11600) and rates.why == ()
    few = rates_from_report(build_report(RECORDS[:2]), machine_per_hour=0.0)
    assert few.claude_tps is None and few.local_tps is None and few.local_share is None
    why = dict(few.why)
    assert why[CLAUDE_TPS] == "not enough data (2 turns)"
    assert why[LOCAL_TPS] == "nothing local measured (no turns or bench runs in the ledger)"
    assert why[SPLIT] == "not enough data (2 turns)"


SHAPE = """
[workloads.tiny]
title = "A tiny one"
[[workloads.tiny.items]]
name = "answers"
kind = "chat"
count = 2
output_tokens = 100
"""


def test_a_custom_workload_of_the_same_shape(tmp_path: Path) -> None:
    path = tmp_path / "w.toml"
    path.write_text(SHAPE, encoding="utf-8")
    (tiny,) = read_workloads(path)
    assert tiny == Workload("tiny", "A tiny one", (WorkItem("answers", "chat", 2, 100, DEFAULT_PROMPT_TOKENS),))
    # 2 × (2 + 100/50) = 8 s on Claude, 2 × 1,100 tokens × $10/M = $0.022
    c = configs(plan(tiny, RATES, SEQUENTIAL))["claude"]
    assert (c.seconds, c.cost) == (approx(8.0), approx(0.022))


@pytest.mark.parametrize(
    ("text", "error"),
    [
        (SHAPE.replace('"chat"', '"poetry"'), "items[0]: kind: expected one of chat, explain, code, edit, batch, task, got 'poetry'"),
        (SHAPE.replace("count = 2", "count = 0"), "items[0]: count: expected an integer from 1 to 1000000, got 0"),
        (SHAPE.replace("count = 2", 'count = "2"'), "count: expected an integer from 1 to 1000000, got '2'"),
        (SHAPE.replace("count = 2", "count = 2\nspeed = 3"), "items[0]: unknown key 'speed'"),
        (SHAPE.replace("output_tokens = 100", ""), "items[0]: missing output_tokens"),
        ('[workloads.tiny]\ntitle = "no items"\n', "workloads.tiny: expected at least one"),
        ("[workloads]\n", "no workload"),
        ("[other]\n", "unknown table 'other'"),
        ("[workloads.tiny\n", "TOML syntax error"),
    ],
    ids=["kind", "count", "count-type", "unknown-key", "missing-key", "no-items", "empty", "other-table", "syntax"],
)
def test_a_malformed_workload_is_one_line(text: str, error: str) -> None:
    with pytest.raises(WorkloadError) as caught:
        parse_workloads(text, "w.toml")
    message = str(caught.value)
    assert message.startswith("w.toml: ") and error in message and "\n" not in message


def test_an_unreadable_workload_file_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(WorkloadError, match="cannot read") as caught:
        read_workloads(tmp_path / "missing.toml")
    assert "\n" not in str(caught.value)
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(WorkloadError, match="not UTF-8 text"):
        read_workloads(binary)


def test_a_ledger_of_bench_runs_only_gives_a_plan_with_times_resting_on_them() -> None:
    from tests.core.accounting.test_report import bench_case

    report = build_report([], [bench_case("qwen-7b", 100, 40.0, 0.2), bench_case("qwen-7b", 2100, 30.0, 1.2)])
    rates = rates_from_report(report, machine_per_hour=0.0)
    assert rates.local_tps == 35.0 and rates.local_ttft_by_prompt == ((100, 0.2), (2100, 1.2))
    assert rates.rests_on == (("local", "local · qwen-7b, 6 bench runs; first-token latency and generation rate by prompt "
                                        "length from bench cases of 100-2,100 tokens"),)
    one = Workload("one", "one request", (WorkItem("a", "chat", 1, 350, prompt_tokens=1100),))
    local_only = configs(plan(one, rates, SEQUENTIAL))["local"]
    # First token at 1,100 prompt tokens, halfway from 100 (0.2 s) to 2,100 (1.2 s): 0.7 s; 350 tokens at 35 tok/s: 10 s.
    assert local_only.seconds == approx(10.7) and local_only.cost == 0.0
    # At the long case's prompt length, its own rates: 1.2 s, then 350 tokens at 30 tok/s.
    long = Workload("long", "one long request", (WorkItem("a", "chat", 1, 350, prompt_tokens=2100),))
    assert configs(plan(long, rates, SEQUENTIAL))["local"].seconds == approx(1.2 + 350 / 30)


def test_first_token_latency_is_interpolated_between_bench_prompt_lengths() -> None:
    points = ((100, 0.2), (1000, 0.5), (4000, 2.0))
    assert at_prompt_length(points, 100, 9.9) == approx(0.2)
    assert at_prompt_length(points, 550, 9.9) == approx(0.35)
    assert at_prompt_length(points, 2500, 9.9) == approx(1.25)
    assert at_prompt_length(points, 8000, 9.9) == approx(2.0 + 1.8 / 3900 * 4000)  # beyond: shortest to longest
    assert at_prompt_length(points, 0, 9.9) == approx(0.2)  # never below the shortest case
    assert at_prompt_length(((100, 0.2),), 5000, 0.7) == 0.7  # one length: the median
    # Two noisy long cases (7.5 s at 1,502 tokens, 6.8 s at 1,524) do not turn the trend negative:
    noisy = ((37, 0.13), (58, 0.23), (1502, 7.48), (1524, 6.83))
    assert at_prompt_length(noisy, 10_500, 0.2) > 6.83


@given(st.lists(st.tuples(st.integers(1, 100_000), st.floats(0.001, 100)), min_size=2, max_size=6, unique_by=lambda p: p[0]),
       st.integers(0, 200_000))
def test_interpolated_latency_lies_within_the_measured_ones_between_them(raw, prompt) -> None:  # noqa: ANN001
    points = tuple(sorted(raw))
    value = at_prompt_length(points, prompt, 1.0)
    if points[0][0] <= prompt <= points[-1][0]:
        assert min(y for _, y in points) - 1e-9 <= value <= max(y for _, y in points) + 1e-9
    assert value >= min(y for _, y in points) - 1e-9
