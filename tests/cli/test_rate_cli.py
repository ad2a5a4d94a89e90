"""`assistant rate SESSION TURN good|bad|none` on a real ledger: the rating is
stored as /good stores it, and a wrong session or turn is one clear line."""

from __future__ import annotations

import threading
from dataclasses import replace

import pytest

from assistant.backends.scripted import ScriptedBackend
from assistant.cli.commands import KINDS, VERDICTS, main
from assistant.core.config import Config
from assistant.core.routing.protocol import KINDS as CORE_KINDS
from assistant.core.session.chat import ChatSession
from assistant.core.store.ledger import Ledger
from assistant.core.store.records import VERDICTS as CORE_VERDICTS
from tests.stored import rated_answers


def two_turns() -> str:
    s = ChatSession(replace(Config()), ScriptedBackend(["One.", "Two."], name="local"), ledger=Ledger.open)
    s.run_turn("why is the sky blue?", threading.Event())
    s.run_turn("write a function that adds two numbers", threading.Event())
    s.close()
    return s.session_id


def rated() -> list[tuple[str, bool]]:
    with Ledger.open() as ledger:
        return [(kind, good) for _, kind, good in rated_answers(ledger)]


def test_the_parser_s_choices_are_the_core_s() -> None:
    assert KINDS == CORE_KINDS and VERDICTS == CORE_VERDICTS


def test_rating_a_turn_by_number_and_last(capsys) -> None:
    session_id = two_turns()
    assert main(["rate", session_id[:17], "1", "good"]) == 0
    assert capsys.readouterr().out.strip() == f"rated explain turn 1 of {session_id} (local · scripted-model): good"
    assert main(["rate", "last", "last", "bad"]) == 0
    assert rated() == [("code", False), ("explain", True)]
    assert main(["rate", session_id, "2", "none"]) == 0  # taken back
    assert rated() == [("explain", True)]


@pytest.mark.parametrize(
    ("args", "said", "code"),
    [
        (["nope", "1", "good"], "no session 'nope'", 1),
        (["last", "3", "good"], "has no answered turn '3' (its turns: 1 to 2, or last)", 2),
        (["last", "0", "good"], "has no answered turn '0'", 2),
        (["last", "x\udcff", "good"], "has no answered turn", 2),
    ],
)
def test_a_wrong_session_or_turn_is_one_line(capsys, args: list[str], said: str, code: int) -> None:
    two_turns()
    assert main(["rate", *args]) == code
    err = capsys.readouterr().err.strip()
    assert said in err and "\n" not in err and "Traceback" not in err


def test_with_nothing_recorded_there_is_nothing_to_rate(capsys) -> None:
    assert main(["rate", "last", "1", "good"]) == 1
    assert "nothing to rate" in capsys.readouterr().err
