"""What a session is doing, as one value: the status bar draws it, tests and
benchmarks wait on it, and nobody reads the session's collaborators for it."""

from __future__ import annotations

from dataclasses import dataclass

from assistant.core.results import TurnStats


@dataclass(frozen=True, slots=True)
class SessionStatus:
    """A snapshot, safe to take from any thread while a turn streams; raw figures
    (the UI formats them)."""

    mode: str  # "auto" (the router decides) or the name of the backend every turn goes to
    # The backend in charge: the one answering, else the fixed one or the one that
    # answered last; None before it is created (creating one is not the first frame's work).
    backend: str | None
    model: str = ""
    last_backend: str | None = None  # the name of the backend that answered last (None: none yet)
    local: bool = False  # its model runs on this machine
    answering: bool = False  # a turn's attempt is streaming now
    stats: TurnStats | None = None  # the turn in progress, else the last one
    turn_cost: float | None = None  # what `stats` cost so far (None: unknown)
    context_fill: float | None = None  # the prompt's tokens over the window's budget
    turns: int = 0  # attempts finished in this session
    session_cost: float = 0.0
    session_cost_known: bool = True  # False: some turn's cost is unknown, the total is a floor
    # Where the cost comes from: an hourly price (this machine's, or a server's), or
    # the date of the price table that has the model (None: it has no price).
    per_hour: float | None = None
    prices_of: str | None = None
    # Every stored chat of this session, oldest first (a /clear or a resume starts
    # another): what the session spent is what they spent.
    session_ids: tuple[str, ...] = ()
