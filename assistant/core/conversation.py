"""The conversation's pieces: chat messages, and exchanges (a question and its answer)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Role = Literal["system", "user", "assistant"]


@dataclass(frozen=True, slots=True)
class Message:
    role: Role
    content: str


@dataclass(frozen=True, slots=True)
class Exchange:
    """One turn of the history: the user's message and its answer."""

    user: Message
    # None for a turn that failed but stays in the history.
    answer: Message | None = None
