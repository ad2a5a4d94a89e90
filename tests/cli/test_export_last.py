"""`assistant export last` exports the stored chat changed last, as `rate last`
rates the session used last: one rule for what `last` names
(`saved_sessions.named`), and the exported chat holds every answer it showed."""

from __future__ import annotations

import threading
from dataclasses import replace

from assistant.backends.scripted import ScriptedBackend
from assistant.cli.commands import main
from assistant.core.config import Config
from assistant.core.session.chat import AUTO, ChatSession
from assistant.core.store import saved_sessions as session_store
from assistant.core.store.ledger import Ledger


def chat(*questions: str, stored: bool = True) -> str:
    """A chat (stored as the TUI stores one, or an `ask`'s, which is not) of `questions`; its id."""
    remote = ScriptedBackend(["Claude answer."] * 5, name="claude", local=False, context_size=200_000)
    here = ScriptedBackend([f"Local answer {i}." for i in range(5)], name="local")
    config = replace(Config(), general=replace(Config().general, backend=AUTO))
    s = ChatSession(config, backends={"claude": remote, "local": here}, installed=False, ledger=Ledger.open,
                    persist=stored)  # fmt: skip
    for q in questions:
        s.run_turn(q, threading.Event())
    if stored:
        s.retry_other(threading.Event())
    s.close()
    return s.session_id


def test_export_last_writes_the_chat_rate_last_rates_with_both_answers_of_a_retry(capsys) -> None:
    chat("an older chat")
    session_id = chat("why is the sky blue?")
    assert main(["rate", "last", "last", "good"]) == 0
    assert session_id in capsys.readouterr().out
    assert main(["export", "last"]) == 0
    text = capsys.readouterr().out
    assert f"Session `{session_id}`" in text and "an older chat" not in text
    assert text.index("Local answer 0.") < text.index("Claude answer.")  # both sides of /retry other


def test_export_last_passes_over_an_ask_which_stores_no_chat(capsys) -> None:
    session_id = chat("why is the sky blue?")
    asked = chat("a one-off question", stored=False)
    with Ledger.open() as ledger:
        assert session_store.named(ledger, "last") == asked  # what `rate last` rates
        assert session_store.named(ledger, "last", chat=True) == session_id
    assert main(["export", "last"]) == 0
    assert f"Session `{session_id}`" in capsys.readouterr().out


def test_export_last_with_no_stored_chat_says_so(capsys) -> None:
    chat("a one-off question", stored=False)
    assert main(["export", "last"]) == 1
    assert "no stored chats yet" in capsys.readouterr().err
