"""The conversation handed to a backend: plain, ordered chat messages."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Role = Literal["system", "user", "assistant"]


@dataclass(frozen=True, slots=True)
class Message:
    role: Role
    content: str


@dataclass(slots=True)
class Conversation:
    """A system prompt plus alternating user/assistant messages."""

    system_prompt: str = ""
    messages: list[Message] = field(default_factory=list)

    def add(self, role: Role, content: str) -> Message:
        message = Message(role, content)
        self.messages.append(message)
        return message

    def clear(self) -> None:
        self.messages.clear()

    def for_backend(self) -> list[Message]:
        """The messages to send, system prompt first when there is one."""
        head = [Message("system", self.system_prompt)] if self.system_prompt else []
        return head + list(self.messages)
