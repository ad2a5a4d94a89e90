"""Messages that workers post to the app. The UI reacts to these and nothing else."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.message import Message

from assistant.core.backends.protocol import Backend
from assistant.core.events import FallbackStarted, Notice, Retrying, RouteDecided
from assistant.core.results import TurnResult

if TYPE_CHECKING:
    from assistant.core.store.saved_sessions import StoredSession
    from assistant.core.workflows.refactor import Checked, Proposal


@dataclass
class LoadProgressed(Message):
    """How far the model load has got (0.0-1.0)."""

    fraction: float


@dataclass
class LoadFinished(Message):
    model_name: str
    seconds: float | None
    error: str | None = None
    # Set when a /model switch loaded a new backend, which replaces the current one.
    candidate: Backend | None = None
    quiet: bool = False  # it was loaded already: nothing to announce


class AnswerDelta(Message):
    """New answer text is waiting in the app's delta buffer (coalesced: one per drain)."""


@dataclass
class TurnFinished(Message):
    result: TurnResult


@dataclass
class TurnNotice(Message):
    """Something the user should know while the turn runs: the route, a retry, a fallback."""

    event: Retrying | FallbackStarted | RouteDecided | Notice


@dataclass
class ProposalReady(Message):
    """A /refactor proposal came back (applicable, or with the reason it is not)."""

    proposal: Proposal


@dataclass
class ChecksRan(Message):
    """The user accepted a proposal (`chosen`: the hunks per file) and the checks
    left for after that yes ran: apply it, or ask again."""

    checked: Checked
    chosen: dict[str, frozenset[int]]


@dataclass
class SessionLoaded(Message):
    """A stored session was read for resuming (or why it could not be)."""

    stored: StoredSession | None
    error: str | None = None
