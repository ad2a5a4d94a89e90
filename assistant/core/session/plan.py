"""What the router will do with each kind of chat turn, as the welcome says it, and
which models' quality nothing has measured yet, with what measuring it would take.

Asked of the session's own router chain, never worked out beside it: a question
of each kind is routed as a turn would be (the configured chain, the backends
that can answer, what the ledger measured and rated), and nothing is sent.

The plan travels to the welcome as one value (the TUI's `BackendsChecked` carries
it): a sequence of (kind, decision) pairs, with the unmeasured models beside them
(found by core/evals/unmeasured.py, which reads the evaluations this layer may not)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, overload

from assistant.core.decisions import RouteDecision, TurnRequest
from assistant.core.words import TurnKind

if TYPE_CHECKING:  # the welcome reads these values before any session exists
    from assistant.core.session.chat import ChatSession

# The kinds a chat turn is read as (core/routing/kinds.py); `batch` is the batch refactor's.
CHAT_KINDS: tuple[TurnKind, ...] = ("chat", "explain", "code", "edit")

# Where an answer's length came from: earlier evaluations' answers, or HumanEval's own solutions ("" when not needed).
Basis = Literal["measured", "from its speed", ""]


@dataclass(frozen=True, slots=True)
class Unmeasured:
    """A backend whose model has no evaluation and no rated answer on code or edit, and
    how long `assistant eval --backend NAME --limit TASKS` would take to measure it:
    its measured speed × an answer's length (`seconds` None: not known yet)."""

    backend: str
    model: str
    tasks: int
    seconds: float | None = None
    tokens_per_second: float | None = None  # None: nothing measured its speed yet
    answer_tokens: float | None = None
    basis: Basis = ""


@dataclass(frozen=True, slots=True)
class RoutePlan(Sequence[tuple[TurnKind, RouteDecision]]):
    """Each chat kind and the decision it gets now, in order (the plan reads as their
    sequence), and the models whose quality is not measured yet."""

    kinds: tuple[tuple[TurnKind, RouteDecision], ...] = ()
    unmeasured: tuple[Unmeasured, ...] = ()

    @overload
    def __getitem__(self, index: int) -> tuple[TurnKind, RouteDecision]: ...
    @overload
    def __getitem__(self, index: slice) -> tuple[tuple[TurnKind, RouteDecision], ...]: ...
    def __getitem__(self, index: int | slice) -> object:
        return self.kinds[index]

    def __len__(self) -> int:
        return len(self.kinds)


def route_plan(session: ChatSession) -> RoutePlan:
    """Each chat kind and the decision a short question of that kind gets now."""
    return RoutePlan(tuple((kind, session.route(TurnRequest("", kind))[0]) for kind in CHAT_KINDS))
