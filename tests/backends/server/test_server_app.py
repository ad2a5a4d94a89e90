"""The TUI on a real llama-server: `/model gpu` switches to it, the answer streams
under its name with the engine's figures in the footer, and its cost is $0 at $0/hour."""

from __future__ import annotations

import pytest

from assistant.core.config import Config
from assistant.ui.app import make_app
from tests.backends.server.conftest import LlamaServer
from tests.ui.helpers import entries, send, status_text, transcript_text, wait_for

pytestmark = pytest.mark.model


async def test_model_gpu_switches_to_the_server_and_its_answer_shows_the_engine_s_figures(llama_server: LlamaServer) -> None:
    config = Config().with_overrides({"servers.gpu.base_url": llama_server.base_url, "servers.gpu.max_tokens": 12,
                                      "servers.gpu.temperature": 0.0})  # fmt: skip
    app = make_app(config)
    async with app.run_test(size=(140, 40)) as pilot:
        await send(pilot, "/model gpu")
        await wait_for(pilot, lambda: app.session.backend.name == "gpu" and app.session.backend.loaded)
        await send(pilot, "Name three prime numbers.")
        await wait_for(pilot, lambda: any(e.kind == "answer" and e.footer for e in entries(app)))
        [answer] = [e for e in entries(app) if e.kind == "answer"]
        assert answer.label == "gpu · SmolLM2-135M-Instruct.Q4_1.gguf" and answer.text
        assert "prompt " in answer.footer and "$0.0000" in answer.footer and "tok/s" in answer.footer  # the engine's prompt rate
        assert "Traceback" not in transcript_text(app)
        assert "gpu $0/h" in status_text(app)  # priced by the hour, not "no price for this model"
