"""A turn's messages and tools in the OpenAI chat-completions shape, and the text of
them that an offline count sees.

A task's history goes out as the API has it: an assistant message's calls under
`tool_calls` (its `content` null when it said nothing), each answered by a `tool`
message naming the call's id. The same shape goes to llama-server's
`/apply-template`, so the exact count is the prompt's; the tiktoken estimate counts
the same texts (the tools' JSON, each call's name and arguments, each result).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from assistant.core.conversation import Message
from assistant.core.tool_calls import ToolCall, ToolSpec


def wire_messages(messages: Sequence[Message]) -> list[dict[str, Any]]:
    return [_wire_message(m) for m in messages]


def _wire_message(m: Message) -> dict[str, Any]:
    if m.role == "tool":
        return {"role": "tool", "tool_call_id": m.tool_call_id, "content": m.content}
    if m.tool_calls:
        calls = [{"id": c.id, "type": "function", "function": {"name": c.name, "arguments": _arguments(c)}}
                 for c in m.tool_calls]  # fmt: skip
        return {"role": m.role, "content": m.content or None, "tool_calls": calls}
    return {"role": m.role, "content": m.content}


def _arguments(call: ToolCall) -> str:
    """A call's arguments as sent back: as the model wrote them when they are a JSON
    object (unchanged text keeps the server's prompt cache); otherwise "{}", as Claude's
    backend does, since llama-server parses them to render its template and refuses
    the whole request (500) over a call cut short by max_tokens."""
    try:
        value = call.parsed()
    except ValueError:
        return "{}"
    return call.arguments if isinstance(value, dict) else "{}"


def wire_tools(tools: Sequence[ToolSpec]) -> list[dict[str, Any]]:
    return [{"type": "function", "function": {"name": t.name, "description": t.description,
                                              "parameters": dict(t.parameters)}} for t in tools]  # fmt: skip


def message_text(m: Message) -> str:
    """What of a message the model reads as text: its content, and its calls' names
    and arguments (templates render them; the call ids mostly not)."""
    if not m.tool_calls:
        return m.content
    return "\n".join([m.content, *(f"{c.name} {_arguments(c)}" for c in m.tool_calls)])


def tools_text(tools: Sequence[ToolSpec]) -> str:
    """The tools as a template renders them into the prompt: their JSON."""
    return "\n".join(json.dumps(tool, ensure_ascii=False) for tool in wire_tools(tools))
