"""Cost and speed over ledger turns, grouped for `assistant cost` and the exit summary.

Pure functions, no I/O: every figure people see about past turns is computed
here, once, and only formatted elsewhere. A figure that no turn measured is
`None` ("not enough data"), never an invented 0; an unknown cost makes the sum
a floor (`cost_known` False), never a smaller total passed off as exact.
"""

from __future__ import annotations

import math
import re
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, get_args

from assistant.core.results import OUTCOMES
from assistant.core.store.ledger import TurnRecord

GroupBy = Literal["backend", "model", "day"]
GROUP_BY: tuple[str, ...] = get_args(GroupBy)
TOTAL_KEY = "total"
UNNAMED = "(unknown)"  # the group of turns whose backend or model is empty


@dataclass(frozen=True, slots=True)
class CostLine:
    """The figures of one group of turns (or of all of them: key "total")."""

    key: str  # backend, model, "YYYY-MM-DD" (local time) or "total"
    turns: int
    tokens_in: int  # prompt tokens, cache reads and writes included; unknown counts as 0
    tokens_out: int
    cache_read_tokens: int
    cache_write_tokens: int
    # cache_read_tokens / tokens_in over all the line's turns: the share of prompt
    # tokens served from a prompt cache. Local turns count in the denominator
    # (their KV-cache reuse is not a prompt-cache read). None when tokens_in is 0.
    cache_hit_rate: float | None
    cost: float  # sum of the known costs
    cost_known: bool  # False when some turn's cost is unknown: `cost` is then a floor
    counterfactual_cost: float  # sum of the known costs on the reference Claude model
    counterfactual_known: bool
    savings: float | None  # counterfactual_cost - cost; None unless both are known
    tps_median: float | None  # over the turns that measured it
    ttft_median: float | None
    ttft_p95: float | None  # nearest rank, see `nearest_rank`
    share_turns: float  # this line's turns / all turns; 0.0 when there are none
    share_tokens: float  # this line's (in + out) / all (in + out); 0.0 when there are none
    outcomes: tuple[tuple[str, int], ...]  # (outcome, turns) for every outcome, in OUTCOMES order


@dataclass(frozen=True, slots=True)
class CostSummary:
    lines: tuple[CostLine, ...]  # one per group, sorted by key; `(total,)` when not grouped; () without turns
    total: CostLine
    first_at: float | None  # start of the first turn
    last_at: float | None  # end of the last turn (start + elapsed)
    session_ids: tuple[str, ...]  # in order of first appearance
    by: GroupBy | None = None


def nearest_rank(values: Sequence[float], percent: int) -> float | None:
    """The nearest-rank percentile: the smallest value with at least `percent`%
    of the values at or below it, i.e. the ceil(percent/100 · n)-th smallest.
    Always a value that was measured; None without values."""
    if not values:
        return None
    rank = max(-(-percent * len(values) // 100), 1)  # integer ceil: no float rounding
    return sorted(values)[rank - 1]


def _median(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


def _day(record: TurnRecord) -> str:
    return time.strftime("%Y-%m-%d", time.localtime(record.started_at))


_KEYS: dict[str, Callable[[TurnRecord], str]] = {
    "backend": lambda r: r.backend or UNNAMED,
    "model": lambda r: r.model or UNNAMED,
    "day": _day,
}


def _line(key: str, records: Sequence[TurnRecord], all_turns: int, all_tokens: int) -> CostLine:
    tokens_in = sum(r.prompt_tokens or 0 for r in records)
    tokens_out = sum(r.completion_tokens for r in records)
    cache_read = sum(r.cache_read_tokens for r in records)
    costs = [r.cost for r in records]
    counterfactuals = [r.counterfactual_cost for r in records]
    cost_known = None not in costs
    counterfactual_known = None not in counterfactuals
    # fsum: correctly rounded, so a sum does not depend on the order of the turns.
    cost = math.fsum(c for c in costs if c is not None)
    counterfactual = math.fsum(c for c in counterfactuals if c is not None)
    ttfts = [r.ttft for r in records if r.ttft is not None]
    return CostLine(
        key=key,
        turns=len(records),
        tokens_in=tokens_in,
        tokens_out=tokens_out,
        cache_read_tokens=cache_read,
        cache_write_tokens=sum(r.cache_write_tokens for r in records),
        cache_hit_rate=cache_read / tokens_in if tokens_in else None,
        cost=cost,
        cost_known=cost_known,
        counterfactual_cost=counterfactual,
        counterfactual_known=counterfactual_known,
        savings=counterfactual - cost if cost_known and counterfactual_known else None,
        tps_median=_median([r.tokens_per_second for r in records if r.tokens_per_second is not None]),
        ttft_median=_median(ttfts),
        ttft_p95=nearest_rank(ttfts, 95),
        share_turns=len(records) / all_turns if all_turns else 0.0,
        share_tokens=(tokens_in + tokens_out) / all_tokens if all_tokens else 0.0,
        outcomes=tuple((o, sum(r.outcome == o for r in records)) for o in OUTCOMES),
    )


def summarize(records: Sequence[TurnRecord], by: GroupBy | None = None) -> CostSummary:
    """Figures per `by` group (sorted by key: days come out in order) and in total."""
    if by is not None and by not in _KEYS:
        raise ValueError(f"cannot group by {by!r}: choose one of {', '.join(GROUP_BY)}")
    all_tokens = sum((r.prompt_tokens or 0) + r.completion_tokens for r in records)
    total = _line(TOTAL_KEY, records, len(records), all_tokens)
    if not records:
        lines: tuple[CostLine, ...] = ()
    elif by is None:
        lines = (total,)
    else:
        groups: dict[str, list[TurnRecord]] = {}
        for record in records:
            groups.setdefault(_KEYS[by](record), []).append(record)
        lines = tuple(_line(k, groups[k], len(records), all_tokens) for k in sorted(groups))
    return CostSummary(
        lines=lines,
        total=total,
        first_at=min((r.started_at for r in records), default=None),
        last_at=max((r.started_at + r.elapsed for r in records), default=None),
        session_ids=tuple(dict.fromkeys(r.session_id for r in records)),
        by=by,
    )


_UNIT_SECONDS = {"m": 60, "h": 3600, "d": 86_400, "w": 7 * 86_400}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([mhdw])")


def parse_since(text: str, now: float) -> float:
    """Unix time from "30m", "12h", "7d", "2w" (before `now`; m is minutes) or
    an ISO date or date-time ("2026-11-01": local midnight)."""
    cleaned = text.strip()
    match = _DURATION.fullmatch(cleaned.lower())
    if match:
        return now - float(match[1]) * _UNIT_SECONDS[match[2]]
    try:
        return datetime.fromisoformat(cleaned).timestamp()  # naive: local time
    except ValueError:
        raise ValueError(
            f"cannot read {text!r} as a time: use a duration (30m, 12h, 7d, 2w) or a date (2026-11-01)"
        ) from None


__all__ = [
    "GROUP_BY",
    "CostLine",
    "CostSummary",
    "GroupBy",
    "nearest_rank",
    "parse_since",
    "summarize",
]
