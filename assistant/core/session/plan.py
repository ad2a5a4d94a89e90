"""What the router will do with each kind of chat turn, as the welcome says it.

Asked of the session's own router chain, never worked out beside it: a question
of each kind is routed as a turn would be (the configured chain, the backends
that can answer, what the ledger measured and rated), and nothing is sent."""

from __future__ import annotations

from assistant.core.decisions import RouteDecision, TurnRequest
from assistant.core.session.chat import ChatSession
from assistant.core.words import TurnKind

# The kinds a chat turn is read as (core/routing/kinds.py); `batch` is the batch refactor's.
CHAT_KINDS: tuple[TurnKind, ...] = ("chat", "explain", "code", "edit")


def route_plan(session: ChatSession) -> tuple[tuple[TurnKind, RouteDecision], ...]:
    """Each chat kind and the decision a short question of that kind gets now."""
    return tuple((kind, session.route(TurnRequest("", kind))[0]) for kind in CHAT_KINDS)
