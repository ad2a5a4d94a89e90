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
    """Put `text` in the prompt and press Enter (typing each key through Pilot costs
    ~75 ms a key; tests of typing itself press the keys)."""
    from assistant.ui.widgets.prompt import PromptInput

    prompt = pilot.app.query_one(PromptInput)
    prompt.text = text
    prompt.move_cursor(prompt.document.end)
    await pilot.press("enter")


def status_text(app) -> str:
    from assistant.ui.widgets.status import StatusBar

    return str(app.query_one(StatusBar).text())


def entries(app):
    """The transcript as entries: the history, then what is still live."""
    from assistant.ui.widgets.rendered import Entry
    from assistant.ui.widgets.transcript import AssistantMessage, LiveEntry, Transcript

    transcript = app.query_one(Transcript)
    found = list(transcript.history.entries)
    for widget in transcript.live():
        if isinstance(widget, LiveEntry):
            found.append(widget.entry)
        elif isinstance(widget, AssistantMessage):
            found.append(widget.result[0] if widget.result else Entry("answer", widget.text, widget.label))
    return found


def transcript_text(app) -> str:
    """Everything the transcript holds, as text."""
    parts = []
    for e in entries(app):
        parts += [e.label, e.text, e.note or "", e.footer]
    return "\n".join(p for p in parts if p)
