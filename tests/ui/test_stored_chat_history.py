"""A chat resumed through the real app shows every answer it showed before: both
sides of `/retry other` (the first marked as left out of the conversation, which
goes on from the second) and a cancelled answer with its "Cancelled." mark; after
`/clear`, `--resume` reopens the new chat and the one before is still whole."""

from __future__ import annotations

import io
import re

from assistant.backends.scripted import ScriptedBackend
from assistant.core.store import saved_sessions as session_store
from assistant.core.store.ledger import Ledger
from assistant.render.sessions import LEFT_OUT
from assistant.ui.app import make_app
from assistant.ui.messages import TurnFinished
from tests.ui.helpers import entries, send, streaming, transcript_text, wait_for
from tests.ui.test_routing_app import auto_config, turns

LONG = " ".join(f"word{i}" for i in range(400))


def backends(local_answers: list[str], delay: float = 0.0) -> dict[str, ScriptedBackend]:
    return {
        "claude": ScriptedBackend(["Claude's answer."], name="claude", local=False, model_name="claude-sonnet-5-5",
                                  context_size=200_000, window_tokens=8000),  # fmt: skip
        "local": ScriptedBackend(local_answers, name="local", delay=delay),
    }


def answers(app) -> list[tuple[str, str, str, str, str | None]]:
    return [(e.text[:20], e.label, e.badge, e.footer, e.note) for e in entries(app) if e.kind == "answer"]


async def test_retry_other_and_a_cancelled_answer_come_back_on_resume() -> None:
    seen: list = []
    first = make_app(auto_config(), backends=backends(["Local answer.", LONG], delay=0.01))
    async with first.run_test(size=(130, 40), message_hook=seen.append) as pilot:
        await wait_for(pilot, lambda: first.session.backend_named("local").loaded)
        await turns(pilot, seen, "why is the sky blue?", "/retry other")
        await send(pilot, "and why are sunsets red?")
        await wait_for(pilot, lambda: streaming(first, 5))
        await pilot.press("escape")
        await wait_for(pilot, lambda: len([m for m in seen if isinstance(m, TurnFinished)]) == 3)
        await pilot.pause()
        before = answers(first)
    assert [a[4] for a in before] == [None, None, "Cancelled."]

    second = make_app(auto_config(), backends=backends(["After resume."]), resume="last")
    async with second.run_test(size=(130, 40)) as pilot:
        await wait_for(pilot, lambda: "Resumed session" in transcript_text(second))
        after = answers(second)
        assert [a[:4] for a in after] == [a[:4] for a in before]  # every answer, as it was drawn
        assert [a[4] for a in after] == [LEFT_OUT, None, "Cancelled."]
        conversation = second.session.exchanges
        assert [e.answer.content[:20] for e in conversation] == ["Claude's answer.", LONG[:20]]


async def test_clear_starts_a_new_stored_chat_that_resume_reopens() -> None:
    seen: list = []
    first = make_app(auto_config(), backends=backends(["One.", "Two.", "Three."]))
    async with first.run_test(size=(130, 40), message_hook=seen.append) as pilot:
        await wait_for(pilot, lambda: first.session.backend_named("local").loaded)
        await turns(pilot, seen, "what is a list?", "and a tuple?")
        before = first.session.session_id
        await send(pilot, "/clear")
        await pilot.pause()
        await turns(pilot, seen, "something else")
        after = first.session.session_id
    assert after != before
    with Ledger.open() as ledger:
        old = session_store.load(ledger, before)
    assert old.title == "what is a list?" and [e.answer.content for e in old.conversation] == ["One.", "Two."]

    second = make_app(auto_config(), backends=backends(["Four."]), resume="last")
    async with second.run_test(size=(130, 40)) as pilot:
        await wait_for(pilot, lambda: "Resumed session" in transcript_text(second))
        assert second.session.session_id == after
        assert [e.text for e in entries(second) if e.kind == "user"] == ["something else"]


async def test_the_cost_screen_and_the_exit_summary_count_the_chats_before_a_clear(capsys) -> None:
    from assistant.cli.tui import _print_exit_summary
    from assistant.ui.screens.cost import summary_renderable
    from rich.console import Console

    seen: list = []
    app = make_app(auto_config(), backends=backends(["One.", "Two."]))
    async with app.run_test(size=(130, 40), message_hook=seen.append) as pilot:
        await wait_for(pilot, lambda: app.session.backend_named("local").loaded)
        await turns(pilot, seen, "what is a list?")
        await send(pilot, "/clear")
        await pilot.pause()
        await turns(pilot, seen, "something else")
        assert len(app.session.status().session_ids) == 2
        console = Console(width=200, record=True, file=io.StringIO())
        console.print(summary_renderable(app.session, width=200))
    assert re.search(r"^local\s+2\s", console.export_text(), re.M)  # both turns, one before the /clear
    _print_exit_summary(app.session)
    said = capsys.readouterr().out
    assert re.search(r"\b2 turns?\b|^local\s+2\s", said, re.M), said
