"""The conversation's pieces: chat messages, and exchanges (a question and its answer)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from assistant.core.tool_calls import ToolCall

Role = Literal["system", "user", "assistant", "tool"]


@dataclass(frozen=True, slots=True)
class Message:
    role: Role
    content: str
    # An assistant message's tool calls, made after its text (`content`, maybe "").
    tool_calls: tuple[ToolCall, ...] = ()
    # A tool message (`role` "tool"): the call it answers, and whether the tool failed.
    tool_call_id: str = ""
    is_error: bool = False


@dataclass(frozen=True, slots=True)
class Exchange:
    """One turn of the history: the user's message and its answer."""

    user: Message
    # None for a turn that failed but stays in the history.
    answer: Message | None = None
