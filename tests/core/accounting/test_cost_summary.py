from __future__ import annotations

import time
from datetime import datetime

import pytest

from assistant.core.accounting.cost_summary import CostLine, nearest_rank, parse_since, summarize
from assistant.core.store.ledger import TurnRecord

approx = pytest.approx

# Noon and 9 am local time, so that the day of each turn does not depend on the time zone.
DAY1 = time.mktime((2026, 11, 1, 12, 0, 0, 0, 0, -1))
DAY2 = time.mktime((2026, 11, 2, 9, 0, 0, 0, 0, -1))


def rec(
    session_id: str, started_at: float, backend: str, model: str, outcome: str = "ok", **f: object
) -> TurnRecord:
    return TurnRecord(session_id, started_at, backend, model, outcome, **f)  # type: ignore[arg-type]


RECORDS = [
    rec("s1", DAY1, "claude", "claude-sonnet-4-5", prompt_tokens=1000, completion_tokens=200,
        cache_read_tokens=600, cache_write_tokens=300, cost=0.012, counterfactual_cost=0.012,
        tokens_per_second=50.0, ttft=0.8, elapsed=5.0),
    rec("s1", DAY1 + 60, "claude", "claude-haiku-4-5", prompt_tokens=2000, completion_tokens=100,
        cache_read_tokens=1500, cost=0.006, counterfactual_cost=0.006,
        tokens_per_second=70.0, ttft=0.6, elapsed=2.0),
    rec("s1", DAY1 + 120, "local", "smollm2", prompt_tokens=500, completion_tokens=300,
        cost=0.001, counterfactual_cost=0.009, tokens_per_second=30.0, ttft=0.2, elapsed=10.0),
    rec("s2", DAY2, "local", "smollm2", "error", elapsed=1.0, error="model file missing"),
    rec("s2", DAY2 + 30, "local", "smollm2", "cancelled", prompt_tokens=400, completion_tokens=100,
        cost=0.0005, counterfactual_cost=0.0045, tokens_per_second=40.0, ttft=0.4, elapsed=3.0),
]
# All tokens: in 1000 + 2000 + 500 + 0 + 400 = 3900, out 200 + 100 + 300 + 0 + 100 = 700: 4600.


def outcomes(ok: int = 0, cancelled: int = 0, interrupted: int = 0, error: int = 0) -> tuple:
    return (("ok", ok), ("cancelled", cancelled), ("interrupted", interrupted), ("error", error))


def test_by_backend() -> None:
    s = summarize(RECORDS, by="backend")
    assert [line.key for line in s.lines] == ["claude", "local"]
    claude, local = s.lines
    assert claude == CostLine(
        key="claude",
        turns=2,
        tokens_in=3000,  # 1000 + 2000
        tokens_out=300,  # 200 + 100
        cache_read_tokens=2100,  # 600 + 1500
        cache_write_tokens=300,
        cache_hit_rate=approx(0.7),  # 2100 / 3000
        cost=approx(0.018),  # 0.012 + 0.006
        cost_known=True,
        counterfactual_cost=approx(0.018),  # Claude on the reference model costs what it cost
        counterfactual_known=True,
        savings=approx(0.0),
        tps_median=approx(60.0),  # (50 + 70) / 2
        ttft_median=approx(0.7),  # (0.6 + 0.8) / 2
        ttft_p95=approx(0.8),  # rank ceil(0.95 * 2) = 2 of [0.6, 0.8]
        share_turns=approx(0.4),  # 2 / 5
        share_tokens=approx(3300 / 4600),  # 0.7174
        outcomes=outcomes(ok=2),
    )
    assert local == CostLine(
        key="local",
        turns=3,
        tokens_in=900,  # 500 + (unknown: 0) + 400
        tokens_out=400,  # 300 + 0 + 100
        cache_read_tokens=0,
        cache_write_tokens=0,
        cache_hit_rate=0.0,  # 0 / 900: no prompt cache
        cost=approx(0.0015),  # 0.001 + 0.0005, a floor: the failed turn's cost is unknown
        cost_known=False,
        counterfactual_cost=approx(0.0135),  # 0.009 + 0.0045, also a floor
        counterfactual_known=False,
        savings=None,
        tps_median=approx(35.0),  # (30 + 40) / 2; the failed turn has no rate
        ttft_median=approx(0.3),  # (0.2 + 0.4) / 2
        ttft_p95=approx(0.4),
        share_turns=approx(0.6),  # 3 / 5
        share_tokens=approx(1300 / 4600),  # 0.2826
        outcomes=outcomes(ok=1, cancelled=1, error=1),
    )


def test_total() -> None:
    s = summarize(RECORDS, by="backend")
    t = s.total
    assert t.key == "total" and t.turns == 5
    assert (t.tokens_in, t.tokens_out, t.cache_read_tokens, t.cache_write_tokens) == (3900, 700, 2100, 300)
    assert t.cache_hit_rate == approx(2100 / 3900)  # 0.5385
    assert t.cost == approx(0.0195) and not t.cost_known  # 0.018 + 0.0015, a floor
    assert t.counterfactual_cost == approx(0.0315) and not t.counterfactual_known  # 0.018 + 0.0135
    assert t.savings is None
    assert t.tps_median == approx(45.0)  # [30, 40, 50, 70] -> (40 + 50) / 2
    assert t.ttft_median == approx(0.5)  # [0.2, 0.4, 0.6, 0.8] -> (0.4 + 0.6) / 2
    assert t.ttft_p95 == approx(0.8)  # rank ceil(0.95 * 4) = 4
    assert (t.share_turns, t.share_tokens) == (1.0, 1.0)
    assert t.outcomes == outcomes(ok=3, cancelled=1, error=1)
    assert s.first_at == DAY1
    assert s.last_at == DAY2 + 30 + 3.0  # the last turn's end
    assert s.session_ids == ("s1", "s2")
    assert s.by == "backend"


def test_by_model_sorts_keys() -> None:
    s = summarize(RECORDS, by="model")
    assert [(line.key, line.turns) for line in s.lines] == [
        ("claude-haiku-4-5", 1),
        ("claude-sonnet-4-5", 1),
        ("smollm2", 3),
    ]
    haiku = s.lines[0]
    assert haiku.cache_hit_rate == approx(0.75)  # 1500 / 2000
    assert (haiku.tps_median, haiku.ttft_median, haiku.ttft_p95) == (70.0, 0.6, 0.6)  # one turn: itself


def test_by_day_in_local_time() -> None:
    s = summarize(RECORDS, by="day")
    day1, day2 = s.lines
    assert (day1.key, day2.key) == ("2026-11-01", "2026-11-02")
    assert day1.turns == 3 and day1.cost_known
    assert day1.cost == approx(0.019)  # 0.012 + 0.006 + 0.001
    assert day1.counterfactual_cost == approx(0.027)  # 0.012 + 0.006 + 0.009
    assert day1.savings == approx(0.008)  # 0.027 - 0.019
    assert day2.turns == 2 and not day2.cost_known and day2.savings is None
    assert day2.cost == approx(0.0005)  # floor
    assert day2.ttft_p95 == 0.4  # only the cancelled turn measured it
    assert day2.share_tokens == approx(500 / 4600)


def test_ungrouped_has_one_line_the_total() -> None:
    s = summarize(RECORDS)
    assert s.lines == (s.total,) and s.by is None


def test_a_line_whose_costs_are_all_unknown() -> None:
    s = summarize([rec("s", DAY1, "claude", "m", prompt_tokens=10, counterfactual_cost=0.5)])
    assert (s.total.cost, s.total.cost_known, s.total.savings) == (0.0, False, None)
    assert (s.total.counterfactual_cost, s.total.counterfactual_known) == (0.5, True)


def test_no_turns_is_no_data_not_zeros() -> None:
    s = summarize([], by="backend")
    assert s.lines == () and s.session_ids == ()
    assert s.first_at is None and s.last_at is None
    t = s.total
    assert (t.turns, t.tokens_in, t.tokens_out, t.cost, t.cost_known) == (0, 0, 0, 0.0, True)
    assert t.savings == 0.0  # nothing spent, nothing saved: both sums are exact
    assert (t.cache_hit_rate, t.tps_median, t.ttft_median, t.ttft_p95) == (None, None, None, None)
    assert (t.share_turns, t.share_tokens) == (0.0, 0.0)


def test_figures_no_turn_measured_stay_none() -> None:
    s = summarize([rec("s", DAY1, "local", "m", "error")])
    t = s.total
    assert (t.tps_median, t.ttft_median, t.ttft_p95, t.cache_hit_rate) == (None, None, None, None)
    assert (t.share_turns, t.share_tokens) == (1.0, 0.0)


def test_unknown_grouping_is_refused() -> None:
    with pytest.raises(ValueError, match="backend, model, day"):
        summarize(RECORDS, by="week")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([], None),
        ([3.0], 3.0),
        ([2.0, 1.0], 2.0),  # rank ceil(1.9) = 2
        (list(range(1, 21)), 19),  # rank ceil(19.0) = 19: exactly 95% at or below
        (list(range(1, 22)), 20),  # rank ceil(19.95) = 20
        (list(range(100, 0, -1)), 95),  # unsorted input
    ],
)
def test_p95_is_nearest_rank(values: list[float], expected: float | None) -> None:
    assert nearest_rank(values, 95) == expected


def test_p95_of_ttft_through_summarize() -> None:
    records = [rec("s", DAY1 + i, "claude", "m", ttft=float(i)) for i in range(1, 21)]
    assert summarize(records).total.ttft_p95 == 19.0


NOW = 1_790_000_000.0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7d", NOW - 7 * 86_400),
        ("12h", NOW - 12 * 3600),
        ("30m", NOW - 30 * 60),
        ("2w", NOW - 14 * 86_400),
        (" 1.5H ", NOW - 5400),
        ("0d", NOW),
        ("2026-11-01", datetime(2026, 11, 1).timestamp()),  # local midnight
        ("2026-11-01T10:30", datetime(2026, 11, 1, 10, 30).timestamp()),
        ("2026-11-01T10:30+00:00", 1_793_529_000.0),
    ],
)
def test_parse_since(text: str, expected: float) -> None:
    assert parse_since(text, NOW) == expected


@pytest.mark.parametrize("text", ["", "7", "7y", "-3d", "d", "yesterday", "2026-13-01"])
def test_parse_since_refuses_with_a_clear_message(text: str) -> None:
    with pytest.raises(ValueError, match=r"use a duration \(30m, 12h, 7d, 2w\) or a date \(2026-11-01\)"):
        parse_since(text, NOW)
