"""Toasts (the model loaded, a warning) never cover the prompt or the status bar."""

from __future__ import annotations

from assistant.backends.scripted import ScriptedBackend
from assistant.core.config import Config
from assistant.ui.app import make_app
from assistant.ui.widgets.prompt import PromptInput
from assistant.ui.widgets.status import StatusBar
from tests.ui.helpers import wait_for


async def test_the_first_screens_toast_leaves_the_prompt_and_status_bar_clear() -> None:
    backend = ScriptedBackend()
    app = make_app(Config(), backend=backend)
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await wait_for(pilot, lambda: bool(app.screen.query("Toast")))  # "… loaded in …"
        app.notify("a second, longer warning\nover two lines", severity="warning")
        await pilot.pause()
        toasts = list(app.screen.query("Toast"))
        assert len(toasts) == 2
        prompt, status = app.query_one(PromptInput).region, app.query_one(StatusBar).region
        for toast in toasts:
            assert toast.region.area > 0
            assert not toast.region.overlaps(prompt), (toast.region, prompt)
            assert not toast.region.overlaps(status), (toast.region, status)
