"""Routing: which backend answers a turn, and why.

A `Router` sees the turn, every backend's profile (whether it can answer, how
many tokens this turn's context takes in its own tokenizer, its measured speed
and its prices) and the budget, and returns a `RouteDecision`: the backend, the
reason in words, and the estimated cost and time of every candidate. A router
may also pass (return None) so that the next router in a chain decides.

Routers are plugins (see `assistant.core.routing.discovery`); the built-in ones
live in `assistant/routers/`. Everything here is pure data: no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from assistant.core.plugins import PluginError
from assistant.core.routing.words import KINDS, QUALITY, TurnKind

__all__ = ["KINDS", "QUALITY", "TurnKind"]  # their home is routing/words.py


@dataclass(frozen=True, slots=True)
class TurnRequest:
    """What is asked, as the router sees it."""

    text: str
    kind: TurnKind = "chat"
    # Paths of files in the turn's context (pinned, or named in the text), relative
    # to the project root when inside it.
    files: tuple[str, ...] = ()
    flags: frozenset[str] = frozenset()
    # A backend the user asked for (`@claude …`, `/model claude`): routers honour it.
    forced: str | None = None
    # How they asked, for the reason ("@claude", "/model claude", "/retry other").
    forced_by: str = ""


@dataclass(frozen=True, slots=True)
class Measured:
    """A backend's measured figures, from the ledger's recent turns and bench runs (None: no data)."""

    turns: int = 0  # how many turns the figures rest on
    bench_runs: int = 0  # and how many bench runs (`assistant bench`) besides them
    tokens_per_second: float | None = None  # median generation rate
    ttft: float | None = None  # median time to first token, seconds
    completion_tokens: float | None = None  # median answer length, tokens


@dataclass(frozen=True, slots=True)
class Quality:
    """A backend's measured answer quality on one kind of turn: its rated turns
    (good or bad, from what the user and the checks did; core/accounting/quality.py)
    under a Beta(1, 1) prior. `enough` is False below the minimum of rated turns."""

    good: int = 0
    bad: int = 0
    mean: float = 0.5  # the posterior mean
    lower: float = 0.0  # the lower credible bound
    upper: float = 1.0  # and the upper one
    enough: bool = False

    @property
    def rated(self) -> int:
        return self.good + self.bad


@dataclass(frozen=True, slots=True)
class KindHistory:
    """The recent routed turns of the turn's kind, and how many of them explored
    (went to a backend to measure it, not because it was the best choice)."""

    turns: int = 0
    explored: int = 0


@dataclass(frozen=True, slots=True)
class BackendProfile:
    name: str
    model: str
    available: bool
    unavailable_reason: str = ""
    local: bool = True
    # This turn's whole context (system, pinned, kept history, the turn) in this
    # backend's tokens, and whether that count is an estimate.
    context_tokens: int = 0
    context_estimated: bool = False
    window_tokens: int = 0  # the backend's context budget
    measured: Measured = field(default_factory=Measured)
    # Dollars per token; None when unknown (an unpriced model).
    input_price: float | None = None
    output_price: float | None = None
    # Local (or a server priced by the hour): the machine's cost, dollars per second of generation.
    machine_per_second: float = 0.0
    # Where a turn may go when it holds secret files: this machine, or a server of the user's.
    private: bool = False
    priced_by_time: bool = False  # costs machine_per_second × its time, not per token
    # Its measured quality on this turn's kind.
    quality: Quality = field(default_factory=Quality)


@dataclass(frozen=True, slots=True)
class BudgetState:
    session_spent: float = 0.0
    day_spent: float = 0.0
    session_cap: float | None = None  # None: no cap
    day_cap: float | None = None
    near: float = 0.9  # share of a cap from which turns go local


@dataclass(frozen=True, slots=True)
class Estimate:
    """A candidate's estimated cost and time for this turn; None where unknown."""

    backend: str
    cost: float | None
    seconds: float | None
    basis: str  # e.g. "measured over 12 turns", "no measured speed yet"
    quality: Quality = field(default_factory=Quality)  # on this turn's kind


@dataclass(frozen=True, slots=True)
class RouteDecision:
    backend: str
    reason: str  # one line, for the badge and the ledger
    decided_by: str = ""  # the router's name (set by the chain when empty)
    estimates: tuple[Estimate, ...] = ()
    # Who may take the turn if `backend` cannot start it, in order. Empty: any
    # available backend. A privacy decision lists only local ones.
    fallbacks: tuple[str, ...] = ()
    allow_any_fallback: bool = True
    # The turn went to `backend` to measure its quality, not as the best choice.
    explored: bool = False
    kind: str = ""  # the turn's kind (set by the session when empty)

    def estimate_for(self, backend: str) -> Estimate | None:
        return next((e for e in self.estimates if e.backend == backend), None)


@dataclass(frozen=True, slots=True)
class RouteContext:
    """Everything a router may look at besides the turn."""

    backends: Sequence[BackendProfile]
    budget: BudgetState = field(default_factory=BudgetState)
    history: KindHistory = field(default_factory=KindHistory)

    def profile(self, name: str) -> BackendProfile | None:
        return next((b for b in self.backends if b.name == name), None)

    @property
    def available(self) -> list[BackendProfile]:
        return [b for b in self.backends if b.available]


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
