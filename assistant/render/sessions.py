"""A stored chat as Markdown (`assistant sessions --export`)."""

from __future__ import annotations

import time

from assistant.core.store.saved_sessions import StoredSession
from assistant.render.format import stored_answer


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
        if item.exchange.answer is not None:
            label, badge, footer = stored_answer(item)
            lines += [f"## {label or 'Answer'}", ""]
            if badge:
                lines += [f"*{badge}*", ""]
            lines += [item.exchange.answer.content, ""]
            if footer:
                lines += [f"<sub>{footer}</sub>", ""]
    return "\n".join(lines).rstrip() + "\n"
