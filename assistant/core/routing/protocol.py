"""Routing: which backend answers a turn, and why.

A `Router` sees the turn, every backend's profile (whether it can answer, how
many tokens this turn's context takes in its own tokenizer, its measured speed
and its prices) and the budget, and returns a `RouteDecision`: the backend, the
reason in words, and the estimated cost and time of every candidate. A router
may also pass (return None) so that the next router in a chain decides.

Routers are plugins (see `assistant.core.routing.discovery`); the built-in ones
live in `assistant/routers/`. Everything here is pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from assistant.core.decisions import (
    BackendProfile, BudgetState, Estimate, KindHistory, Measured, Quality, RouteContext, RouteDecision, TurnRequest,
)
from assistant.core.plugins import PluginError
from assistant.core.words import KINDS, QUALITY, TurnKind

# What a router plugin imports from here: the protocol, and the values it is given and returns
# (their home is core/decisions.py and core/words.py, below every layer that uses them).
__all__ = [
    "Router", "RouterError", "estimate", "estimates", "KINDS", "QUALITY", "TurnKind",
    "BackendProfile", "BudgetState", "Estimate", "KindHistory", "Measured", "Quality", "RouteContext",
    "RouteDecision", "TurnRequest",
]  # fmt: skip


@runtime_checkable
class Router(Protocol):
    #: The registered name (`rules`, `budget`, ...).
    name: str

    def route(self, turn: TurnRequest, context: RouteContext) -> RouteDecision | None:
        """Decide, or return None to let the next router in the chain decide."""
        ...


class RouterError(PluginError):
    """A router plugin is missing, failed to load, or raised; one line."""


# -- estimates --------------------------------------------------------------------


def _median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def estimate(profile: BackendProfile, context: RouteContext) -> Estimate:
    """This turn's cost and time on `profile`, from measured figures only.

    The answer length is the backend's own measured median, else the median of
    the other backends' (the question decides the answer's length more than the
    model does), else unknown. Nothing is invented: what is not measured or not
    priced stays None, and `basis` says why.
    """
    m = profile.measured
    notes: list[str] = []
    out = m.completion_tokens
    if out is None:
        others = [
            b.measured.completion_tokens
            for b in context.backends
            if b.name != profile.name and b.measured.completion_tokens is not None
        ]
        if others:
            out = _median(others)
            notes.append("answer length from other backends")
    speed_known = m.tokens_per_second is not None and m.tokens_per_second > 0 and m.ttft is not None
    if speed_known:
        turns = f"{m.turns} turn{'' if m.turns == 1 else 's'}"
        runs = f"{m.bench_runs} bench run{'' if m.bench_runs == 1 else 's'}"
        over = f"{runs} + {turns}" if m.bench_runs and m.turns else runs if m.bench_runs else turns
        notes.insert(0, f"measured over {over}")
    else:
        notes.insert(0, "no measured speed yet")
    if out is None:
        notes.append("no measured answer length yet")

    seconds = None
    if speed_known and out is not None:
        seconds = m.ttft + out / m.tokens_per_second  # type: ignore[operator]

    cost: float | None
    if profile.local or profile.priced_by_time:
        if profile.machine_per_second == 0:
            cost = 0.0  # a machine that costs nothing costs nothing, however long it runs
        else:
            cost = None if seconds is None else profile.machine_per_second * seconds
    elif profile.input_price is None or profile.output_price is None:
        cost = None
        notes.append("no price for this model")
    elif out is None:
        cost = None
    else:
        cost = profile.input_price * profile.context_tokens + profile.output_price * out
        if profile.context_estimated:
            notes.append("context tokens estimated")
    return Estimate(profile.name, cost, seconds, "; ".join(notes), profile.quality)


def estimates(context: RouteContext) -> tuple[Estimate, ...]:
    """`estimate` for every backend in the context, in its order."""
    return tuple(estimate(b, context) for b in context.backends)
