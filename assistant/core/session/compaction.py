"""`/compact`: the turns the window dropped, summarised by the local model.

The summary becomes one pinned message, so what was said long ago still informs
the answers without its full text taking the window.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from assistant.core.backends.protocol import Backend, BackendUnavailable
from assistant.core.conversation import Exchange, Message
from assistant.core.events import BackendError, TextDelta

INSTRUCTIONS = (
    "Summarise the conversation below for your own later use. Keep every fact, decision, "
    "name, file, code identifier and open question; drop pleasantries. Write terse bullet points."
)
# Of the summarising model's window: the rest is left for the summary itself.
INPUT_SHARE = 0.7


class CompactionError(Exception):
    """The summary could not be made; one line."""


def transcript(exchanges: Sequence[Exchange]) -> str:
    lines = []
    for exchange in exchanges:
        lines.append(f"User: {exchange.user.content}")
        if exchange.answer is not None:
            lines.append(f"Assistant: {exchange.answer.content}")
    return "\n\n".join(lines)


def summarize_exchanges(backend: Backend, exchanges: Sequence[Exchange], cancel: threading.Event) -> str:
    """A summary of `exchanges` by `backend`; the oldest text is cut when it does
    not fit the backend's context."""
    try:
        backend.load()
    except BackendUnavailable as exc:
        raise CompactionError(f"cannot summarise: {exc}") from None
    text = transcript(exchanges)
    room = int((backend.capabilities.context_size - backend.capabilities.answer_tokens) * INPUT_SHARE)
    messages = [Message("system", INSTRUCTIONS), Message("user", text)]
    while backend.count_tokens(messages).tokens > room and len(text) > 200:
        text = text[len(text) // 4 :]  # drop the oldest quarter, keep the recent part
        messages[1] = Message("user", "…" + text)
    parts: list[str] = []
    for event in backend.stream(messages, cancel):
        if isinstance(event, TextDelta):
            parts.append(event.text)
        elif isinstance(event, BackendError):
            raise CompactionError(f"cannot summarise: {event.message}")
    summary = "".join(parts).strip()
    if not summary:
        raise CompactionError("cannot summarise: the model returned nothing")
    return summary
