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
    from textual.widgets import Static

    return "\n".join(str(w.render()) for w in app.query("#transcript Static"))
