"""The status bar says what the app is doing between Enter and the first token:
"routing" while the router decides (it counts the conversation's tokens, which
for Claude may be a request), never "ready"."""

from __future__ import annotations

import threading

from assistant.backends.scripted import ScriptedBackend
from assistant.core.config import Config
from assistant.ui.app import make_app
from assistant.ui.messages import TurnFinished
from tests.ui.helpers import send, status_text, wait_for


class SlowToCount(ScriptedBackend):
    """Counting the window's tokens (part of routing) waits until the test lets it go."""

    def __init__(self) -> None:
        super().__init__(["The answer."])
        self.counting = threading.Event()
        self.go = threading.Event()

    def count_tokens(self, messages):
        if any(m.role == "user" for m in messages):
            self.counting.set()
            self.go.wait(30)
        return super().count_tokens(messages)


async def test_the_status_says_routing_until_a_backend_is_chosen() -> None:
    backend, seen = SlowToCount(), []
    app = make_app(Config(), backend=backend)
    async with app.run_test(size=(130, 30), message_hook=seen.append) as pilot:
        await wait_for(pilot, lambda: backend.loaded)
        await send(pilot, "hello")
        await wait_for(pilot, backend.counting.is_set)
        await pilot.pause()
        assert "routing" in status_text(app) and "ready" not in status_text(app)
        backend.go.set()
        await wait_for(pilot, lambda: any(isinstance(m, TurnFinished) for m in seen))
        await pilot.pause()
        assert "ready" in status_text(app)
