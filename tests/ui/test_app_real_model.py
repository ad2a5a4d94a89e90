"""The app end to end on the real SmolLM2 model: load, stream, measure, cancel."""

from __future__ import annotations

import pytest

from assistant.ui.app import make_app
from assistant.ui.messages import LoadFinished, TurnFinished
from tests.conftest import small_config
from tests.ui.helpers import entries, send, status_text, streaming, wait_for

pytestmark = pytest.mark.model


async def test_real_model_answers_and_the_status_bar_shows_tokens_per_second() -> None:
    seen = []
    app = make_app(small_config())
    async with app.run_test(size=(120, 40), message_hook=seen.append) as pilot:
        await wait_for(pilot, lambda: any(isinstance(m, LoadFinished) for m in seen))
        [loaded] = [m for m in seen if isinstance(m, LoadFinished)]
        assert loaded.error is None
        await send(pilot, "Say hello.")
        await wait_for(pilot, lambda: any(isinstance(m, TurnFinished) for m in seen))
        await pilot.pause()
        [finished] = [m.result for m in seen if isinstance(m, TurnFinished)]
        assert finished.outcome == "ok"
        assert finished.text.strip()
        await wait_for(pilot, lambda: entries(app)[-1].footer != "")
        assert entries(app)[-1].text == finished.text
        s = finished.stats
        assert s.generation_tps and s.generation_tps > 0
        assert s.ttft and s.ttft > 0 and s.tokens_in and s.tokens_out > 0
        status = status_text(app)
        assert "SmolLM2 135M Instruct" in status and "local" in status
        assert f"{s.generation_tps:,.1f} tok/s" in status or f"{s.generation_tps:,.0f} tok/s" in status
        assert "ctx" in status and "$0.0000" in status


async def test_real_model_escape_cancels_within_a_token() -> None:
    seen = []
    app = make_app(small_config(max_tokens=400))
    async with app.run_test(size=(100, 30), message_hook=seen.append) as pilot:
        await wait_for(pilot, lambda: app.session.backend.loaded)
        await send(pilot, "Write a long story about a dragon.")
        await wait_for(pilot, lambda: streaming(app, 2))
        await pilot.press("escape")
        await wait_for(pilot, lambda: any(isinstance(m, TurnFinished) for m in seen))
        [result] = [m.result for m in seen if isinstance(m, TurnFinished)]
        assert result.outcome == "cancelled" and result.stop_reason == "cancelled"
        assert result.stats.tokens_out < 400
