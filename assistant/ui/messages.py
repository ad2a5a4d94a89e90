"""Messages that workers post to the app. The UI reacts to these and nothing else."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:  # what they carry is made by the session, which the first frame does not wait for
    from assistant.core.backends.protocol import Backend
    from assistant.core.decisions import RouteDecision
    from assistant.core.events import FallbackStarted, Notice, Retrying, RouteDecided
    from assistant.core.results import TaskResult, TurnResult


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
    """New answer text is waiting in the stream's delta buffer (coalesced: one per drain)."""


@dataclass
class TurnFinished(Message):
    """A turn ended, or a task did (`task` set: `result` is its last model step, None
    when it took none)."""

    result: TurnResult | None
    task: TaskResult | None = None


@dataclass
class TurnNotice(Message):
    """Something the user should know while the turn runs: the route, a retry, a fallback."""

    event: Retrying | FallbackStarted | RouteDecided | Notice


@dataclass
class Note(Message):
    """A line for the transcript, from a worker (the app adds it; `error` is shown as one)."""

    text: str
    error: bool = False


@dataclass
class BackendsChecked(Message):
    """Which backends can answer: each (name, model, why not: "" when it can); and
    whether some, but not all, cannot; and where each kind of turn goes now (the
    welcome says it, with the models whose quality is not measured yet: a core
    `RoutePlan`; empty when nothing can answer)."""

    checked: list[tuple[str, str, str]]
    some_missing: bool
    plan: Sequence[tuple[str, RouteDecision]] = ()
