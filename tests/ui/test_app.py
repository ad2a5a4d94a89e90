"""The real app driven through Pilot, on the scripted backend (deterministic)."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.backends.llama.backend import LlamaCppBackend
from assistant.backends.llama.options import LlamaOptions
from assistant.backends.scripted import ScriptedBackend, split_tokens
from assistant.core.config import Config
from assistant.ui.app import make_app
from assistant.ui.messages import LoadFinished, TurnFinished
from assistant.ui.widgets.prompt import PromptInput
from tests.ui.helpers import entries, send, status_text, streaming, transcript_text, wait_for

ANSWER = "Here is a list:\n\n- one\n- two\n\n```python\nprint('hi')\n```\n"


async def test_answer_streams_into_the_transcript_and_status_shows_figures() -> None:
    seen = []
    backend = ScriptedBackend([ANSWER], delay=0.002)
    app = make_app(Config(), backend=backend)
    async with app.run_test(size=(120, 40), message_hook=seen.append) as pilot:
        await wait_for(pilot, lambda: backend.loaded)
        await send(pilot, "make a list")
        await wait_for(pilot, lambda: any(isinstance(m, TurnFinished) for m in seen))
        await pilot.pause()
        await wait_for(pilot, lambda: len(app.query_one("#transcript").children) == 1)  # settled
        assert [e.kind for e in entries(app)] == ["user", "answer"]
        assert entries(app)[0].text == "make a list"
        answer = entries(app)[1]
        assert answer.text == ANSWER and answer.label == "scripted · scripted-model"
        status = status_text(app)
        assert "scripted-model" in status
        [result] = [m.result for m in seen if isinstance(m, TurnFinished)]
        assert result.outcome == "ok" and result.stats.generation_tps > 0
        assert result.stats.tokens_out == len(split_tokens(ANSWER))
        assert "tok/s" in status and "gen –" not in status
        footer = answer.footer
        assert "tok/s" in footer and "TTFT" in footer and "$0.0000" in footer
        # the conversation sent to the backend: system prompt, then the question
        assert [m.role for m in backend.seen[0]] == ["system", "user"]


async def test_escape_cancels_the_answer() -> None:
    long_answer = " ".join(f"word{i}" for i in range(400))
    backend = ScriptedBackend([long_answer], delay=0.01)
    seen = []
    app = make_app(Config(), backend=backend)
    async with app.run_test(size=(100, 30), message_hook=seen.append) as pilot:
        await wait_for(pilot, lambda: backend.loaded)
        await send(pilot, "talk")
        await wait_for(pilot, lambda: streaming(app, 5))
        await pilot.press("escape")
        await wait_for(pilot, lambda: any(isinstance(m, TurnFinished) for m in seen))
        [result] = [m.result for m in seen if isinstance(m, TurnFinished)]
        assert result.outcome == "cancelled"
        assert result.stats.tokens_out < 400
        await pilot.pause()
        assert "Cancelled." in transcript_text(app)
        # the partial answer stays in the conversation, as the user saw it
        assert app.session.exchanges[-1].answer.role == "assistant"


async def test_bad_model_path_shows_an_error_and_the_app_stays_usable(tmp_path: Path) -> None:
    backend = LlamaCppBackend(LlamaOptions(), model_path=tmp_path / "missing.gguf")
    seen = []
    app = make_app(Config(), backend=backend)
    async with app.run_test(size=(100, 30), message_hook=seen.append) as pilot:
        await wait_for(pilot, lambda: any(isinstance(m, LoadFinished) for m in seen))
        await pilot.pause()
        assert "model file not found" in transcript_text(app)
        assert "unavailable" in status_text(app)
        assert any("model file not found" in n.message for n in app._notifications)
        await send(pilot, "/help")
        await pilot.pause()
        assert "/model" in transcript_text(app)
        await send(pilot, "still there?")
        await wait_for(pilot, lambda: any(isinstance(m, TurnFinished) for m in seen))
        await pilot.pause()
        assert "Error: model file not found" in transcript_text(app)
        assert app.is_running


async def test_the_load_bar_is_mounted_by_the_first_load_and_hidden_when_it_ends() -> None:
    """Not in the first frame (it would delay it): the first load's progress mounts it."""
    seen: list = []
    app = make_app(Config(), backend=ScriptedBackend(["ok"]), preload=False)
    async with app.run_test(message_hook=seen.append) as pilot:
        await pilot.pause()
        assert not app.query("#load-progress")
        app.load_backend()
        await wait_for(pilot, lambda: any(isinstance(m, LoadFinished) for m in seen))
        await pilot.pause()
        bars = app.query("#load-progress")
        assert len(bars) == 1 and not bars.first().display
        assert any(type(m).__name__ == "LoadProgressed" for m in seen)


async def test_config_error_is_a_notification_and_defaults_are_used() -> None:
    app = make_app(Config(), backend=ScriptedBackend(), config_error="cfg.toml: local.n_ctx: expected an integer")
    async with app.run_test() as pilot:
        await pilot.pause()
        messages = [n.message for n in app._notifications]
        assert any("local.n_ctx: expected an integer" in m and "using defaults" in m for m in messages)


async def test_slash_command_completion_and_history() -> None:
    app = make_app(Config(), backend=ScriptedBackend(["ok"]))
    async with app.run_test() as pilot:
        prompt = app.query_one(PromptInput)
        await pilot.press("/", "m")
        await pilot.pause()
        assert app.query_one("#hints").display
        await pilot.press("tab")
        assert prompt.text == "/model "
        await pilot.press("enter")
        await pilot.pause()
        assert "Backend: scripted" in transcript_text(app)
        await send(pilot, "/clear")
        await pilot.press("up")
        assert prompt.text == "/clear"
        await pilot.press("up")
        assert prompt.text == "/model"
        await pilot.press("down", "down")
        assert prompt.text == ""


async def test_newline_key_inserts_instead_of_sending() -> None:
    backend = ScriptedBackend(["ok"])
    app = make_app(Config(), backend=backend)
    async with app.run_test() as pilot:
        await pilot.press("a", "ctrl+j", "b")
        assert app.query_one(PromptInput).text == "a\nb"
        assert not backend.seen


async def test_unknown_command_and_model_switch_to_unknown_backend() -> None:
    app = make_app(Config(), backend=ScriptedBackend(["ok"]))
    async with app.run_test() as pilot:
        await send(pilot, "/frobnicate")
        await wait_for(pilot, lambda: "Unknown command /frobnicate" in transcript_text(app))
        await send(pilot, "/model nosuch")
        await wait_for(pilot, lambda: "Not switched: no backend named 'nosuch'" in transcript_text(app))
        assert app.session.backend.name == "scripted"


async def test_switching_to_a_bad_model_file_keeps_the_working_backend(tmp_path: Path) -> None:
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"not a model")
    backend = ScriptedBackend(["still here"])
    seen = []
    app = make_app(Config(), backend=backend)
    async with app.run_test(message_hook=seen.append) as pilot:
        await wait_for(pilot, lambda: backend.loaded)
        await send(pilot, f"/model {bad}")
        await wait_for(pilot, lambda: any(isinstance(m, LoadFinished) and m.candidate for m in seen))
        await pilot.pause()
        assert "Not switched: not a GGUF model file" in transcript_text(app)
        assert app.session.backend is backend
        await send(pilot, "hello")
        await wait_for(pilot, lambda: app.session.last is not None and not app.busy)
        assert app.session.last.text == "still here"


@pytest.mark.model
async def test_switching_to_a_good_model_file_replaces_the_backend(smollm_path: Path) -> None:
    backend = ScriptedBackend(["ok"])
    seen = []
    app = make_app(Config(), backend=backend)
    async with app.run_test(message_hook=seen.append) as pilot:
        await wait_for(pilot, lambda: backend.loaded)
        await send(pilot, f"/model {smollm_path}")
        await wait_for(pilot, lambda: app.session.backend is not backend)
        await pilot.pause()
        assert app.session.backend.name == "local" and app.session.backend.loaded
        assert "Switched to local · SmolLM2 135M Instruct" in transcript_text(app)
        # A backend of another name stays in the session's pool (/model scripted goes
        # back at once); a model file replacing "local" closes the old model.
        assert app.session.backend_named("scripted") is backend


async def test_quit_mid_stream_exits_cleanly() -> None:
    backend = ScriptedBackend([" ".join(["x"] * 5000)], delay=0.01)
    app = make_app(Config(), backend=backend)
    async with app.run_test() as pilot:
        await wait_for(pilot, lambda: backend.loaded)
        await send(pilot, "go")
        await wait_for(pilot, lambda: streaming(app, 3))
        await pilot.press("ctrl+q")
        await wait_for(pilot, lambda: app.return_code is not None)  # the answer stopped; the app leaves
    assert app.return_code == 0
    assert not app._turn_worker.is_running


async def test_an_unwritable_ledger_is_said_once_and_answers_go_on(assistant_home: Path) -> None:
    assistant_home.mkdir(parents=True)
    (assistant_home / "data").write_text("not a directory")  # the ledger cannot be created
    seen = []
    app = make_app(Config(), backend=ScriptedBackend(["One.", "Two."]))
    async with app.run_test(size=(100, 30), message_hook=seen.append) as pilot:
        await wait_for(pilot, lambda: app.session.backend.loaded)
        for question in ("a", "b"):
            await send(pilot, question)
            await wait_for(pilot, lambda: app.session.last is not None and not app.busy)
        await wait_for(pilot, lambda: len([m for m in seen if isinstance(m, TurnFinished)]) == 2)
        await pilot.pause()
        ledger_notes = [n for n in app._notifications if n.title == "Cost ledger"]
        assert len(ledger_notes) == 1 and "not being saved" in ledger_notes[0].message
        assert [e.text for e in entries(app) if e.kind == "answer"] == ["One.", "Two."]


async def test_with_no_key_and_no_model_the_app_starts_and_says_what_to_configure(tmp_path: Path) -> None:
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"GGUF\x03\x00\x00\x00" + b"\x00" * 10)
    config = Config().with_overrides({"backends.local.model_path": str(broken)})
    app = make_app(config)  # auto: Claude (no ANTHROPIC_API_KEY in tests) and this local model
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: "No backend can answer" in transcript_text(app))
        text = transcript_text(app)
        assert "claude: Claude is unavailable: no API key" in text and "broken.gguf" in text
        assert "Set ANTHROPIC_API_KEY" in text and "`assistant config --init` writes a config to edit" in text
        await send(pilot, "hello?")  # still usable: the turn says the same, nothing crashes
        await wait_for(pilot, lambda: transcript_text(app).count("No backend can answer") >= 2)
