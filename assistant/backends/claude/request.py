"""The Messages API request for a conversation, built so the prompt cache hits.

Order is fixed (system prompt, then the messages oldest first) and nothing in
it changes from one turn to the next except what the new turn appends, so the
request of turn k is, byte for byte, a prefix of turn k+1's up to the end of
turn k's last message. Caching then needs two markers:

- an explicit `cache_control` breakpoint on the system prompt and pinned items
  (one block each, the breakpoint on the last), which stay the same across turns;
- the request's top-level `cache_control`, which the API applies to the last
  cacheable block: each turn writes the whole conversation to the cache and
  the next turn reads it back (the API looks back up to 20 blocks from a
  breakpoint for the longest cached prefix, and a turn adds two).

Markers are never moved inside the messages, so no byte of an earlier message
changes between turns.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from assistant.backends.claude.options import ClaudeOptions
from assistant.core.conversation import Message
from assistant.core.tool_calls import ToolCall, ToolSpec


class StreamTruncated(Exception):
    """The HTTP body ended cleanly, but the Messages stream had not finished (no message_stop)."""


def cache_marker(ttl: str) -> dict[str, str]:
    return {"type": "ephemeral"} if ttl == "5m" else {"type": "ephemeral", "ttl": ttl}


def build_request(
    settings: ClaudeOptions, messages: Sequence[Message], system_prompt: str = "", tools: Sequence[ToolSpec] = ()
) -> dict[str, Any]:
    """Keyword arguments for `client.messages.create`, without `stream`.

    Every system message (the system prompt, then pinned items) becomes a system
    block; `system_prompt` (the `backends.claude.system_prompt` setting) replaces the first.
    A task's messages become the API's blocks: an assistant message's tool calls
    `tool_use` blocks after its text, and the `tool` messages that answer them one
    user message of `tool_result` blocks. `tools` come first in the prompt (the
    cache's prefix order), in the order given, so a task's steps share their prefix.
    """
    system_texts: list[str] = []
    chat: list[dict[str, Any]] = []
    for m in messages:
        if m.role == "system":
            system_texts.append(m.content)
        elif m.role == "tool":
            result = {"type": "tool_result", "tool_use_id": m.tool_call_id, "content": m.content or "(no output)"}
            if m.is_error:
                result["is_error"] = True
            if chat and chat[-1]["role"] == "user" and chat[-1]["content"][-1]["type"] == "tool_result":
                chat[-1]["content"].append(result)  # the answers to one step's calls go together
            else:
                chat.append({"role": "user", "content": [result]})
        else:
            blocks: list[dict[str, Any]] = [{"type": "text", "text": m.content}] if m.content or not m.tool_calls else []
            blocks += [{"type": "tool_use", "id": c.id, "name": c.name, "input": _input(c)} for c in m.tool_calls]
            chat.append({"role": m.role, "content": blocks})
    if system_prompt:  # the `backends.claude.system_prompt` setting replaces the app's own
        system_texts[:1] = [system_prompt]
    request: dict[str, Any] = {
        "max_tokens": settings.max_tokens,
        "messages": chat,
        "model": settings.model,
    }
    if tools:
        request["tools"] = [{"name": t.name, "description": t.description, "input_schema": dict(t.parameters)}
                            for t in tools]  # fmt: skip
    marker = cache_marker(settings.cache_ttl)
    if settings.prompt_caching:
        request["cache_control"] = marker
    if system_texts:
        # The system prompt, then pinned items: one block each, the breakpoint on the
        # last, so they are cached together and read back whatever follows.
        blocks = [{"type": "text", "text": t} for t in system_texts]
        if settings.prompt_caching:
            blocks[-1]["cache_control"] = marker
        request["system"] = blocks
    if settings.temperature >= 0:
        # The SDK's `create()` has no `temperature` argument any more; the API still
        # takes the field (older models), so it goes into the body as is.
        request["extra_body"] = {"temperature": settings.temperature}
    return request


def _input(call: ToolCall) -> dict[str, Any]:
    """A call's arguments as the `input` object the API wants back: a call whose text
    was not a JSON object (cut short by max_tokens) goes back as what could be read."""
    try:
        value = call.parsed()
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def count_tokens_request(request: dict[str, Any]) -> dict[str, Any]:
    """The same prompt for `messages.count_tokens` (which takes no output settings)."""
    keep = ("messages", "model", "system", "tools")  # never extra_body: count_tokens takes no sampling
    return {k: v for k, v in request.items() if k in keep}


def prompt_text(request: dict[str, Any]) -> list[str]:
    """Every text of the prompt, in order, for an offline token estimate."""
    texts = [json.dumps(tool, ensure_ascii=False) for tool in request.get("tools", [])]
    texts += [block["text"] for block in request.get("system", [])]
    for message in request["messages"]:
        for block in message["content"]:
            kind = block["type"]
            if kind == "text":
                texts.append(block["text"])
            elif kind == "tool_use":
                texts.append(f"{block['name']} {json.dumps(block['input'], ensure_ascii=False)}")
            elif kind == "tool_result":
                texts.append(block["content"])
    return texts
