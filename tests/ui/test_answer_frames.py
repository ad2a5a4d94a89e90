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
