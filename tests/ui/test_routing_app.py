"""The routed app through Pilot: the badge, /model auto, @prefixes, /context,
/retry other and /compact, on two scripted backends (one playing Claude)."""

from __future__ import annotations

from dataclasses import replace

from assistant.backends.scripted import ScriptedBackend
from assistant.core.config import Config
from assistant.ui.app import make_app
from assistant.ui.messages import TurnFinished
from tests.ui.helpers import entries, send, status_text, transcript_text, wait_for


def two_backends(local_answers=("Local answer.",), local_window: int | None = None):
    claude = ScriptedBackend(["Claude's answer."], name="claude", local=False,
                             model_name="claude-sonnet-5-5", context_size=200_000, window_tokens=8000)
    local = ScriptedBackend(list(local_answers), name="local", window_tokens=local_window)
    return {"claude": claude, "local": local}


def auto_config() -> Config:
    config = Config()
    return replace(config, general=replace(config.general, backend="auto"))


async def turns(pilot, seen, *lines: str) -> None:
    for line in lines:
        done = len([m for m in seen if isinstance(m, TurnFinished)]) + 1
        await send(pilot, line)
        await wait_for(pilot, lambda: len([m for m in seen if isinstance(m, TurnFinished)]) >= done)
    await pilot.pause()


async def test_each_answer_carries_its_route_badge() -> None:
    seen: list = []
    app = make_app(auto_config(), backends=two_backends())
    async with app.run_test(size=(130, 40), message_hook=seen.append) as pilot:
        await wait_for(pilot, lambda: app.session.backend_named("local").loaded)
        await turns(pilot, seen, "hello", "@claude and you?")
        first, second = [e for e in entries(app) if e.kind == "answer"]
        assert first.label == "local · scripted-model" and first.badge.startswith("chat · rules: ")
        assert "local costs $0" in first.badge and "est. $0.0000" in first.badge
        assert second.label == "claude · claude-sonnet-5-5" and "@claude → claude" in second.badge
        assert "took" in second.footer
        assert "auto → claude" in status_text(app)


async def test_model_fixes_a_backend_and_auto_hands_back_to_the_router() -> None:
    seen: list = []
    app = make_app(auto_config(), backends=two_backends())
    async with app.run_test(size=(130, 40), message_hook=seen.append) as pilot:
        await wait_for(pilot, lambda: app.session.backend_named("local").loaded)
        await send(pilot, "/model claude")
        await wait_for(pilot, lambda: app.session.mode == "claude")
        await turns(pilot, seen, "hi")
        assert [e for e in entries(app) if e.kind == "answer"][-1].label.startswith("claude")
        assert "/model claude → claude" in [e for e in entries(app) if e.kind == "answer"][-1].badge
        await send(pilot, "/model auto")
        await wait_for(pilot, lambda: app.session.mode == "auto")
        await turns(pilot, seen, "hi again")
        assert [e for e in entries(app) if e.kind == "answer"][-1].label.startswith("local")


async def test_context_lists_the_window_item_by_item() -> None:
    seen: list = []
    app = make_app(auto_config(), backends=two_backends())
    async with app.run_test(size=(130, 40), message_hook=seen.append) as pilot:
        await wait_for(pilot, lambda: app.session.backend_named("local").loaded)
        await turns(pilot, seen, "first question", "second question")
        await send(pilot, "/context")
        await wait_for(pilot, lambda: "Window of local" in transcript_text(app))
        text = transcript_text(app)
        assert "system prompt" in text and "turn 1 (question)" in text and "this turn" in text
        assembly = app.session.window("local")
        assert f"{assembly.tokens:,} of {assembly.budget:,} tokens" in text


async def test_retry_other_keeps_both_answers() -> None:
    seen: list = []
    app = make_app(auto_config(), backends=two_backends())
    async with app.run_test(size=(130, 40), message_hook=seen.append) as pilot:
        await wait_for(pilot, lambda: app.session.backend_named("local").loaded)
        await turns(pilot, seen, "compare", "/retry other")
        answers = [e for e in entries(app) if e.kind == "answer"]
        assert [a.text for a in answers] == ["Local answer.", "Claude's answer."]
        assert "/retry other → claude" in answers[1].badge
        assert "(again, on claude)" in transcript_text(app)


async def test_compact_summarises_what_the_window_dropped() -> None:
    seen: list = []
    answers = ["word " * 40] * 10 + ["- the user asked ten questions"]
    app = make_app(auto_config(), backends=two_backends(answers, local_window=300))
    async with app.run_test(size=(130, 40), message_hook=seen.append) as pilot:
        await wait_for(pilot, lambda: app.session.backend_named("local").loaded)
        await turns(pilot, seen, *[f"@local q{i}" for i in range(10)])
        assert app.session.window("local").first_kept > 0  # the window slid past the first turns
        await send(pilot, "/compact")
        await wait_for(pilot, lambda: "Compacted" in transcript_text(app))
        assert app.session.pinned
        await send(pilot, "/compact")  # the window starts again after the summary: nothing dropped since
        await wait_for(pilot, lambda: "Nothing to compact" in transcript_text(app))


async def test_model_switches_to_a_backend_that_is_loaded_already() -> None:
    """No load reports progress (no load bar is ever mounted): the switch is made all the same."""
    backends = two_backends()
    for backend in backends.values():
        backend.load()
    app = make_app(auto_config(), backends=backends)
    async with app.run_test(size=(130, 40)) as pilot:
        await wait_for(pilot, lambda: app.session.backend_named("local").loaded)
        await send(pilot, "/model claude")
        await wait_for(pilot, lambda: app.session.mode == "claude")
        assert not app.query("#load-progress")
