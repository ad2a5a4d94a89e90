"""What a workload would take, in time and money, on Claude only, local only, or
the hybrid split the router really used: `assistant plan`.

Workloads are data (`assistant/data/workloads.toml`, or a file of the same
shape); rates are passed in (measured, from the ledger through
`rates_from_report`), so `plan` is a pure function. The time model:

- one request takes its backend's median first-token latency plus its output
  tokens at the backend's median generation rate (prompt evaluation is part of
  the measured first-token latency);
- Claude runs up to `claude_concurrency` requests at once and starts at most
  `claude_requests_per_second` (its backend's `max_concurrency` and
  `requests_per_second`, as `core.backends.limits` applies them to batch refactors);
  the local model generates one sequence at a time, unless its throughput over
  several streams at once was measured (an inference server's slots, the in-process
  model's `parallel` sequences): then its queue drains that much faster (the one-at-a-time time × its rate ÷ the aggregate);
- in the hybrid both run side by side: the longer of the two is the time.

Cost: Claude at its measured effective $ per million tokens (prompt and output,
cache included, as the ledger's costs are); local at the machine's $/hour over
its time. A missing rate makes that configuration name the figure, not guess it.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, get_args

from assistant.core.accounting.pricing import PER_MILLION, SECONDS_PER_HOUR
from assistant.core.accounting.report import BackendFigures, Figure, Report, main_row, rests_on
from assistant.core.text import named, shown
from assistant.core.tomlfile import TomlProblem, parse_toml, read_toml_text
from assistant.core.words import TurnKind

DEFAULT_PROMPT_TOKENS = 1_000  # an item's prompt when its workload does not say
# A plan simulates each request (Claude's slots): a workload holds at most this many.
MAX_REQUESTS = 1_000_000
MAX_TOKENS = 2**24  # per request, prompt or output
KINDS: tuple[str, ...] = get_args(TurnKind)
OLD_KINDS = {"refactor": "edit"}  # a workload file written before the kinds of issue 14
CONFIGURATIONS = ("claude", "local", "hybrid")

# The figures a configuration may miss, as they are named to people.
CLAUDE_TPS = "Claude tokens/s"
CLAUDE_TTFT = "Claude first-token latency"
CLAUDE_PRICE = "Claude $ per million tokens"
LOCAL_TPS = "local tokens/s"
LOCAL_TTFT = "local first-token latency"
LOCAL_PRICE = "local machine $/hour"
SPLIT = "measured hybrid split"


class WorkloadError(Exception):
    """A workload file that cannot be read or is malformed; one line naming where and what."""


@dataclass(frozen=True, slots=True)
class WorkItem:
    name: str
    kind: TurnKind
    count: int
    output_tokens: int  # per item
    prompt_tokens: int = DEFAULT_PROMPT_TOKENS  # per item


@dataclass(frozen=True, slots=True)
class Workload:
    name: str
    title: str
    items: tuple[WorkItem, ...]


@dataclass(frozen=True, slots=True)
class PlanRates:
    """Measured rates; None where not measured (`why` may say why, per figure name)."""

    claude_tps: float | None = None
    claude_ttft: float | None = None  # seconds
    claude_per_million: float | None = None  # effective dollars per million (prompt + output) tokens
    local_tps: float | None = None
    local_ttft: float | None = None
    local_per_hour: float | None = None  # the local machine's dollars per hour
    local_share: float | None = None  # share of tokens the router sent to local backends
    local_share_by_kind: tuple[tuple[str, float], ...] = ()  # per turn kind, where measured
    why: tuple[tuple[str, str], ...] = ()  # (figure name, why it is missing)
    # pass@1 per turn kind, measured offline (`assistant eval`) for the same two models.
    claude_passes: tuple[tuple[str, float], ...] = ()
    local_passes: tuple[tuple[str, float], ...] = ()
    # What each side's speed rests on: ("Claude", "12 turns"), ("local", "6 bench runs + 3 turns").
    rests_on: tuple[tuple[str, str], ...] = ()
    # Bench cases' (prompt tokens, first-token latency) and (prompt tokens, generation rate):
    # a request's figures are interpolated at its prompt's length; without two lengths, the
    # medians (`*_ttft`, `*_tps`) are used for all.
    claude_ttft_by_prompt: tuple[tuple[int, float], ...] = ()
    local_ttft_by_prompt: tuple[tuple[int, float], ...] = ()
    claude_tps_by_prompt: tuple[tuple[int, float], ...] = ()
    local_tps_by_prompt: tuple[tuple[int, float], ...] = ()
    # The local side's measured throughput over several streams at once (an inference
    # server's slots, the in-process model's `parallel` sequences, `assistant bench
    # --concurrency N`): (N, all streams' tok/s).
    local_aggregate: tuple[int, float] | None = None


def at_prompt_length(points: Sequence[tuple[int, float]], prompt_tokens: int, median: float) -> float:
    """A bench figure (first-token latency, generation rate) at `prompt_tokens`:
    linear between the bench cases' prompt lengths; beyond the longest, along the
    line from the shortest to the longest case (two neighbouring cases are too
    noisy to extrapolate on); never below the smallest measured value; `median`
    without two lengths."""
    if len(points) < 2:
        return median
    (x_first, y_first), (x_last, y_last) = points[0], points[-1]
    if prompt_tokens >= x_last:
        value = y_last + (y_last - y_first) / (x_last - x_first) * (prompt_tokens - x_last)
    else:
        (x0, y0), (x1, y1) = next((a, b) for a, b in zip(points, points[1:]) if prompt_tokens <= b[0])
        value = y0 + (y1 - y0) * (prompt_tokens - x0) / (x1 - x0)
    return max(value, min(y for _, y in points))


@dataclass(frozen=True, slots=True)
class PlanLimits:
    claude_concurrency: int = 4
    claude_requests_per_second: float = 2.0


@dataclass(frozen=True, slots=True)
class Side:
    """What one backend does in a configuration."""

    requests: int
    prompt_tokens: int
    output_tokens: int
    seconds: float | None  # None when a rate is missing
    cost: float | None


@dataclass(frozen=True, slots=True)
class MissingRate:
    figure: str  # CLAUDE_TPS, …, SPLIT
    why: str = ""  # why it was not measured, where known


@dataclass(frozen=True, slots=True)
class ConfigurationPlan:
    name: str  # one of CONFIGURATIONS
    claude: Side
    local: Side
    seconds: float | None  # both sides running at once: the longer one
    cost: float | None
    missing: tuple[MissingRate, ...]  # the figures it would need and has not
    note: str = ""
    # Of its requests whose kind `assistant eval` measured on the side that serves them: the
    # share expected to pass, and how many requests that is (None, 0: none measured).
    passing: float | None = None
    passing_of: int = 0


@dataclass(frozen=True, slots=True)
class PlanResult:
    workload: Workload
    requests: int
    prompt_tokens: int
    output_tokens: int
    configurations: tuple[ConfigurationPlan, ...]  # in CONFIGURATIONS order


# -- workloads -------------------------------------------------------------------

_ITEM_KEYS = {"name", "kind", "count", "output_tokens", "prompt_tokens"}
_WORKLOAD_KEYS = {"title", "items"}


def _integer(where: str, key: str, value: Any, minimum: int, maximum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        raise WorkloadError(f"{where}: {key}: expected an integer from {minimum} to {maximum}, got {shown(value)}")
    return value


def _item(where: str, table: Any) -> WorkItem:
    if not isinstance(table, Mapping):
        raise WorkloadError(f"{where}: expected a table, got {shown(table)}")
    unknown = sorted(set(table) - _ITEM_KEYS)
    if unknown:
        raise WorkloadError(f"{where}: unknown key {shown(unknown[0])} (known: {', '.join(sorted(_ITEM_KEYS))})")
    for key in ("name", "kind", "count", "output_tokens"):
        if key not in table:
            raise WorkloadError(f"{where}: missing {key}")
    name, kind = table["name"], table["kind"]
    kind = OLD_KINDS.get(kind, kind) if isinstance(kind, str) else kind
    if not isinstance(name, str) or not name.strip():
        raise WorkloadError(f"{where}: name: expected a non-empty string, got {shown(name)}")
    if not isinstance(kind, str) or kind not in KINDS:
        raise WorkloadError(f"{where}: kind: expected one of {', '.join(KINDS)}, got {shown(kind)}")
    return WorkItem(
        name=name,
        kind=kind,
        count=_integer(where, "count", table["count"], 1, MAX_REQUESTS),
        output_tokens=_integer(where, "output_tokens", table["output_tokens"], 1, MAX_TOKENS),
        prompt_tokens=_integer(where, "prompt_tokens", table.get("prompt_tokens", DEFAULT_PROMPT_TOKENS), 0, MAX_TOKENS),
    )


def _workload(where: str, name: str, table: Any) -> Workload:
    here = f"{where}: workloads.{named(name)}"
    if not isinstance(table, Mapping):
        raise WorkloadError(f"{here}: expected a table, got {shown(table)}")
    unknown = sorted(set(table) - _WORKLOAD_KEYS)
    if unknown:
        raise WorkloadError(f"{here}: unknown key {shown(unknown[0])} (known: {', '.join(sorted(_WORKLOAD_KEYS))})")
    title, items = table.get("title", ""), table.get("items")
    if not isinstance(title, str):
        raise WorkloadError(f"{here}: title: expected a string, got {shown(title)}")
    if not isinstance(items, list) or not items:
        raise WorkloadError(f"{here}: expected at least one [[workloads.{named(name)}.items]] table")
    workload = Workload(name, title, tuple(_item(f"{here}.items[{i}]", t) for i, t in enumerate(items)))
    requests = sum(item.count for item in workload.items)
    if requests > MAX_REQUESTS:  # the plan simulates every request
        raise WorkloadError(f"{here}: {requests} requests in all; at most {MAX_REQUESTS} are planned at once")
    return workload


def parse_workloads(text: str, where: str) -> tuple[Workload, ...]:
    """The workloads of a TOML text, in file order; `where` names it in errors."""
    try:
        data = parse_toml(text)
    except TomlProblem as exc:
        raise WorkloadError(f"{where}: {exc}") from None
    unknown = sorted(set(data) - {"workloads"})
    if unknown:
        raise WorkloadError(f"{where}: unknown table {shown(unknown[0])} (workloads go in [workloads.NAME])")
    workloads = data.get("workloads")
    if not isinstance(workloads, Mapping) or not workloads:
        raise WorkloadError(f"{where}: no workload: expected at least one [workloads.NAME] table")
    return tuple(_workload(where, name, table) for name, table in workloads.items())


def read_workloads(path: Path) -> tuple[Workload, ...]:
    """The workloads of a file; every failure is one `WorkloadError` line."""
    try:
        text = read_toml_text(path)
    except FileNotFoundError as exc:
        raise WorkloadError(f"{named(str(path))}: cannot read: {exc.strerror}") from None
    except TomlProblem as exc:
        raise WorkloadError(f"{named(str(path))}: {exc}") from None
    return parse_workloads(text, named(str(path)))


@lru_cache(maxsize=1)
def builtin_workloads() -> tuple[Workload, ...]:
    """The scenarios shipped in the package."""
    text = resources.files("assistant.data").joinpath("workloads.toml").read_text(encoding="utf-8")
    return parse_workloads(text, "assistant/data/workloads.toml")


# -- rates from the ledger ----------------------------------------------------------


def rates_from_report(report: Report, *, machine_per_hour: float | None) -> PlanRates:
    """The rates a plan rests on: the medians of the Claude and the local model
    measured most (turns and bench runs), and the token split the router really used."""
    why: list[tuple[str, str]] = []

    def value(name: str, fig: Figure | None, side: str) -> float | None:
        if fig is None:
            why.append((name, f"nothing {side} measured (no turns or bench runs in the ledger)"))
            return None
        if fig.value is None:
            why.append((name, fig.reason))
        return fig.value

    claude, local = main_row(report.rows, local=False), main_row(report.rows, local=True)
    return PlanRates(
        claude_tps=value(CLAUDE_TPS, claude and claude.generation_tps, "Claude"),
        claude_ttft=value(CLAUDE_TTFT, claude and claude.ttft_median, "Claude"),
        claude_per_million=value(CLAUDE_PRICE, claude and claude.cost_per_million, "Claude"),
        local_tps=value(LOCAL_TPS, local and local.generation_tps, "local"),
        local_ttft=value(LOCAL_TTFT, local and local.ttft_median, "local"),
        local_per_hour=machine_per_hour,
        local_share=value(SPLIT, report.local_token_share, "routed"),
        local_share_by_kind=report.local_share_by_kind,
        why=tuple(why),
        claude_passes=_passes(report, claude),
        local_passes=_passes(report, local),
        rests_on=tuple(
            (side, _basis(row)) for side, row in (("Claude", claude), ("local", local)) if row is not None
        ),
        claude_ttft_by_prompt=claude.ttft_by_prompt if claude else (),
        local_ttft_by_prompt=local.ttft_by_prompt if local else (),
        claude_tps_by_prompt=claude.tps_by_prompt if claude else (),
        local_tps_by_prompt=local.tps_by_prompt if local else (),
        local_aggregate=local.aggregate_tps[-1] if local and local.aggregate_tps else None,
    )


def _passes(report: Report, row: BackendFigures | None) -> tuple[tuple[str, float], ...]:
    """The row's model's pass@1 per kind, from the report's evaluations."""
    if row is None:
        return ()
    return tuple((f.kind, f.pass_at_1) for f in report.evals if (f.backend, f.model) == (row.backend, row.model))


def _basis(row: BackendFigures) -> str:
    said = f"{row.backend} · {row.model}, {rests_on(row.generation_tps)}"
    if row.aggregate_tps:
        n, rate = row.aggregate_tps[-1]
        said += f"; {n} streams at once at {rate:,.1f} tok/s in all (bench --concurrency {n})"
    if len(row.ttft_by_prompt) >= 2:
        lengths = [n for n, _ in row.ttft_by_prompt]
        said += (f"; first-token latency and generation rate by prompt length from bench cases of "
                 f"{lengths[0]:,}-{lengths[-1]:,} tokens")
    return said


# -- the plan -----------------------------------------------------------------------


def claude_seconds(durations: Sequence[float], concurrency: int, requests_per_second: float) -> float:
    """When the last of `durations` ends, started in order: each as soon as one of
    `concurrency` slots is free and 1/`requests_per_second` after the previous start."""
    if not durations:
        return 0.0
    gap = 1.0 / requests_per_second
    free = [0.0] * min(concurrency, len(durations))  # when each slot is free again
    last_start, end = -gap, 0.0
    for duration in durations:
        start = max(heapq.heappop(free), last_start + gap)
        heapq.heappush(free, start + duration)
        last_start, end = start, max(end, start + duration)
    return end


def _missing(rates: PlanRates, names: Sequence[str]) -> tuple[MissingRate, ...]:
    why = dict(rates.why)
    return tuple(MissingRate(name, why.get(name, "")) for name in names)


def _totals(items: Sequence[tuple[WorkItem, int]]) -> tuple[int, int, int]:
    """(requests, prompt tokens, output tokens) of `items`."""
    return (
        sum(n for _, n in items),
        sum(item.prompt_tokens * n for item, n in items),
        sum(item.output_tokens * n for item, n in items),
    )


def _first_token(median: float | None, curve: Sequence[tuple[int, float]]) -> float | None:
    """The median first-token latency; bench cases at two prompt lengths or more
    measure it by themselves (their shortest case stands in for the median)."""
    return median if median is not None or len(curve) < 2 else curve[0][1]


def _request_seconds(
    item: WorkItem, ttft: float, ttfts: Sequence[tuple[int, float]], tps: float, rates: Sequence[tuple[int, float]]
) -> float:
    """One request of `item`: its first token, then its answer, each at its prompt's length."""
    prompt = item.prompt_tokens
    return at_prompt_length(ttfts, prompt, ttft) + item.output_tokens / at_prompt_length(rates, prompt, tps)


@dataclass(frozen=True, slots=True)
class _Backend:
    """One side of a configuration: its measured figures, the names a plan that misses
    them gives them, and the two things in which the sides differ: how its requests
    share the time (`elapsed`) and what it charges (`cost`)."""

    tps: float | None
    ttft: float | None
    price: float | None
    ttft_by_prompt: tuple[tuple[int, float], ...]
    tps_by_prompt: tuple[tuple[int, float], ...]
    names: tuple[str, str, str]  # tps, ttft and price, as a plan names them when missing
    elapsed: Callable[[float, Sequence[tuple[float, int]]], float]  # (tps, [(one request's seconds, count)])
    cost: Callable[[float, int, float | None], float | None]  # (price, tokens, seconds) -> dollars


def _claude(rates: PlanRates, limits: PlanLimits) -> _Backend:
    """Claude: requests in `limits`' slots at `limits`' pace; dollars per token."""

    def elapsed(_tps: float, each: Sequence[tuple[float, int]]) -> float:
        durations = [seconds for seconds, n in each for _ in range(n)]
        return claude_seconds(durations, limits.claude_concurrency, limits.claude_requests_per_second)

    return _Backend(
        rates.claude_tps, rates.claude_ttft, rates.claude_per_million,
        rates.claude_ttft_by_prompt, rates.claude_tps_by_prompt, (CLAUDE_TPS, CLAUDE_TTFT, CLAUDE_PRICE),
        elapsed, lambda price, tokens, _seconds: tokens * price / PER_MILLION,
    )


def _local(rates: PlanRates) -> _Backend:
    """The local model: one sequence at a time, so the requests queue, unless several
    streams at once were measured faster; dollars per hour of the machine."""

    def elapsed(tps: float, each: Sequence[tuple[float, int]]) -> float:
        seconds = sum(n * one for one, n in each)
        if rates.local_aggregate is not None and rates.local_aggregate[1] > tps:
            seconds *= tps / rates.local_aggregate[1]  # N streams at once: the queue drains faster
        return seconds

    def cost(per_hour: float, _tokens: int, seconds: float | None) -> float | None:
        if per_hour == 0:
            return 0.0  # a machine that costs nothing costs nothing, however long it runs
        return per_hour * seconds / SECONDS_PER_HOUR if seconds is not None else None

    return _Backend(
        rates.local_tps, rates.local_ttft, rates.local_per_hour,
        rates.local_ttft_by_prompt, rates.local_tps_by_prompt, (LOCAL_TPS, LOCAL_TTFT, LOCAL_PRICE),
        elapsed, cost,
    )


def _side(items: Sequence[tuple[WorkItem, int]], backend: _Backend) -> tuple[Side, list[str]]:
    """What `backend` does with `items` (each with its number of requests), and the
    names of the figures it would need and has not."""
    requests, prompt, output = _totals(items)
    if not requests:
        return Side(0, 0, 0, 0.0, 0.0), []
    ttft = _first_token(backend.ttft, backend.ttft_by_prompt)
    missing = [name for name, v in zip(backend.names, (backend.tps, ttft, backend.price)) if v is None]
    seconds = None
    if backend.tps is not None and ttft is not None:
        tps, ttfts, curve = backend.tps, backend.ttft_by_prompt, backend.tps_by_prompt
        seconds = backend.elapsed(tps, [(_request_seconds(item, ttft, ttfts, tps, curve), n) for item, n in items])
    cost = backend.cost(backend.price, prompt + output, seconds) if backend.price is not None else None
    return Side(requests, prompt, output, seconds, cost), missing


def _configuration(
    name: str,
    split: Sequence[tuple[WorkItem, int, int]],  # (item, to Claude, to local)
    rates: PlanRates,
    limits: PlanLimits,
    missing: Sequence[str] = (),
    note: str = "",
) -> ConfigurationPlan:
    claude, claude_missing = _side([(i, c) for i, c, _ in split], _claude(rates, limits))
    local, local_missing = _side([(i, n) for i, _, n in split], _local(rates))
    times, costs = (claude.seconds, local.seconds), (claude.cost, local.cost)
    passes = [(dict(rates.claude_passes).get(i.kind), c) for i, c, _ in split]
    passes += [(dict(rates.local_passes).get(i.kind), n) for i, _, n in split]
    measured = [(rate, n) for rate, n in passes if rate is not None and n]
    counted = sum(n for _, n in measured)
    return ConfigurationPlan(
        name=name,
        claude=claude,
        local=local,
        seconds=None if None in times or missing else max(times),  # type: ignore[type-var]
        cost=None if None in costs or missing else sum(costs),  # type: ignore[arg-type]
        missing=_missing(rates, [*missing, *claude_missing, *local_missing]),
        note=note,
        passing=sum(rate * n for rate, n in measured) / counted if counted else None,
        passing_of=counted,
    )


def _hybrid(workload: Workload, rates: PlanRates, limits: PlanLimits) -> ConfigurationPlan:
    """Each item's requests split by the measured share of tokens sent local (per kind
    where measured): within an item all requests are the same size, so a share of
    the requests is that share of its tokens (rounded to whole requests)."""
    by_kind = dict(rates.local_share_by_kind)
    shares = {item.kind: by_kind.get(item.kind, rates.local_share) for item in workload.items}
    if None in shares.values():
        empty = [(item, 0, 0) for item in workload.items]
        return _configuration("hybrid", empty, rates, limits, missing=[SPLIT])
    split = []
    for item in workload.items:
        to_local = int(item.count * shares[item.kind] + 0.5)  # type: ignore[operator]
        split.append((item, item.count - to_local, to_local))
    if by_kind:
        note = "local share of tokens per kind: " + ", ".join(f"{k} {s:.0%}" for k, s in shares.items())  # type: ignore[str-format]
    else:
        note = f"{rates.local_share:.0%} of tokens local, as the router split them"
    return _configuration("hybrid", split, rates, limits, note=note)


def plan(workload: Workload, rates: PlanRates, limits: PlanLimits) -> PlanResult:
    """The workload's time and cost on Claude only, local only, and the measured hybrid split."""
    items = workload.items
    return PlanResult(
        workload=workload,
        requests=sum(i.count for i in items),
        prompt_tokens=sum(i.count * i.prompt_tokens for i in items),
        output_tokens=sum(i.count * i.output_tokens for i in items),
        configurations=(
            _configuration("claude", [(i, i.count, 0) for i in items], rates, limits),
            _configuration("local", [(i, 0, i.count) for i in items], rates, limits),
            _hybrid(workload, rates, limits),
        ),
    )


__all__ = [
    "CLAUDE_PRICE",
    "CLAUDE_TPS",
    "CLAUDE_TTFT",
    "CONFIGURATIONS",
    "DEFAULT_PROMPT_TOKENS",
    "LOCAL_PRICE",
    "LOCAL_TPS",
    "LOCAL_TTFT",
    "SPLIT",
    "ConfigurationPlan",
    "MissingRate",
    "PlanLimits",
    "PlanRates",
    "PlanResult",
    "Side",
    "WorkItem",
    "Workload",
    "WorkloadError",
    "builtin_workloads",
    "claude_seconds",
    "parse_workloads",
    "plan",
    "rates_from_report",
    "read_workloads",
]
