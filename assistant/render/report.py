"""How `assistant report` and `assistant plan` look: the measured report's tables
and notes, and the workload plans; for the CLI and the TUI's report screen alike
(one renderable: the CLI prints it, the screen shows it in a widget).
Computes nothing: the figures come from core/accounting/report.py and core/accounting/workloads.py."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING
from assistant.core.accounting.report import (
    ACTIVE_HOURS,
    BENCH_RUNS,
    NO_QUALITY_DATA,
    BackendFigures,
    Figure,
    Report,
    SpeedSeries,
    rests_on,
)
from assistant.core.accounting.workloads import SPLIT, PlanLimits, PlanRates, PlanResult
from assistant.render import format as fmt

if TYPE_CHECKING:
    from rich.console import Console, Group, RenderableType

    from assistant.core.accounting.evals import EvalFigures
    from rich.table import Table


def _cell(fig: Figure, show: Callable[[float], str]) -> str:
    return fmt.DASH if fig.value is None else show(fig.value)


def _table(title: str, headers: list[str], labels: list[str]) -> Table:
    from rich import box
    from rich.cells import cell_len
    from rich.table import Table

    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    # The row labels stay whole up to 40 cells; the figures fold instead, never cut.
    table.add_column(headers[0], min_width=min(max(map(cell_len, [headers[0], *labels])), 40), overflow="fold")
    for header in headers[1:]:
        table.add_column(header, justify="right", overflow="fold")
    return table


def _eval_cell(f: EvalFigures | None) -> str:
    return fmt.DASH if f is None else f"{f.pass_at_1:.0%} of {f.tasks}"


def _notes(report: Report) -> list[str]:
    """Why figures are missing: one line per row and reason, naming the figures."""
    lines: list[str] = []
    for row in report.rows:
        reasons: dict[str, list[str]] = {}
        named = [
            ("tok/s", row.generation_tps),
            ("TTFT", row.ttft_median),
            ("TTFT p95", row.ttft_p95),
            ("prompt tok/s", row.prompt_tps),
            ("$/M tokens", row.cost_per_million),
        ]
        for name, fig in named:
            if fig.value is None and not (fig.unit == BENCH_RUNS and not report.bench_runs):
                reasons.setdefault(fig.reason, []).append(name)
        lines += [f"{row.backend} · {row.model}: {', '.join(names)}: {why}" for why, names in reasons.items()]
    if not report.bench_runs:
        lines.append("prompt tok/s: no benchmark results in the ledger")
    if not any(row.quality.value is not None for row in report.rows):
        lines.append(f"refactors accepted: {NO_QUALITY_DATA}")
    return lines


def report_renderable(report: Report, *, scope: str, reference_model: str) -> Group:
    """The measured report's tables, its costs and its notes, one after the other.
    Every name from the ledger is a `Text`, so no console reads it as markup or emoji
    codes (the TUI's console parses markup, the CLI's does not)."""
    from rich.console import Group
    from rich.text import Text

    def label(row: BackendFigures) -> str:
        return f"{row.backend} · {row.model}"

    labels = [label(row) for row in report.rows]
    parts: list[RenderableType] = []

    # Columns no row has a figure for (no benchmark run, no acceptance data) are
    # left out of the table; the notes below say why.
    columns: list[tuple[str, Callable[[BackendFigures], str]]] = [
        ("turns", lambda row: fmt.count(row.turns)),
        ("speed\nmedian", lambda row: _cell(row.generation_tps, fmt.rate)),
        ("TTFT\nmedian", lambda row: _cell(row.ttft_median, fmt.seconds)),
        ("TTFT\np95", lambda row: _cell(row.ttft_p95, fmt.seconds)),
        ("$ per M\ntokens", lambda row: _cell(row.cost_per_million, fmt.cost)),
    ]
    if any(row.prompt_tps.value is not None for row in report.rows):
        columns.insert(4, ("prompt\nspeed", lambda row: _cell(row.prompt_tps, fmt.rate)))
    if any(row.quality.value is not None for row in report.rows):
        columns.append(("refactors\naccepted", lambda row: _cell(row.quality, fmt.percent)))
    scored = {(f.backend, f.model): f for f in report.evals if f.kind == "code"}
    if scored:  # the analysis's quality column, measured: `assistant eval`'s pass@1 on code, with its sample
        columns.append(("quality\n(code)", lambda row: _eval_cell(scored.get((row.backend, row.model)))))
    columns.append(("speeds\nrest on", lambda row: rests_on(row.generation_tps)))
    speed = _table(
        f"Measured · {scope} · {fmt.count(report.turns)} turns · {fmt.count(report.bench_runs)} bench runs",
        ["backend · model", *(header for header, _ in columns)],
        labels,
    )
    for row in report.rows:
        speed.add_row(Text(label(row)), *(cell(row) for _, cell in columns))
    parts.append(speed)

    capacity = _table(
        "Daily capacity · output tokens at the median speed (turns and bench runs)",
        ["backend · model", *(f"{hours} h/day" for hours in ACTIVE_HOURS)],
        labels,
    )
    for row in report.rows:
        capacity.add_row(Text(label(row)), *(_cell(c.tokens, lambda v: fmt.count(round(v))) for c in row.daily_capacity))
    parts.append(capacity)

    if any(row.aggregate_tps for row in report.rows):
        aggregate = _table(
            "Throughput over several streams at once (assistant bench --concurrency N)",
            ["backend · model", "streams at once", "all streams\ntok/s"],
            labels,
        )
        for row in report.rows:
            for n, rate in row.aggregate_tps:
                aggregate.add_row(Text(label(row)), str(n), fmt.rate(rate))
        parts.append(aggregate)
        for row in report.rows:
            if row.gainful_at_once is not None:
                parts.append(Text(f"{label(row)}: an auto [backends.local] parallel loads with "
                                  f"{row.gainful_at_once} on this machine (the most measured throughput"
                                  f"{'' if row.gainful_at_once > 1 else '; none gained over one at a time'})"))  # fmt: skip

    split = _table(
        "Hybrid split used",
        ["backend", "turns", "% of\nturns", "tokens", "% of\ntokens"],
        [share.backend for share in report.split],
    )
    for share in report.split:
        split.add_row(
            Text(share.backend),
            fmt.count(share.turns),
            fmt.percent(share.share_turns),
            fmt.count(share.tokens),
            fmt.percent(share.share_tokens),
        )
    parts.append(split)

    if report.edit_formats:
        edits = _table(
            "Refactor proposals · by backend, model and edit format",
            ["backend · model · format", "proposals", "parsed", "checks\npassed", "applied\n(kept)", "worked"],
            [f"{f.backend} · {f.model} · {f.edit_format}" for f in report.edit_formats],
        )
        for f in report.edit_formats:
            edits.add_row(
                Text(f"{f.backend} · {f.model} · {f.edit_format}"), fmt.count(f.proposals), fmt.count(f.parsed),
                fmt.count(f.checks_passed), fmt.count(f.applied), fmt.percent(f.worked),
            )
        parts.append(edits)

    if report.evals:
        evaluated = _table("Quality measured offline (assistant eval) · pass@1, its 80% interval, well-formed answers",
                           ["backend · model · kind (task set)", "pass@1", "interval", "well formed", "per task"],
                           [f"{f.backend} · {f.model} · {f.kind} ({f.task_set})" for f in report.evals])  # fmt: skip
        for f in report.evals:
            evaluated.add_row(Text(f"{f.backend} · {f.model} · {f.kind} ({f.task_set})"), f"{f.passed}/{f.tasks}",
                              f"{f.lower:.0%}–{f.upper:.0%}", f"{f.well_formed:.0%}",
                              f"{fmt.seconds(f.model_seconds_per_task + f.check_seconds_per_task)}, "
                              f"{fmt.cost(f.cost_per_task)}")  # fmt: skip
        parts.append(evaluated)
    if report.quality:
        quality = _table(
            "Answer quality · rated answers per backend, model and kind of turn (/good, /bad, /retry other, edits, "
            "tasks: their checks, undo, rewind)",
            ["backend · model · kind", "rated", "good", "estimate", "at least\n(90% sure)"],
            [f"{q.backend} · {q.model} · {q.kind}" for q in report.quality],
        )
        for q in report.quality:
            est = q.quality
            quality.add_row(
                Text(f"{q.backend} · {q.model} · {q.kind}"), fmt.count(est.rated), fmt.count(est.good),
                f"{est.mean:.2f}" if est.enough else f"{fmt.DASH} (not enough data)",
                f"{est.lower:.2f}" if est.enough else fmt.DASH,
            )
        parts.append(quality)

    def dollars(fig: Figure) -> str:
        return fmt.cost(fig.value) if fig.value is not None else f"{fmt.DASH} ({fig.reason})"

    parts.append(Text(
        f"These turns cost {dollars(report.cost_actual)} · all on Claude ({reference_model}): "
        f"{dollars(report.cost_all_claude)} · all local: {dollars(report.cost_all_local)}"
    ))
    parts.append(Text(f"all local: {report.all_local_method}"))
    parts += [Text(f"{fmt.DASH} {note}", style="dim") for note in _notes(report)]
    return Group(*parts)


def series_label(series: SpeedSeries) -> str:
    """The line above a speed series' chart: whose it is, over how many turns, its spread."""
    return (
        f"{series.backend} · {series.model}: tokens/sec over its last {len(series.tps)} turns — "
        f"min {series.minimum:,.1f} · median {series.median:,.1f} · max {series.maximum:,.1f}"
    )


# -- plan --------------------------------------------------------------------------


def local_at_once(rates: PlanRates) -> str:
    """How the plan runs the local model's requests: several at once only where measured."""
    if rates.local_aggregate is None:
        return "one at a time (several at once is not measured: assistant bench --concurrency N)"
    n, rate = rates.local_aggregate
    return f"{n} at once at {fmt.rate(rate)} in all (measured)"


def print_plans(
    console: Console, results: list[PlanResult], rates: PlanRates, limits: PlanLimits, *, window: str
) -> None:
    """The plans of `results`, with the rates (measured over the last `window`) they use."""
    def rate_text(tps: float | None, ttft: float | None) -> str:
        return f"{fmt.rate(tps)}, TTFT {fmt.seconds(ttft)}"

    price = fmt.cost(rates.claude_per_million) if rates.claude_per_million is not None else fmt.DASH
    per_hour = f"${rates.local_per_hour:g}/h" if rates.local_per_hour is not None else fmt.DASH
    console.print(
        f"Rates measured in the ledger over the last {window}: Claude {rate_text(rates.claude_tps, rates.claude_ttft)}, {price} per M tokens, "
        f"{limits.claude_concurrency} at once, {limits.claude_requests_per_second:g} started/s · "
        f"local {rate_text(rates.local_tps, rates.local_ttft)}, {per_hour}, {local_at_once(rates)}",
        highlight=False,
    )
    if rates.rests_on:
        said = "; ".join(f"{side} on {basis}" for side, basis in rates.rests_on)
        console.print(f"The speeds rest on: {said}.", highlight=False)
    for result in results:
        w = result.workload
        graded = any(c.passing is not None for c in result.configurations)
        table = _table(
            f"{w.name} · {w.title} · {fmt.count(result.requests)} requests · "
            f"{fmt.count(result.prompt_tokens)} prompt + {fmt.count(result.output_tokens)} output tokens",
            ["", "Claude\nrequests", "local\nrequests", "time", "cost", *(["expected to\npass (eval)"] if graded else [])],
            ["Claude only"],
        )
        for c in result.configurations:
            # Without a measured split the hybrid has no requests to count either.
            unsplit = any(m.figure == SPLIT for m in c.missing)
            passing = fmt.DASH if c.passing is None else f"{c.passing:.0%} of {fmt.count(c.passing_of)}"
            table.add_row(
                {"claude": "Claude only", "local": "local only", "hybrid": "hybrid"}[c.name],
                fmt.DASH if unsplit else fmt.count(c.claude.requests),
                fmt.DASH if unsplit else fmt.count(c.local.requests),
                fmt.duration(c.seconds),
                fmt.cost(c.cost) if c.cost is not None else fmt.DASH,
                *([passing] if graded else []),
            )
        console.print(table)
        for c in result.configurations:
            if c.note:
                console.print(f"{c.name}: {c.note}", highlight=False)
            reasons: dict[str, list[str]] = {}
            for m in c.missing:
                reasons.setdefault(m.why, []).append(m.figure)
            for why, figures in reasons.items():
                console.print(f"{c.name}: no {', '.join(figures)}" + (f" ({why})" if why else ""), highlight=False)
