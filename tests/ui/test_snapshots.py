"""Screenshots of the main screen, compared with `pytest-textual-snapshot`.

Update after an intended change with: pytest tests/ui/test_snapshots.py --snapshot-update
"""

from __future__ import annotations

import threading

from assistant.backends.scripted import ScriptedBackend
from assistant.core.config import Config
from assistant.ui.app import make_app
from tests.ui.helpers import send, wait_for

ANSWER = (
    "Use a **list comprehension**:\n\n"
    "```python\nsquares = [n * n for n in range(10)]\n```\n\n"
    "- it is shorter\n- it is faster than `append` in a loop\n"
)


class WorkerClock:
    """Time moves 50 ms per reading in the worker thread only, so the figures
    a finished turn shows are the same on every run."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.main = threading.main_thread()

    def __call__(self) -> float:
        if threading.current_thread() is not self.main:
            self.now += 0.05
        return self.now


def test_main_screen_empty(snap_compare) -> None:
    """An empty transcript shows the welcome (what the app is, the backend that is
    ready, who answers each turn and why, the first commands), the prompt focused, and the status bar naming the
    scripted backend and model as ready, with no figures yet."""
    from assistant.ui.widgets.transcript import Transcript

    app = make_app(Config(), backend=ScriptedBackend(), clock=WorkerClock())

    def welcomed() -> bool:
        welcome = app.query_one(Transcript).welcome
        return welcome is not None and "ready" in str(welcome.render())

    async def settle(pilot) -> None:
        await wait_for(pilot, lambda: app.state == "ready" and welcomed())
        app.clear_notifications()
        await pilot.pause()

    assert snap_compare(app, terminal_size=(100, 24), run_before=settle)


def test_main_screen_after_an_answer(snap_compare) -> None:
    """A question, the Markdown answer with a highlighted code block and a list,
    the answer's footer (tok/s, TTFT, tokens, $0.0000) and the same figures
    in the status bar."""
    seen: list = []
    app = make_app(Config(), backend=ScriptedBackend([ANSWER]), clock=WorkerClock())

    async def chat(pilot) -> None:
        await wait_for(pilot, lambda: app.state == "ready")
        app.clear_notifications()
        await send(pilot, "How do I square numbers?")
        await wait_for(pilot, lambda: app.session.last is not None and not app.busy)
        await pilot.pause(0.1)
        seen.append(app.session.last)

    assert snap_compare(app, terminal_size=(100, 30), run_before=chat)
    assert seen and seen[0].outcome == "ok"

