"""A streaming answer is painted at a frame rate, not per token (issue 11): on a
small machine every paint takes CPU from the model's threads."""

from __future__ import annotations

import time

from assistant.backends.scripted import ScriptedBackend
from assistant.core.config import Config
from assistant.ui.app import make_app
from assistant.ui.messages import TurnFinished
from assistant.ui.widgets.transcript import AssistantMessage
from tests.ui.helpers import send, transcript_text, wait_for


async def test_a_fast_stream_is_painted_a_few_times_a_second_and_ends_whole(monkeypatch) -> None:
    words = 300
    answer = " ".join(f"w{i}" for i in range(words))
    backend = ScriptedBackend([answer], delay=0.002)  # ~600 tokens (words and spaces) in ~1.2 s
    writes: list[float] = []
    real = AssistantMessage.write

    async def counting(self, fragment: str) -> None:
        if fragment:
            writes.append(time.perf_counter())
        await real(self, fragment)

    monkeypatch.setattr(AssistantMessage, "write", counting)
    seen: list = []
    app = make_app(Config(), backend=backend, ledger=False)
    async with app.run_test(size=(100, 30), message_hook=seen.append) as pilot:
        await wait_for(pilot, lambda: backend.loaded)
        started = time.perf_counter()
        await send(pilot, "go")
        await wait_for(pilot, lambda: any(isinstance(m, TurnFinished) for m in seen), timeout=30)
        took = time.perf_counter() - started
        await pilot.pause()
        assert f"w{words - 1}" in transcript_text(app)
    hz = Config().ui.answer_refresh_hz
    assert len(writes) <= took * hz + 3, f"{len(writes)} paints in {took:.2f} s"  # per token would be ~600
    assert len(writes) >= 2  # the first text at once, the rest by frames


async def test_while_an_answer_streams_the_status_bar_refreshes_on_its_frames_and_the_cursor_holds_still(
    monkeypatch,
) -> None:
    """Every screen update is CPU taken from the model: the status bar is refreshed
    on the answer's frames (not on a timer of its own), and the prompt's cursor
    does not blink (each blink is an update of its own); it blinks again after."""
    from assistant.ui.app import AssistantApp
    from assistant.ui.widgets.prompt import PromptInput

    answer = " ".join(f"w{i}" for i in range(200))
    backend = ScriptedBackend([answer], delay=0.005)  # ~400 tokens in ~2 s
    in_frame = [False]
    status_refreshes: list[bool] = []  # whether each came from a frame of the answer
    real_frame, real_status = AssistantApp._stream_frame, AssistantApp.refresh_status

    async def frame(self) -> None:
        in_frame[0] = True
        try:
            await real_frame(self)
        finally:
            in_frame[0] = False

    def status(self) -> None:
        if self.busy:
            status_refreshes.append(in_frame[0])
        real_status(self)

    monkeypatch.setattr(AssistantApp, "_stream_frame", frame)
    monkeypatch.setattr(AssistantApp, "refresh_status", status)
    seen: list = []
    blinking: list[bool] = []
    app = make_app(Config(), backend=backend, ledger=False)
    async with app.run_test(size=(100, 30), message_hook=seen.append) as pilot:
        await wait_for(pilot, lambda: backend.loaded)
        prompt = app.query_one(PromptInput)
        assert prompt.cursor_blink
        await send(pilot, "go")
        while not any(isinstance(m, TurnFinished) for m in seen):
            blinking.append(prompt.cursor_blink)
            await pilot.pause(0.05)
        await pilot.pause()
        assert prompt.cursor_blink
    assert blinking and not any(blinking[1:])
    framed = [f for f in status_refreshes if f]
    assert len(framed) >= 3  # it does refresh while streaming, ~5 times a second
    assert len(framed) >= 0.8 * len(status_refreshes), status_refreshes  # others: a route, a notice
