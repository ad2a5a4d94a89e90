"""The real app on Claude (the real SDK against the loopback fake API), through Pilot."""

from __future__ import annotations

from dataclasses import replace

from assistant.backends.scripted import ScriptedBackend
from assistant.core.config import Config
from assistant.core.events import Retrying
from assistant.ui.app import make_app
from assistant.ui.messages import TurnFinished, TurnNotice
from tests.backends.claude.conftest import claude_config
from tests.fake_anthropic import OVERLOADED, RATE_LIMITED, Answer, Drop, FakeAnthropic
from tests.ui.helpers import entries, send, status_text, transcript_text, wait_for


def claude_app_config(fake: FakeAnthropic, **claude) -> Config:
    config = claude_config(fake.base_url, **claude)
    return replace(config, general=replace(config.general, backend="claude"))


def finished(seen: list) -> list:
    return [m.result for m in seen if isinstance(m, TurnFinished)]


async def ask(pilot, seen: list, *questions: str) -> None:
    """Wait for the backend, then send each question and wait for its answer."""
    app = pilot.app
    await wait_for(pilot, lambda: app.session.backend.loaded or "unavailable" in status_text(app))
    for question in questions:
        done = len(finished(seen)) + 1
        await send(pilot, question)
        await wait_for(pilot, lambda: len(finished(seen)) >= done)
    await pilot.pause()


async def test_a_claude_turn_shows_the_apis_figures_and_cost(fake: FakeAnthropic) -> None:
    fake.enqueue(Answer("Hello from the fake Claude."), Answer("A second answer."))
    seen: list = []
    app = make_app(claude_app_config(fake))
    async with app.run_test(size=(130, 40), message_hook=seen.append) as pilot:
        await ask(pilot, seen, "hi", "again")
        first, second = finished(seen)
        assert first.backend == "claude" and first.cost is not None and first.cost > 0
        answers = [e for e in entries(app) if e.kind == "answer"]
        assert answers[0].label == "claude · claude-sonnet-5-5"
        # the second turn read the first one's prompt from the cache, and says so
        assert second.usage.cache_read_tokens == first.usage.prompt_tokens
        assert f"cache {second.usage.cache_read_tokens:,} read" in answers[1].footer
        status = status_text(app)
        assert "claude" in status and "≈" not in status  # the API's figures, not estimates
        assert f"in {second.usage.prompt_tokens:,}" in status


async def test_retries_are_announced_and_the_answer_follows(fake: FakeAnthropic) -> None:
    fake.enqueue(RATE_LIMITED(0.2), Answer("Finally."))
    seen: list = []
    app = make_app(claude_app_config(fake))
    async with app.run_test(size=(120, 40), message_hook=seen.append) as pilot:
        await ask(pilot, seen, "hi")
        notices = [m.event for m in seen if isinstance(m, TurnNotice) and isinstance(m.event, Retrying)]
        assert len(notices) == 1 and notices[0].wait_seconds == 0.2
        assert finished(seen)[0].text == "Finally."


async def test_an_interrupted_answer_is_kept_and_explained(fake: FakeAnthropic) -> None:
    fake.enqueue(Drop(after_tokens=6, text="Part one of a long answer that breaks"))
    seen: list = []
    app = make_app(claude_app_config(fake))
    async with app.run_test(size=(120, 40), message_hook=seen.append) as pilot:
        await ask(pilot, seen, "hi")
        (answer,) = [e for e in entries(app) if e.kind == "answer"]
        assert answer.text == "Part one of "  # six fake tokens: words and spaces
        assert "Interrupted after 6 tokens" in answer.note and "partial answer is kept" in answer.note
        assert "Traceback" not in transcript_text(app)


async def test_claude_overloaded_falls_back_to_local_and_the_transcript_says_so(fake: FakeAnthropic) -> None:
    fake.enqueue(OVERLOADED, OVERLOADED)
    seen: list = []
    local = ScriptedBackend(["Local answer."])
    app = make_app(claude_app_config(fake, max_retries=1), fallback=lambda: local)
    async with app.run_test(size=(120, 40), message_hook=seen.append) as pilot:
        await ask(pilot, seen, "hi")
        (answer,) = [e for e in entries(app) if e.kind == "answer"]
        assert answer.text == "Local answer."
        assert answer.label == "scripted · scripted-model (fallback from claude)"
        assert "claude could not answer" in answer.note and "overloaded" in answer.note


async def test_without_a_key_claude_is_unavailable_with_the_reason(fake: FakeAnthropic) -> None:
    seen: list = []
    app = make_app(claude_app_config(fake, api_key="").with_overrides({"router.fallback": []}))
    async with app.run_test(size=(120, 40), message_hook=seen.append) as pilot:
        await wait_for(pilot, lambda: "unavailable" in status_text(app))
        assert "ANTHROPIC_API_KEY" in transcript_text(app)
        await ask(pilot, seen, "hi")
        assert finished(seen)[0].error.kind == "unavailable"
        assert fake.message_requests() == []


async def test_cost_screen_shows_the_sessions_ledger(fake: FakeAnthropic) -> None:
    fake.enqueue(Answer("One."), Answer("Two."))
    seen: list = []
    app = make_app(claude_app_config(fake))
    async with app.run_test(size=(150, 40), message_hook=seen.append) as pilot:
        await ask(pilot, seen, "a", "b")
        await send(pilot, "/cost")
        from assistant.ui.screens.cost import CostScreen

        await wait_for(pilot, lambda: isinstance(app.screen, CostScreen))
        await wait_for(pilot, lambda: app.screen.body is not None)
        text = _plain(app.screen.body)
        assert "claude" in text and "claude-sonnet-5-5" in text
        total = sum(r.cost for r in finished(seen))
        assert f"${total:.4f}" in text
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, CostScreen))


def _plain(renderable) -> str:
    import io

    from rich.console import Console

    console = Console(width=150, record=True, file=io.StringIO())
    console.print(renderable)
    return console.export_text()
