"""A stored chat keeps every answer it showed: both sides of `/retry other` (and of
`/keep`), the turns `/compact` summarised, a turn cancelled or failed before any
text with its note; resuming sends only the conversation; `/clear` starts a new
stored chat and leaves the one before whole. On scripted backends, a real ledger."""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import replace
from pathlib import Path

import pytest

from assistant.backends.scripted import ScriptedBackend
from assistant.core.config import Config
from assistant.core.events import BackendError, TextDelta
from assistant.core.session.chat import AUTO, ChatSession
from assistant.core.store import saved_sessions as session_store
from assistant.core.store.ledger import Ledger, LedgerError
from assistant.render.sessions import LEFT_OUT, markdown, shown_answer
from tests.core.store.old_ledgers import ledger_at

QUESTION = "why is the sky blue?"


def two_backends(tmp_path: Path) -> ChatSession:
    remote = ScriptedBackend(["Claude answer."], name="claude", local=False, model_name="claude-sonnet-5-5",
                             context_size=200_000)  # fmt: skip
    here = ScriptedBackend(["Local answer.", "Local again."], name="local")
    config = replace(Config(), general=replace(Config().general, backend=AUTO))
    return ChatSession(config, backends={"claude": remote, "local": here}, installed=False, ledger=Ledger.open,
                       project_root=tmp_path, persist=True)  # fmt: skip


def one_backend(tmp_path: Path, backend: ScriptedBackend) -> ChatSession:
    return ChatSession(Config(), backend=backend, ledger=Ledger.open, project_root=tmp_path, persist=True)


def stored(session_id: str) -> session_store.StoredSession:
    with Ledger.open() as ledger:
        return session_store.load(ledger, session_id)


def answers(chat: session_store.StoredSession) -> list[tuple[str | None, bool]]:
    return [(i.exchange.answer.content if i.exchange.answer else None, i.in_conversation) for i in chat.exchanges]


def test_retry_other_keeps_both_answers_and_a_resumed_chat_sends_only_the_second(tmp_path: Path) -> None:
    s = two_backends(tmp_path)
    first = s.run_turn(QUESTION, threading.Event())
    second = s.retry_other(threading.Event())
    assert (first.routed_to, second.routed_to) == ("local", "claude")
    chat = stored(s.session_id)
    assert answers(chat) == [("Local answer.", False), ("Claude answer.", True)]
    assert [e.answer.content for e in chat.conversation] == ["Claude answer."]
    assert chat.last_result.turn_id == second.turn_id
    text = markdown(chat)
    assert text.index("Local answer.") < text.index(LEFT_OUT) < text.index("Claude answer.")
    assert "/retry other → claude" in text  # the second answer's badge says why it was asked again

    again = two_backends(tmp_path)
    again.resume(chat)
    assert [e.answer.content for e in again.exchanges] == ["Claude answer."]
    assert again.last.turn_id == second.turn_id


def test_keep_brings_the_first_answer_back_and_leaves_the_other_shown(tmp_path: Path) -> None:
    s = two_backends(tmp_path)
    first = s.run_turn(QUESTION, threading.Event())
    s.retry_other(threading.Event())
    s.keep_first()
    chat = stored(s.session_id)
    assert answers(chat) == [("Local answer.", True), ("Claude answer.", False)]
    assert chat.last_result.turn_id == first.turn_id  # /good after resuming rates the answer kept


def test_a_turn_cancelled_before_any_text_is_shown_again_with_its_mark_and_never_sent(tmp_path: Path) -> None:
    backend = ScriptedBackend(["Never shown.", "An answer."], name="local")
    s = one_backend(tmp_path, backend)
    cancel = threading.Event()
    cancel.set()
    s.run_turn("a question cancelled at once", cancel)
    s.run_turn("a second question", threading.Event())
    chat = stored(s.session_id)
    assert answers(chat) == [(None, False), ("An answer.", True)]
    shown = shown_answer(chat.exchanges[0])
    assert shown is not None and shown.text == "" and shown.note == "Cancelled."
    assert "scripted-model" in shown.label and "took" in shown.footer
    assert "> Cancelled." in markdown(chat)
    assert [m.content for m in backend.seen[-1]][-1] == "a second question"
    assert "a question cancelled at once" not in str(backend.seen[-1])


def test_a_partly_answered_cancelled_turn_keeps_its_cancelled_mark(tmp_path: Path) -> None:
    s = one_backend(tmp_path, ScriptedBackend(["one two three four"], name="local"))
    cancel = threading.Event()
    s.run_turn("count", cancel, lambda event: isinstance(event, TextDelta) and cancel.set())
    [item] = stored(s.session_id).exchanges
    assert item.in_conversation and item.exchange.answer.content == "one"
    assert shown_answer(item).note == "Cancelled."


def test_a_failed_turn_keeps_its_error_line(tmp_path: Path) -> None:
    failing = ScriptedBackend(["Fine."], name="local", failures=[BackendError("the model ran out of memory")])
    s = one_backend(tmp_path, failing)
    s.run_turn("first question", threading.Event())
    [item] = stored(s.session_id).exchanges
    assert not item.in_conversation and item.result.error == BackendError("the model ran out of memory")
    assert shown_answer(item).note == "Error: the model ran out of memory"


def test_compacted_turns_stay_shown_out_of_the_conversation(tmp_path: Path) -> None:
    backend = ScriptedBackend([f"answer {i} " + "word " * 30 for i in range(6)], name="local", window_tokens=120)
    s = one_backend(tmp_path, backend)
    for i in range(4):
        s.run_turn(f"question {i} about collections", threading.Event())
    s.compact(threading.Event(), summarizer="local")
    chat = stored(s.session_id)
    kept = [item.in_conversation for item in chat.exchanges]
    assert len(kept) == 4 and not kept[0] and kept[-1]
    assert [e.user.content for e in chat.conversation] == [e.user.content for e in s.exchanges]


def test_clear_starts_a_new_stored_chat_and_the_one_before_keeps_its_exchanges_and_title(tmp_path: Path) -> None:
    s = two_backends(tmp_path)
    s.run_turn("what is a list?", threading.Event())
    s.run_turn("and a tuple?", threading.Event())
    before = s.session_id
    s.clear()
    s.run_turn("something else entirely", threading.Event())
    assert s.session_id != before
    old, new = stored(before), stored(s.session_id)
    assert [i.exchange.user.content for i in old.exchanges] == ["what is a list?", "and a tuple?"]
    assert all(i.in_conversation for i in old.exchanges) and old.title == "what is a list?"
    assert [i.exchange.user.content for i in new.exchanges] == ["something else entirely"]
    assert new.title == "something else entirely"


def test_a_chat_stored_before_migration_11_is_all_conversation(tmp_path: Path) -> None:
    path = ledger_at(
        tmp_path / "ledger.sqlite3", 10,
        "INSERT INTO sessions (id, started_at, title, cwd) VALUES ('old', 1.0, 'an old chat', '/p')",
        "INSERT INTO session_exchanges (session_id, seq, question, answer, figures, at) VALUES "
        "('old', 0, 'q1', 'a1', NULL, 2.0), ('old', 1, 'q2', 'a2', NULL, 3.0)",
    )
    with Ledger.open(path) as ledger:
        chat = session_store.load(ledger, "old")
    assert answers(chat) == [("a1", True), ("a2", True)]
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE session_exchanges SET in_conversation = 7")
    with Ledger.open(path) as ledger, pytest.raises(LedgerError, match="session old is damaged"):
        session_store.load(ledger, "old")
