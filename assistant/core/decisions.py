"""What a routing decision is made of and what it says: the turn as a router sees
it, each backend's profile (measured figures, prices, quality), the budget, and
the decision with its estimates.

Pure values, below everything that makes or stores them: the store keeps them
with a turn, the accounting reads them, events carry them. The router protocol
that uses them is `routing/protocol.py`, which also exports them to plugins.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from assistant.core.words import TurnKind


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
    # Of the counts above, what `assistant eval` scored (before its weight): tasks, and passed.
    evaluated: int = 0
    eval_passed: int = 0

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
    """What was spent so far, for routers that cap it (their caps are their own settings)."""

    session_spent: float = 0.0
    day_spent: float = 0.0


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
