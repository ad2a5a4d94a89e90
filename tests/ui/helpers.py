from __future__ import annotations

import time
from collections.abc import Callable


async def wait_for(pilot, predicate: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the app")
        await pilot.pause(0.02)


async def send(pilot, text: str) -> None:
    await pilot.press(*text)
    await pilot.press("enter")


def status_text(app) -> str:
    from assistant.ui.widgets.status import StatusBar

    return str(app.query_one(StatusBar).render())


def transcript_text(app) -> str:
    """Everything the transcript holds, as text (finished answers in full)."""
    from assistant.ui.widgets.rendered import FinishedAnswer, RenderedText
    from assistant.ui.widgets.transcript import AssistantMessage, Transcript

    parts = []
    for widget in app.query_one(Transcript).children:
        if isinstance(widget, FinishedAnswer):
            parts += [widget.label, widget.text, widget.note or "", widget.footer]
        elif isinstance(widget, RenderedText):
            parts.append(widget.text)
        elif isinstance(widget, AssistantMessage):
            parts += [widget.label, widget.text]
    return "\n".join(parts)
