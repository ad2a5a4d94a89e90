"""A stored chat as it is shown again: each answer with its heading, badge, figures
and note (the resumed TUI's transcript), and the whole chat as Markdown
(`assistant export`). Every answer the transcript showed is there, those the
conversation no longer holds marked as such."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from assistant.render.format import stored_answer, turn_note

if TYPE_CHECKING:  # the TUI draws a resumed chat with these, and opens no database to start
    from assistant.core.store.saved_sessions import StoredExchange, StoredSession

LEFT_OUT = "Left out of the conversation (replaced by another answer, or summarised)."


@dataclass(frozen=True, slots=True)
class ShownAnswer:
    """A stored answer as the transcript draws it."""

    text: str  # "" for a turn cancelled or failed before any text
    label: str
    badge: str
    footer: str
    note: str | None  # what did not simply end (cancelled, an error, a fallback); whether it is left out


def shown_answer(item: StoredExchange) -> ShownAnswer | None:
    """`item`'s answer as shown; None for a question that has none to show (stored
    without an answer or its figures)."""
    answer = item.exchange.answer
    if answer is None and item.result is None:
        return None
    label, badge, footer = stored_answer(item)
    notes = [note] if item.result is not None and (note := turn_note(item.result)) else []
    if not item.in_conversation and answer is not None:
        notes.append(LEFT_OUT)
    return ShownAnswer(answer.content if answer is not None else "", label, badge, footer, "\n".join(notes) or None)


def markdown(session: StoredSession) -> str:
    lines = [f"# {session.title or 'Session ' + session.id}", ""]
    lines.append(f"Session `{session.id}` · started {time.strftime('%Y-%m-%d %H:%M', time.localtime(session.started_at))}"
                 f" · {session.cwd}")
    lines.append("")
    for m in session.pinned:
        first = m.content.splitlines()[0] if m.content else ""
        lines += [f"> pinned: {first}", ""]
    for item in session.exchanges:
        lines += ["## You", "", item.exchange.user.content, ""]
        if (shown := shown_answer(item)) is None:
            continue
        lines += [f"## {shown.label or 'Answer'}", ""]
        if shown.badge:
            lines += [f"*{shown.badge}*", ""]
        if shown.text:
            lines += [shown.text, ""]
        if shown.footer:
            lines += [f"<sub>{shown.footer}</sub>", ""]
        if shown.note:
            lines += [*(f"> {line}" for line in shown.note.splitlines()), ""]
    return "\n".join(lines).rstrip() + "\n"
