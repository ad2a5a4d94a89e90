"""Cost summaries for people (a Rich table, the exit summary) and for machines
(JSON, CSV).

Formatting only: every figure comes from `assistant.core.accounting.cost_summary`. The
table rounds through `assistant.render.format`; JSON and CSV carry the exact numbers,
with null / an empty cell where a figure is unknown.
"""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

from rich import box
from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
from rich.table import Table
from rich.text import Text

from assistant.core.accounting.cost_summary import CostLine, CostSummary
from assistant.core.accounting.tasks import TaskTotals
from assistant.core.results import OUTCOMES
from assistant.render import format as fmt


def _cost(dollars: float, known: bool) -> str:
    # A floor of $0 says nothing more than "unknown" does.
    if not known and dollars == 0:
        return fmt.cost(None)
    return fmt.cost(dollars, known)


def _savings(line: CostLine) -> str:
    if line.savings is None:
        return fmt.cost(None)
    text = fmt.cost(abs(line.savings))
    return f"-{text}" if line.savings < 0 else text


@dataclass(frozen=True, slots=True)
class _Column:
    header: str  # two lines at most, so that all columns fit in 120 characters
    cell: Callable[[CostLine], str]
    # Narrow terminals drop the lowest first; 99 is never dropped.
    keep: int


_COLUMNS = (
    _Column("turns", lambda line: fmt.count(line.turns), 99),
    _Column("in", lambda line: fmt.count(line.tokens_in), 5),
    _Column("out", lambda line: fmt.count(line.tokens_out), 4),
    _Column("cache\nread", lambda line: fmt.count(line.cache_read_tokens), 1),
    _Column("cache\nwrite", lambda line: fmt.count(line.cache_write_tokens), 0),
    _Column("hit\nrate", lambda line: fmt.percent(line.cache_hit_rate), 3),
    _Column("cost", lambda line: _cost(line.cost, line.cost_known), 99),
    _Column("saved vs\nClaude", _savings, 8),
    _Column("speed\nmedian", lambda line: fmt.rate(line.tps_median), 7),
    _Column("TTFT\nmedian", lambda line: fmt.seconds(line.ttft_median), 6),
    _Column("TTFT\np95", lambda line: fmt.seconds(line.ttft_p95), 2),
    _Column("% of\nturns", lambda line: fmt.percent(line.share_turns), 2),
    _Column("% of\ntokens", lambda line: fmt.percent(line.share_tokens), 0),
)
_GAP = 2  # between columns: one space of padding and the blank divider


def _rows(summary: CostSummary) -> tuple[CostLine, ...]:
    """The lines, then the total unless the only line already is the total."""
    if summary.lines == (summary.total,):
        return summary.lines
    return (*summary.lines, summary.total)


def _fit(columns: list[_Column], fixed: int, rows: tuple[CostLine, ...], width: int) -> list[_Column]:
    """The columns that fit in `width`, dropping the least useful first."""

    def natural(column: _Column) -> int:
        texts = [*column.header.splitlines(), *(column.cell(line) for line in rows)]
        return max(cell_len(t) for t in texts)

    widths = {id(c): natural(c) for c in columns}
    kept = list(columns)
    for column in sorted(columns, key=lambda c: c.keep):
        if fixed + sum(widths[id(c)] + _GAP for c in kept) <= width or column.keep >= 99:
            break
        kept.remove(column)
    return kept


def cost_table(summary: CostSummary, *, title: str, width: int | None = None) -> Table:
    """One row per group, and a total row when there is more than one group.

    With `width` (the terminal's), the least useful columns are left out until
    the table fits, rather than squeezing every figure into an unreadable fold.
    """
    rows = _rows(summary)
    group_width = max(cell_len(summary.by or ""), *(cell_len(line.key) for line in rows))
    columns = list(_COLUMNS) if width is None else _fit(list(_COLUMNS), group_width, rows, width)
    hidden = len(_COLUMNS) - len(columns)
    table = Table(
        title=title or None,
        title_justify="left",
        caption=f"{hidden} columns left out at this width" if hidden else None,
        caption_justify="left",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        collapse_padding=True,
    )
    # Should the terminal still be too narrow, figures wrap and fold but are never cut.
    table.add_column(summary.by or "", min_width=min(group_width, 20), overflow="fold")
    for column in columns:
        table.add_column(column.header, justify="right", overflow="fold")
    for line in summary.lines:
        table.add_row(Text(line.key), *(c.cell(line) for c in columns))
    if len(summary.lines) > 1:
        table.add_section()
        table.add_row(Text(summary.total.key), *(c.cell(summary.total) for c in columns), style="bold")
    return table


def _span(first_at: float, last_at: float) -> str:
    start, end = time.localtime(first_at), time.localtime(last_at)
    if start[:3] == end[:3]:
        since, until = time.strftime("%Y-%m-%d %H:%M", start), time.strftime("%H:%M", end)
    else:
        since, until = time.strftime("%m-%d %H:%M", start), time.strftime("%m-%d %H:%M", end)
    return f"{since}–{until} ({fmt.duration(last_at - first_at)})"


class _ExitSummary:
    """The header line and the table, fitted to the width it is printed at."""

    def __init__(self, summary: CostSummary, session_id: str) -> None:
        self.summary = summary
        self.session_id = session_id

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        summary, total = self.summary, self.summary.total
        if summary.first_at is None or summary.last_at is None:
            yield Text.assemble(("Session ", "bold"), (self.session_id, "bold"), " · no turns")
            return
        turns = f"{fmt.count(total.turns)} turn{'s' if total.turns != 1 else ''}"
        yield Text.assemble(
            ("Session ", "bold"),
            (self.session_id, "bold"),
            f" · {turns} · {_span(summary.first_at, summary.last_at)}"
            f" · cost {_cost(total.cost, total.cost_known)}",
        )
        title = f"by {summary.by}" if summary.by else ""
        yield cost_table(summary, title=title, width=options.max_width)


def one_screen_summary(summary: CostSummary, *, session_id: str) -> RenderableType:
    """What the app prints on exit: one header line and the table, fitted to the
    terminal's width. Pass a summary by backend: a few rows, well within a screen."""
    return _ExitSummary(summary, session_id)


def _line_data(line: CostLine) -> dict[str, Any]:
    """Exact figures of a line, `None` where unknown, in a fixed key order."""
    return {
        "key": line.key,
        "turns": line.turns,
        "tokens_in": line.tokens_in,
        "tokens_out": line.tokens_out,
        "cache_read_tokens": line.cache_read_tokens,
        "cache_write_tokens": line.cache_write_tokens,
        "cache_hit_rate": line.cache_hit_rate,
        "cost": line.cost if line.cost_known else None,
        "cost_known": line.cost_known,
        "cost_floor": line.cost,  # sum of the known costs; the cost itself when known
        "counterfactual_cost": line.counterfactual_cost if line.counterfactual_known else None,
        "counterfactual_known": line.counterfactual_known,
        "counterfactual_cost_floor": line.counterfactual_cost,
        "savings": line.savings,
        "tps_median": line.tps_median,
        "ttft_median": line.ttft_median,
        "ttft_p95": line.ttft_p95,
        "share_turns": line.share_turns,
        "share_tokens": line.share_tokens,
        "outcomes": dict(line.outcomes),
    }


def summary_json(summary: CostSummary, reason: str | None = None, tasks: TaskTotals | None = None) -> str:
    """The summary as JSON: exact numbers (floats round-trip), null for unknown;
    `reason` says why it is empty (null when it is not); `tasks`: the tasks among the
    turns (null without any)."""
    data = {
        "reason": reason,
        "by": summary.by,
        "first_at": summary.first_at,
        "last_at": summary.last_at,
        "session_ids": list(summary.session_ids),
        "total": _line_data(summary.total),
        "lines": [_line_data(line) for line in summary.lines],
        "tasks": tasks_data(tasks),
    }
    return json.dumps(data, indent=2, ensure_ascii=False)


def _csv_value(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, float) else str(value)


def summary_csv(summary: CostSummary) -> str:
    """A header, one row per line, then the total row; exact numbers, empty where unknown."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    header: list[str] | None = None
    for line in _rows(summary):
        data = _line_data(line)
        counts = data.pop("outcomes")
        data.update({f"turns_{o}": counts[o] for o in OUTCOMES})
        if header is None:
            header = list(data)
            writer.writerow(header)
        writer.writerow([_csv_value(data[k]) for k in header])
    return out.getvalue()


_ENDS = {"answered": "answered", "steps": "stopped at the step cap", "tokens": "stopped at the token cap",
         "budget": "stopped at the budget's cap", "cancelled": "stopped by you", "error": "failed"}  # fmt: skip


def tasks_line(totals: TaskTotals) -> str:
    """One line of the tasks among the turns: how they ended, their steps, model time and
    tool time apart, cost, and what became of their changes."""
    ends = ", ".join(f"{n} {_ENDS.get(end, end)}" for end, n in totals.ends)
    parts = [
        f"Tasks: {totals.tasks} ({ends})",
        f"{totals.steps} model steps, {totals.tool_steps} tool calls",
        f"model {fmt.seconds(totals.model_seconds)}, tools {fmt.seconds(totals.tool_seconds)}",
        f"cost {_cost(totals.cost, totals.cost_known)}",
    ]
    if totals.committed:
        parts.append(f"{totals.committed} committed, {totals.undone} undone")
    if totals.checks_passed or totals.checks_failed:
        parts.append(f"checks at the end: {totals.checks_passed} passed, {totals.checks_failed} failed")
    return " · ".join(parts)


def tasks_data(totals: TaskTotals | None) -> dict[str, Any] | None:
    """The tasks' totals for `--json`; None without tasks."""
    if totals is None:
        return None
    data = {f.name: getattr(totals, f.name) for f in fields(totals)}
    data["ends"] = dict(totals.ends)
    data["cost"] = totals.cost if totals.cost_known else None
    data["cost_floor"] = totals.cost
    return data


__all__ = ["cost_table", "one_screen_summary", "summary_csv", "summary_json", "tasks_data", "tasks_line"]
