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

from collections.abc import Sequence
from typing import Any

from assistant.backends.claude.options import ClaudeOptions
from assistant.core.conversation import Message


class StreamTruncated(Exception):
    """The HTTP body ended cleanly, but the Messages stream had not finished (no message_stop)."""


def cache_marker(ttl: str) -> dict[str, str]:
    return {"type": "ephemeral"} if ttl == "5m" else {"type": "ephemeral", "ttl": ttl}


def build_request(settings: ClaudeOptions, messages: Sequence[Message], system_prompt: str = "") -> dict[str, Any]:
    """Keyword arguments for `client.messages.create`, without `stream`.

    Every system message (the system prompt, then pinned items) becomes a system
    block; `system_prompt` (the `backends.claude.system_prompt` setting) replaces the first.
    """
    system_texts: list[str] = []
    chat: list[dict[str, Any]] = []
    for m in messages:
        if m.role == "system":
            system_texts.append(m.content)
        else:
            chat.append({"role": m.role, "content": [{"type": "text", "text": m.content}]})
    if system_prompt:  # the `backends.claude.system_prompt` setting replaces the app's own
        system_texts[:1] = [system_prompt]
    request: dict[str, Any] = {
        "max_tokens": settings.max_tokens,
        "messages": chat,
        "model": settings.model,
    }
    marker = cache_marker(settings.cache_ttl)
    if settings.prompt_caching:
        request["cache_control"] = marker
    if system_texts:
        # The system prompt, then pinned items: one block each, the breakpoint on the
        # last, so they are cached together and read back whatever follows.
        blocks: list[dict[str, Any]] = [{"type": "text", "text": t} for t in system_texts]
        if settings.prompt_caching:
            blocks[-1]["cache_control"] = marker
        request["system"] = blocks
    if settings.temperature >= 0:
        # The SDK's `create()` has no `temperature` argument any more; the API still
        # takes the field (older models), so it goes into the body as is.
        request["extra_body"] = {"temperature": settings.temperature}
    return request


def count_tokens_request(request: dict[str, Any]) -> dict[str, Any]:
    """The same prompt for `messages.count_tokens` (which takes no output settings)."""
    keep = ("messages", "model", "system")  # never extra_body: count_tokens takes no sampling
    return {k: v for k, v in request.items() if k in keep}


def prompt_text(request: dict[str, Any]) -> list[str]:
    """Every text of the prompt, in order, for an offline token estimate."""
    texts = [block["text"] for block in request.get("system", [])]
    for message in request["messages"]:
        texts.extend(block["text"] for block in message["content"])
    return texts
