from __future__ import annotations

import csv
import io
import json

from rich.console import Console, RenderableType

from assistant.core.accounting.cost_summary import summarize
from assistant.core.store.ledger import TurnRecord
from assistant.render.cost import (
    cost_table,
    one_screen_summary,
    summary_csv,
    summary_json,
)

from tests.core.accounting.test_cost_summary import DAY1, RECORDS


def render(renderable: RenderableType, width: int = 120) -> str:
    console = Console(record=True, width=width, file=io.StringIO(), color_system=None)
    console.print(renderable)
    return console.export_text()


def row(text: str, key: str) -> list[str]:
    """The cells of the table row that starts with `key`, split on runs of spaces."""
    (line,) = [ln for ln in text.splitlines() if ln.startswith(key + " ")]
    return line.split()


# Binary-exact figures, so that "exact" can be written as literals.
EXACT = [
    TurnRecord("s1", DAY1, "claude", "claude-sonnet-4-5", "ok", prompt_tokens=1000, completion_tokens=50,
               cache_read_tokens=250, cost=0.25, counterfactual_cost=0.25, tokens_per_second=64.0, ttft=0.5,
               elapsed=4.0),
    TurnRecord("s1", DAY1 + 10, "local", "smollm2", "ok", prompt_tokens=100, completion_tokens=28,
               cost=0.125, counterfactual_cost=0.375, tokens_per_second=16.0, ttft=0.25, elapsed=8.0),
    TurnRecord("s1", DAY1 + 20, "local", "smollm2", "error", elapsed=0.5, error="boom"),
]


def test_table_by_backend_shows_every_figure_formatted() -> None:
    text = render(cost_table(summarize(RECORDS, by="backend"), title="Cost by backend"))
    assert "Cost by backend" in text
    for header in ("backend", "turns", "cache", "write", "hit", "saved vs", "speed", "TTFT", "p95", "tokens"):
        assert header in text
    assert row(text, "claude") == [
        "claude", "2", "3,000", "300", "2,100", "300", "70%", "$0.0180", "$0.0000",
        "60.0", "tok/s", "700", "ms", "800", "ms", "40%", "72%",
    ]
    assert row(text, "local") == [
        "local", "3", "900", "400", "0", "0", "0%", "≥$0.0015", "unknown",
        "35.0", "tok/s", "300", "ms", "400", "ms", "60%", "28%",
    ]
    assert row(text, "total") == [
        "total", "5", "3,900", "700", "2,100", "300", "54%", "≥$0.0195", "unknown",
        "45.0", "tok/s", "500", "ms", "800", "ms", "100%", "100%",
    ]
    assert max(len(line) for line in text.splitlines()) <= 120


def test_one_group_has_no_total_row() -> None:
    text = render(cost_table(summarize(RECORDS[:2], by="backend"), title="t"))
    assert row(text, "claude")[:2] == ["claude", "2"]
    assert "total" not in text


def test_ungrouped_is_one_total_row() -> None:
    text = render(cost_table(summarize(RECORDS), title="All turns"))
    assert row(text, "total")[:3] == ["total", "5", "3,900"]
    assert text.count("total") == 1


def test_unknown_costs_read_unknown_never_zero() -> None:
    records = [TurnRecord("s", DAY1, "claude", "m", "error", prompt_tokens=10)]
    cells = row(render(cost_table(summarize(records), title="t")), "total")
    assert cells[7:9] == ["unknown", "unknown"]  # cost, savings
    assert "$0.0000" not in render(cost_table(summarize(records), title="t"))


def test_a_local_turn_dearer_than_claude_shows_negative_savings() -> None:
    records = [TurnRecord("s", DAY1, "local", "m", "ok", cost=0.5, counterfactual_cost=0.25)]
    assert row(render(cost_table(summarize(records), title="t")), "total")[8] == "-$0.2500"


def test_narrow_terminals_leave_columns_out_instead_of_cutting_figures() -> None:
    summary = summarize(RECORDS, by="model")
    text = render(cost_table(summary, title="t", width=80), width=80)
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "columns left out at this width" in text
    cells = row(text, "claude-sonnet-4-5")
    assert cells[:2] == ["claude-sonnet-4-5", "1"] and "$0.0120" in cells
    assert row(text, "smollm2")[-1] != "…" and "…" not in text
    wide = render(cost_table(summary, title="t", width=120))
    assert "left out" not in wide


def test_one_screen_summary_fits_a_screen() -> None:
    summary = summarize(RECORDS, by="backend")
    for width in (80, 120):
        text = render(one_screen_summary(summary, session_id="20261101-110000-0badcafe"), width=width)
        lines = text.rstrip("\n").splitlines()
        assert len(lines) <= 20 and max(len(line) for line in lines) <= width
        header = " ".join(" ".join(lines[:2]).split())  # at 80 columns it wraps
        assert "Session 20261101-110000-0badcafe" in header
        assert "5 turns" in header and "cost ≥$0.0195" in header
        assert "(21 h 01 min)" in header  # 12:00 on day one to 9:00:33 on day two
        assert row(text, "claude")[:2] == ["claude", "2"]
        assert row(text, "total")[:2] == ["total", "5"]


def test_one_screen_summary_of_one_short_session() -> None:
    text = render(one_screen_summary(summarize(EXACT, by="backend"), session_id="s1"))
    first = text.splitlines()[0]
    assert first.startswith("Session s1 · 3 turns · 2026-11-01 12:00–12:00 (20.50 s) · cost ≥$0.3750")


def test_one_screen_summary_without_turns() -> None:
    text = render(one_screen_summary(summarize([], by="backend"), session_id="s9"))
    assert text.strip() == "Session s9 · no turns"


def test_json_has_the_exact_numbers_and_null_for_unknown() -> None:
    data = json.loads(summary_json(summarize(EXACT, by="backend")))
    assert data["by"] == "backend"
    assert data["first_at"] == DAY1 and data["last_at"] == DAY1 + 20.5
    assert data["session_ids"] == ["s1"]
    claude, local = data["lines"]
    assert claude == {
        "key": "claude",
        "turns": 1,
        "tokens_in": 1000,
        "tokens_out": 50,
        "cache_read_tokens": 250,
        "cache_write_tokens": 0,
        "cache_hit_rate": 0.25,
        "cost": 0.25,
        "cost_known": True,
        "cost_floor": 0.25,
        "counterfactual_cost": 0.25,
        "counterfactual_known": True,
        "counterfactual_cost_floor": 0.25,
        "savings": 0.0,
        "tps_median": 64.0,
        "ttft_median": 0.5,
        "ttft_p95": 0.5,
        "share_turns": 1 / 3,
        "share_tokens": 1050 / 1178,  # all tokens: 1000 + 50 + 100 + 28
        "outcomes": {"ok": 1, "cancelled": 0, "interrupted": 0, "error": 0},
    }
    assert (local["cost"], local["cost_known"], local["cost_floor"]) == (None, False, 0.125)
    assert (local["counterfactual_cost"], local["counterfactual_cost_floor"]) == (None, 0.375)
    assert local["savings"] is None
    assert local["tps_median"] == 16.0 and local["ttft_p95"] == 0.25
    assert local["outcomes"] == {"ok": 1, "cancelled": 0, "interrupted": 0, "error": 1}
    total = data["total"]
    assert (total["turns"], total["cost"], total["cost_floor"]) == (3, None, 0.375)
    assert total["tps_median"] == 40.0  # (16 + 64) / 2
    assert total["cache_hit_rate"] == 250 / 1100


def test_json_keeps_every_digit() -> None:
    summary = summarize(RECORDS, by="backend")
    data = json.loads(summary_json(summary))
    assert data["lines"][0]["cost"] == summary.lines[0].cost  # not rounded to 0.018
    assert data["total"]["share_tokens"] == 1.0
    assert data["lines"][1]["share_tokens"] == summary.lines[1].share_tokens


def test_json_of_no_turns() -> None:
    data = json.loads(summary_json(summarize([])))
    assert data["lines"] == [] and data["first_at"] is None
    assert data["total"]["ttft_median"] is None and data["total"]["cost"] == 0.0


def test_csv_has_exact_numbers_and_empty_cells_for_unknown() -> None:
    text = summary_csv(summarize(EXACT, by="backend"))
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["key"] for r in rows] == ["claude", "local", "total"]
    claude, local, total = rows
    assert float(claude["cost"]) == 0.25 and claude["cost_known"] == "true"
    assert float(claude["share_turns"]) == 1 / 3  # every digit: repr round-trips
    assert float(claude["share_tokens"]) == 1050 / 1178
    assert int(claude["tokens_in"]) == 1000 and int(claude["turns_ok"]) == 1
    assert local["cost"] == "" and local["cost_known"] == "false" and float(local["cost_floor"]) == 0.125
    assert local["savings"] == "" and local["counterfactual_cost"] == ""
    assert int(local["turns_error"]) == 1
    assert total["cost"] == "" and float(total["cost_floor"]) == 0.375
    assert float(total["cache_hit_rate"]) == 250 / 1100


def test_csv_unknown_figures_are_empty_cells() -> None:
    records = [TurnRecord("s", DAY1, "local", "m", "error")]
    (only,) = list(csv.DictReader(io.StringIO(summary_csv(summarize(records)))))
    assert only["key"] == "total"  # not grouped: the total is the only row
    for key in ("cache_hit_rate", "cost", "savings", "tps_median", "ttft_median", "ttft_p95"):
        assert only[key] == "", key
    assert only["tokens_in"] == "0" and only["share_tokens"] == "0.0"


def test_model_names_that_look_like_markup_show_literally() -> None:
    """A model or backend name is outside text: `[/oops]` must neither crash the
    table nor vanish from it, in the TUI's console (markup on) as on the CLI's."""
    odd = [TurnRecord("s1", DAY1, "local", "app/[id]/[bold]x[/oops]", "ok", prompt_tokens=10, completion_tokens=5,
                      cost=0.0, counterfactual_cost=0.001, tokens_per_second=10.0, ttft=0.1, elapsed=1.0)]
    for by in ("model", "backend"):
        text = render(cost_table(summarize(odd, by=by), title="t"), width=200)
        assert (by == "backend" and "local" in text) or "app/[id]/[bold]x[/oops]" in text


def test_a_badge_names_the_router_once() -> None:
    """`privacy: privacy: .env …` was the badge of a privacy decision (issue 24, item 16)."""
    from assistant.core.decisions import RouteDecision
    from assistant.render.format import route_badge

    badge = route_badge(RouteDecision("local", "privacy: .env matches .env* → local only", decided_by="privacy"))
    assert badge.count("privacy:") == 1 and badge.startswith("privacy: .env matches")
    other = route_badge(RouteDecision("local", "x → local", decided_by="rules"))
    assert other.startswith("rules: x → local")
