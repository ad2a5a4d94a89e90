"""`render.report`: one renderable for `assistant report` and the /report screen, and
the chart labels, which show core's figures without computing any."""

from __future__ import annotations

from dataclasses import replace

from assistant.core.accounting.report import SpeedSeries, build_report
from assistant.render.report import report_renderable, series_label

from tests.core.accounting.test_report import CLAUDE, RECORDS
from tests.render.test_cost import render


def test_the_report_is_its_tables_then_its_costs_and_notes_as_given() -> None:
    # A name that looks like markup or an emoji code is outside text: shown as written,
    # on a console that parses markup (the TUI's does) as on one that does not.
    records = [replace(r, model="[b]m[/b] :smile:") if r.backend == "claude" else r for r in RECORDS[:6]]
    text = render(report_renderable(build_report(records), scope="last 30 days", reference_model="ref [x]"), 200)
    lines = text.splitlines()
    assert lines[0].startswith("Measured · last 30 days · 6 turns · 0 bench runs")
    assert any(line.startswith("These turns cost $0.0600 · all on Claude (ref [x]): ") for line in lines)
    assert "– local · SmolLM2: tok/s, TTFT, TTFT p95, $/M tokens: not enough data (2 turns)" in lines
    assert sum(line.startswith("claude · [b]m[/b] :smile: ") for line in lines) == 2  # speeds, capacity


def test_a_chart_label_shows_the_series_figures_as_core_gives_them() -> None:
    series = SpeedSeries("claude", CLAUDE, (1.0, 2.0, 1234.5), minimum=1.0, median=2.0, maximum=1234.5)
    assert series_label(series) == (
        f"claude · {CLAUDE}: tokens/sec over its last 3 turns — min 1.0 · median 2.0 · max 1,234.5"
    )
