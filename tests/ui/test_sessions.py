"""Sessions that resume, through the real app: chat, quit, resume — the same
transcript and the same window; delete; export; the CLI listing."""

from __future__ import annotations


from assistant.backends.scripted import ScriptedBackend
from assistant.cli import main
from assistant.core.config import Config
from assistant.core.decisions import TurnRequest
from assistant.ui.app import make_app
from assistant.ui.messages import TurnFinished
from tests.ui.helpers import entries, send, transcript_text, wait_for

ANSWERS = ["First answer about lists.", "Second answer about tuples.", "Third."]




async def chat(app, *questions: str) -> list:
    """Ask `questions`, quit; the transcript's entries as they were before quitting."""
    seen = []
    async with app.run_test(size=(120, 40), message_hook=seen.append) as pilot:
        await wait_for(pilot, lambda: app.session.backend.loaded)
        for q in questions:
            done = len([m for m in seen if isinstance(m, TurnFinished)]) + 1
            await send(pilot, q)
            await wait_for(pilot, lambda: len([m for m in seen if isinstance(m, TurnFinished)]) >= done)
        await pilot.pause()
        await wait_for(pilot, lambda: len(app.query_one("#transcript").children) == 1)  # settled
        return shown(app)


def shown(app) -> list:
    """Each question and answer as the transcript shows it: text, heading, route badge, figures."""
    return [(e.kind, e.text, e.label, e.badge, e.footer) for e in entries(app) if e.kind in ("user", "answer")]


async def test_chat_quit_resume_gives_the_same_transcript_and_window() -> None:
    first = make_app(Config(), backend=ScriptedBackend(ANSWERS * 3, window_tokens=120))  # a small window
    questions = [f"question {i} about python collections" for i in range(6)]
    before_entries = await chat(first, *questions)
    assert len(before_entries) == 12
    probe = TurnRequest("and next?")
    before = first.session.route(probe)[1]["scripted"]  # the prompt the next turn would get
    assert before.first_kept > 0  # the window had slid: resuming must keep that

    second = make_app(Config(), backend=ScriptedBackend(["After resume."], window_tokens=120), resume="last")
    async with second.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: "Resumed session" in transcript_text(second))
        after_entries = shown(second)
        assert after_entries == before_entries  # figures drawn again from the stored raw figures
        assert second.session.session_id == first.session.session_id
        after = second.session.route(probe)[1]["scripted"]
        assert after.messages == before.messages and after.tokens == before.tokens
        answers = [e for e in entries(second) if e.kind == "answer"]
        assert answers[0].label == "scripted · scripted-model" and answers[0].badge.startswith("chat · rules: /model scripted")
        assert "tok/s" in answers[0].footer and "took" in answers[0].footer


async def test_sessions_list_export_and_delete(tmp_path, capsys) -> None:
    app = make_app(Config(), backend=ScriptedBackend(ANSWERS))
    await chat(app, "what is a list?", "and a tuple?")
    session_id = app.session.session_id
    assert main(["sessions"]) == 0
    out = capsys.readouterr().out
    assert session_id in out and "2 exchanges" in out and "what is a list?" in out
    target = tmp_path / "chat.md"
    assert main(["export", session_id[:15], "-o", str(target)]) == 0
    text = target.read_text()
    assert "## You" in text and "what is a list?" in text and "First answer about lists." in text
    from assistant.core.store import saved_sessions as session_store
    from assistant.core.store.ledger import Ledger

    with Ledger.open() as ledger:
        session_store.delete(ledger, session_id)
        assert session_store.listing(ledger) == []
        assert len(ledger.turns(session_id=session_id)) == 2  # what was spent stays in the ledger
    assert main(["export", session_id]) == 1


async def test_resume_with_nothing_to_resume_says_so() -> None:
    app = make_app(Config(), backend=ScriptedBackend(["x"]), resume="last")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: "no earlier session" in transcript_text(app))
