"""Measured throughput, latency, cost and capacity per backend and model, for `assistant report`.

Pure: ledger turns and benchmark results in, typed figures out. Every figure is
a `Figure`: its value and how many turns (or benchmark runs) it rests on. A
figure resting on fewer than `MIN_SAMPLES` is `None` with the reason ("not
enough data (2 turns)"), and so is one nothing measured: nothing here is
assumed, and an unknown cost is never a $0.

Sums, medians and shares come from `cost_summary.summarize`, so `assistant
cost` and `assistant report` never disagree about the same turns.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from assistant.core.accounting.bench_results import (
    BenchResult, bench_samples, gainful_concurrency, one_stream, prompt_range,
)
from assistant.core.accounting.cost_summary import nearest_rank, summarize
from assistant.core.accounting.edit_formats import FormatFigures, format_figures
from assistant.core.accounting.pricing import PER_MILLION, SECONDS_PER_HOUR
from assistant.core.accounting.evals import EvalFigures, figures
from assistant.core.accounting.quality import estimate
from assistant.core.decisions import Quality
from assistant.core.hardware import machine_identity
from assistant.core.store import evals, ratings
from assistant.core.store.ledger import Ledger, ProposalRecord, TurnRecord

MIN_SAMPLES = 3  # a figure resting on fewer turns (or bench runs) is not shown
ACTIVE_HOURS = (2, 4, 8, 24)  # daily capacity at this many hours of generation a day
SERIES_TURNS = 120  # a speed series keeps its backend's last this many turns (the /report chart)
CLAUDE_BACKENDS = frozenset({"claude"})  # the ledger's remote backends; every other one is local
TURNS, BENCH_RUNS = "turns", "bench runs"
# The ledger records the route of a refactor turn, not whether its proposal was
# accepted, so there is no acceptance rate to show.
NO_QUALITY_DATA = "no refactor proposals yet"
PROPOSALS = "proposals"


@dataclass(frozen=True, slots=True)
class Figure:
    """A measured value and what it rests on; `reason` says why `value` is None."""

    value: float | None
    basis: int  # how many turns (or bench runs) it rests on
    unit: str = TURNS  # TURNS or BENCH_RUNS
    reason: str = ""
    bench_runs: int = 0  # bench runs it rests on besides `basis` turns (a figure both measure)


def rests_on(fig: Figure) -> str:
    """What a figure rests on, in words: `3 bench runs + 12 turns`, `12 turns`, `no turns`."""
    parts = [count_text(fig.bench_runs, BENCH_RUNS)] if fig.bench_runs else []
    if fig.basis or not parts:
        parts.append(count_text(fig.basis, fig.unit))
    return " + ".join(parts)


def count_text(n: int, unit: str = TURNS) -> str:
    """`2 turns`, `1 turn`, `3 bench runs`."""
    return f"{n} {unit if n != 1 else unit.removesuffix('s')}"


def figure(
    value: float | None, basis: int, unit: str = TURNS, *, missing: str = "no data", bench_runs: int = 0
) -> Figure:
    """`value`, unless it rests on too few samples (or is None: `missing` says why);
    `bench_runs` are samples besides the `basis` turns."""
    if basis + bench_runs == 0:
        return Figure(None, 0, unit, f"no {unit}")
    if basis + bench_runs < MIN_SAMPLES:
        shown = rests_on(Figure(None, basis, unit, bench_runs=bench_runs))
        return Figure(None, basis, unit, f"not enough data ({shown})", bench_runs)
    if value is None:
        return Figure(None, basis, unit, missing, bench_runs)
    return Figure(value, basis, unit, bench_runs=bench_runs)


@dataclass(frozen=True, slots=True)
class Capacity:
    hours: int  # active hours of generation a day
    tokens: Figure  # output tokens: median tok/s × 3600 × hours


@dataclass(frozen=True, slots=True)
class BackendFigures:
    """One backend and model: what its turns (and benchmark runs) measured."""

    backend: str
    model: str
    local: bool
    turns: int  # every outcome
    tokens_in: int
    tokens_out: int
    generation_tps: Figure  # median over the turns that measured it
    ttft_median: Figure
    ttft_p95: Figure  # nearest rank
    cost_per_million: Figure  # sum of costs / sum of (prompt + completion) tokens × 1e6, cache included
    daily_capacity: tuple[Capacity, ...]  # one per ACTIVE_HOURS
    quality: Figure  # share of refactor proposals accepted
    prompt_tps: Figure  # prompt evaluation, median over benchmark results; basis = their runs
    # (prompt tokens, median first-token latency) and (prompt tokens, median generation rate)
    # of the bench cases, by prompt length: what a plan interpolates a request's figures on.
    ttft_by_prompt: tuple[tuple[int, float], ...] = ()
    tps_by_prompt: tuple[tuple[int, float], ...] = ()
    # (streams at once, median aggregate generation rate) of `assistant bench --concurrency N`
    # runs: an inference server's throughput over its slots.
    aggregate_tps: tuple[tuple[int, float], ...] = ()
    # A local model: the streams at once this machine's bench runs gained most from (1: none
    # gained), what an auto `[backends.local] parallel` loads with; None: not measured here.
    gainful_at_once: int | None = None


@dataclass(frozen=True, slots=True)
class BackendShare:
    """The hybrid split actually used: one backend's part of the turns and tokens."""

    backend: str
    local: bool
    turns: int
    tokens: int  # prompt + completion
    share_turns: float
    share_tokens: float


@dataclass(frozen=True, slots=True)
class Report:
    turns: int
    bench_runs: int
    first_at: float | None
    last_at: float | None
    rows: tuple[BackendFigures, ...]  # sorted by backend, model
    split: tuple[BackendShare, ...]  # sorted by backend
    local_token_share: Figure  # share of all tokens served locally
    cost_actual: Figure  # what the turns cost
    cost_all_claude: Figure  # the same tokens on the reference Claude model (counterfactual costs)
    cost_all_local: Figure  # the same turns on the local machine, at its measured speed
    all_local_seconds: Figure  # the time that would take
    all_local_method: str  # how the all-local figures were computed, in words
    machine_per_hour: float
    edit_formats: tuple[FormatFigures, ...] = ()  # refactor proposals per backend, model and edit format
    quality: tuple[QualityRow, ...] = ()  # rated answers per backend, model and kind of turn
    # Quality measured offline (`assistant eval`) per backend, model and task set: pass@1 and its interval.
    evals: tuple[EvalFigures, ...] = ()
    # The share of each kind's tokens the router sent to local backends (turns with a kind).
    local_share_by_kind: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True, slots=True)
class QualityRow:
    """How good one backend and model's answers were on one kind of turn."""

    backend: str
    model: str
    kind: str
    quality: Quality


def quality_rows(rated: Mapping[tuple[str, str, str], tuple[int, int]]) -> tuple[QualityRow, ...]:
    """(good, bad) answers per (backend, model, kind) as estimates, sorted."""
    return tuple(QualityRow(b, m, k, estimate(good, bad)) for (b, m, k), (good, bad) in sorted(rated.items()))


def local_share_by_kind(records: Iterable[TurnRecord], claude_backends: frozenset[str]) -> tuple[tuple[str, float], ...]:
    """Per kind of turn, the share of its tokens served by local backends (kinds with tokens)."""
    tokens: dict[str, list[int]] = {}
    for r in records:
        if r.kind:
            n = (r.prompt_tokens or 0) + r.completion_tokens
            local, total = tokens.setdefault(r.kind, [0, 0])
            tokens[r.kind] = [local + (n if r.backend not in claude_backends else 0), total + n]
    return tuple((kind, local / total) for kind, (local, total) in sorted(tokens.items()) if total)


def _median(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


def _sum_figure(records: Sequence[TurnRecord], field: str, total: float, what: str) -> Figure:
    """A sum of known dollars, or None naming how many turns' dollars are unknown."""
    unknown = sum(getattr(r, field) is None for r in records)
    missing = f"{what} unknown for {count_text(unknown)}"
    return figure(None if unknown else total, len(records), missing=missing)


def _same_model(turn_model: str, bench_model: str) -> bool:
    """A benchmark names a local model file with its size and hash after the name."""
    if bench_model == turn_model:
        return True
    rest = bench_model.removeprefix(turn_model)
    return rest != bench_model and bool(turn_model) and rest[:1] in (" ", "(", "·", "[")


def _quality(proposals: Sequence[ProposalRecord]) -> Figure:
    """The share of this model's refactor proposals the user applied (failed ones count as not)."""
    if not proposals:
        return Figure(None, 0, reason=NO_QUALITY_DATA)
    applied = sum(p.outcome == "applied" for p in proposals)
    return figure(applied / len(proposals), len(proposals), PROPOSALS)


def _row(
    backend: str,
    model: str,
    records: Sequence[TurnRecord],
    bench: Sequence[BenchResult],
    local: bool,
    proposals: Sequence[ProposalRecord] = (),
) -> BackendFigures:
    line = summarize(records).total
    concurrent = [b for b in bench if b.concurrency > 1 and b.aggregate_tps is not None]
    gainful = gainful_concurrency([b for b in bench if b.machine == machine_identity()]) if local else None
    bench = one_stream(bench)
    # Generation speed is the same measurement on a bench and in a turn: both count.
    turn_tps = [r.tokens_per_second for r in records if r.tokens_per_second is not None]
    bench_tps = bench_samples(bench, "generation_tps")
    tps = figure(_median(turn_tps + bench_tps), len(turn_tps), bench_runs=len(bench_tps))
    # A first token is: only bench cases of the turns' own prompt lengths (all of them without turns).
    turn_ttft = [r.ttft for r in records if r.ttft is not None]
    bench_ttft = bench_samples(bench, "ttft", prompt_range([r.prompt_tokens for r in records]))
    ttfts = turn_ttft + bench_ttft
    tokens = line.tokens_in + line.tokens_out
    if not line.cost_known:
        unknown = sum(r.cost is None for r in records)
        per_million = figure(None, line.turns, missing=f"cost unknown for {count_text(unknown)}")
    else:
        per_million = figure(line.cost / tokens * PER_MILLION if tokens else None, line.turns, missing="no tokens")
    measured_prompt = [b for b in bench if b.prompt_tps is not None]
    return BackendFigures(
        backend=backend,
        model=model,
        local=local,
        turns=line.turns,
        tokens_in=line.tokens_in,
        tokens_out=line.tokens_out,
        generation_tps=tps,
        ttft_median=figure(_median(ttfts), len(turn_ttft), bench_runs=len(bench_ttft)),
        ttft_p95=figure(nearest_rank(ttfts, 95), len(turn_ttft), bench_runs=len(bench_ttft)),
        cost_per_million=per_million,
        daily_capacity=tuple(
            Capacity(h, replace(tps, value=tps.value * SECONDS_PER_HOUR * h) if tps.value is not None else tps)
            for h in ACTIVE_HOURS
        ),
        quality=_quality(proposals),
        prompt_tps=figure(
            _median([b.prompt_tps for b in measured_prompt if b.prompt_tps is not None]),
            sum(b.runs for b in measured_prompt),
            BENCH_RUNS,
        ),
        ttft_by_prompt=_by_prompt(bench, "ttft"),
        tps_by_prompt=_by_prompt(bench, "generation_tps"),
        aggregate_tps=tuple(
            (n, statistics.median(b.aggregate_tps for b in concurrent if b.concurrency == n))  # type: ignore[misc]
            for n in sorted({b.concurrency for b in concurrent})
        ),
        gainful_at_once=gainful,
    )


def _by_prompt(bench: Sequence[BenchResult], field: str) -> tuple[tuple[int, float], ...]:
    """(prompt tokens, the median of `field` over the runs at that length), by length."""
    at = {n: bench_samples(bench, field, (n, n)) for n in sorted({b.prompt_tokens for b in bench})}
    return tuple((n, statistics.median(samples)) for n, samples in at.items() if samples)


def main_row(rows: Iterable[BackendFigures], *, local: bool) -> BackendFigures | None:
    """The local (or remote) model measured most (turns and bench runs): the one a
    plan or an all-local estimate rests on. None when nothing of that side is measured."""
    candidates = [r for r in rows if r.local == local and (r.turns or r.generation_tps.bench_runs)]
    measured = lambda r: (r.generation_tps.basis + r.generation_tps.bench_runs, r.turns)  # noqa: E731
    return max(candidates, key=measured, default=None)


@dataclass(frozen=True, slots=True)
class SpeedSeries:
    """One backend and model's generation rate turn by turn (oldest first, its last
    `SERIES_TURNS` answered turns that measured one), and their spread."""

    backend: str
    model: str
    tps: tuple[float, ...]
    minimum: float
    median: float
    maximum: float


def speed_series(records: Iterable[TurnRecord], *, last: int = SERIES_TURNS) -> tuple[SpeedSeries, ...]:
    """Per backend and model, in the order of their first such turn: the tokens/sec of
    the `last` answered turns of `records` (oldest first) that measured a speed."""
    measured: dict[tuple[str, str], list[float]] = {}
    for r in records:
        if r.outcome == "ok" and r.tokens_per_second:
            measured.setdefault((r.backend, r.model), []).append(r.tokens_per_second)
    series = []
    for (backend, model), values in measured.items():
        kept = tuple(values[-last:])
        series.append(SpeedSeries(backend, model, kept, min(kept), statistics.median(kept), max(kept)))
    return tuple(series)


def _all_local(
    records: Sequence[TurnRecord], rows: Sequence[BackendFigures], machine_per_hour: float
) -> tuple[Figure, Figure, str]:
    """Every turn on the local machine: per turn the local model's median first-token
    latency, plus all output tokens at its median generation rate; priced at the
    machine's $/hour. At $0/hour that is $0 whatever the time."""
    n = len(records)
    out = sum(r.completion_tokens for r in records)
    row = main_row(rows, local=True)
    seconds: Figure
    if row is None:
        seconds = figure(None, n, missing="no local turns measured")
        how = "no local model has measured turns"
    elif row.generation_tps.value is None or row.ttft_median.value is None:
        missing = row.generation_tps if row.generation_tps.value is None else row.ttft_median
        seconds = figure(None, n, missing=f"{row.backend} · {row.model}: {missing.reason}")
        how = f"{row.backend} · {row.model} has no measured speed ({missing.reason})"
    else:
        tps, ttft = row.generation_tps.value, row.ttft_median.value
        seconds = figure(n * ttft + out / tps, n)
        how = (
            f"{count_text(n)} × {ttft:.3g} s first-token latency + {out:,} output tokens ÷ "
            f"{tps:.3g} tok/s ({row.backend} · {row.model}, medians over {rests_on(row.generation_tps)})"
        )
    if machine_per_hour == 0:
        return figure(0.0, n), seconds, f"the local machine costs $0/hour, so $0 whatever the time; time: {how}"
    cost = figure(
        machine_per_hour * seconds.value / SECONDS_PER_HOUR if seconds.value is not None else None,
        n,
        missing=seconds.reason,
    )
    return cost, seconds, f"${machine_per_hour:g}/hour × time; time: {how}"


def build_report(
    records: Sequence[TurnRecord],
    bench: Sequence[BenchResult] = (),
    *,
    machine_per_hour: float = 0.0,
    claude_backends: frozenset[str] = CLAUDE_BACKENDS,
    proposals: Sequence[ProposalRecord] = (),
    rated: Mapping[tuple[str, str, str], tuple[int, int]] | None = None,
    evals: Sequence[EvalFigures] = (),
) -> Report:
    """Figures per backend and model, the split the router used (per kind too), how
    good the rated answers were, and what these turns cost against all-Claude and all-local."""
    groups: dict[tuple[str, str], list[TurnRecord]] = {}
    for record in records:
        groups.setdefault((record.backend, record.model), []).append(record)
    benched: dict[tuple[str, str], list[BenchResult]] = {}
    for result in bench:
        key = next((k for k in groups if k[0] == result.backend and _same_model(k[1], result.model)), None)
        benched.setdefault(key or (result.backend, result.model), []).append(result)
    keys = sorted(set(groups) | set(benched))
    proposed: dict[tuple[str, str], list[ProposalRecord]] = {}
    for p in proposals:
        proposed.setdefault((p.backend, p.model), []).append(p)
    keys = sorted(set(keys) | set(proposed))
    rows = tuple(
        _row(b, m, groups.get((b, m), ()), benched.get((b, m), ()), b not in claude_backends, proposed.get((b, m), ()))
        for b, m in keys
    )

    by_backend = summarize(records, by="backend")
    split = tuple(
        BackendShare(
            backend=line.key,
            local=line.key not in claude_backends,
            turns=line.turns,
            tokens=line.tokens_in + line.tokens_out,
            share_turns=line.share_turns,
            share_tokens=line.share_tokens,
        )
        for line in by_backend.lines
    )
    total = by_backend.total
    all_tokens = total.tokens_in + total.tokens_out
    local_share = sum(s.share_tokens for s in split if s.local) if all_tokens else None
    cost_all_local, all_local_seconds, method = _all_local(records, rows, machine_per_hour)
    return Report(
        turns=total.turns,
        bench_runs=sum(b.runs for b in bench),
        first_at=by_backend.first_at,
        last_at=by_backend.last_at,
        rows=rows,
        split=split,
        local_token_share=figure(local_share, total.turns, missing="no tokens"),
        cost_actual=_sum_figure(records, "cost", total.cost, "cost"),
        cost_all_claude=_sum_figure(records, "counterfactual_cost", total.counterfactual_cost, "all-Claude cost"),
        cost_all_local=cost_all_local,
        all_local_seconds=all_local_seconds,
        all_local_method=method,
        machine_per_hour=machine_per_hour,
        edit_formats=format_figures(proposals),
        quality=quality_rows(rated or {}),
        local_share_by_kind=local_share_by_kind(records, claude_backends),
        evals=tuple(evals),
    )


def read_report(
    ledger: Ledger, *, since: float | None, machine_per_hour: float, records: Sequence[TurnRecord] | None = None
) -> Report:
    """The report of the ledger's turns (`records`, when already read), bench runs,
    proposals and ratings since `since` (LedgerError when it cannot be read)."""
    return build_report(
        ledger.turns(since=since) if records is None else records,
        [b for b in ledger.bench_results() if since is None or b.at >= since],
        machine_per_hour=machine_per_hour,
        proposals=ledger.proposals(since=since),
        rated=ratings.counts(ledger, since=since),
        evals=figures(evals.totals(ledger)),  # every evaluation: a task set's score does not age with the turns
    )


__all__ = [
    "ACTIVE_HOURS",
    "BENCH_RUNS",
    "CLAUDE_BACKENDS",
    "MIN_SAMPLES",
    "NO_QUALITY_DATA",
    "SERIES_TURNS",
    "TURNS",
    "BackendFigures",
    "BackendShare",
    "Capacity",
    "Figure",
    "Report",
    "SpeedSeries",
    "build_report",
    "count_text",
    "figure",
    "main_row",
    "rests_on",
    "speed_series",
]
