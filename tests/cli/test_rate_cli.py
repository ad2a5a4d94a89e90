"""`assistant rate SESSION TURN good|bad|none` on a real ledger: the rating is
stored as /good stores it, and a wrong session or turn is one clear line."""

from __future__ import annotations

import contextlib
import io
import threading
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from assistant.backends.scripted import ScriptedBackend
from assistant.cli.commands import main
from assistant.cli.parser import KINDS, VERDICTS
from assistant.core.config import Config
from assistant.core.session.chat import ChatSession
from assistant.core.store.ledger import Ledger
from assistant.core.store.records import VERDICTS as CORE_VERDICTS
from assistant.core.words import KINDS as CORE_KINDS
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
        (["nope", "1", "good"], "no session 'nope'", 2),
        (["last", "\u0661", "good"], "has no answered turn '\u0661'", 2),  # an Arabic-Indic one is not turn 1
        (["last", "\uff11", "good"], "has no answered turn", 2),  # nor is a fullwidth one
        (["last", "9" * 5000, "good"], "has no answered turn '9999", 2),  # more digits than int() reads
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


SHORT_LINE = 300  # a line a person reads: what is said back of an argument is cut short


def test_a_huge_argument_is_said_back_cut_short(capsys) -> None:
    two_turns()
    for args in (["x" * 100_000, "1"], ["last", "x" * 100_000], ["\x1b[2J" * 20_000, "1"]):
        assert main(["rate", *args, "good"]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and len(err) < SHORT_LINE and "\x1b" not in err



def test_a_huge_or_hostile_verdict_is_said_back_cut_short(capsys) -> None:
    """argparse's own `invalid choice: '…'` said a 100 KB verdict back whole."""
    for verdict in ("x" * 100_000, "\x1b[2J" * 20_000, "bad" + "\u202e" * 50):
        with pytest.raises(SystemExit) as ended:
            main(["rate", "last", "1", verdict])
        assert ended.value.code == 2
        err = capsys.readouterr().err
        last = err.strip().splitlines()[-1]
        assert len(last) < SHORT_LINE and "\x1b" not in err and "invalid choice" in last


ARGUMENT = st.one_of(
    st.text(),
    st.sampled_from(["last", "1", "2", "0", "-1", " 1 ", "01", "\u0661", "\u0967", "\uff12", "1.0", "1e0"]),
    st.builds(lambda piece, n: piece * n, st.text(min_size=1, max_size=3), st.integers(1, 50_000)),
)


def test_any_session_and_turn_is_a_rating_or_one_short_line_with_exit_2() -> None:
    session_id = two_turns()

    @given(st.one_of(ARGUMENT, st.just(session_id), st.just(session_id[:10])), ARGUMENT)
    def check(session: str, turn: str) -> None:
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["rate", "--", session, turn, "good"])  # after --: a text may start with "-"
        said = err.getvalue()
        assert "Traceback" not in said
        if code == 0:
            assert out.getvalue().startswith("rated ") and said == ""
            number = turn.strip()
            assert number == "last" or (number.isascii() and number.isdigit() and int(number) in (1, 2))
        else:
            assert code == 2 and said.startswith("assistant: ")
            assert said.count("\n") == 1 and len(said) < SHORT_LINE

    check()
