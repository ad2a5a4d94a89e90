"""Quality routing end to end on scripted backends and a real ledger: each turn's
kind is read and stored, ratings (/good, /bad, /retry other, @other, /keep) go to
the ledger, and the quality router sends a kind elsewhere once its answers there
are measured to fall short."""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path

import pytest

from assistant.backends.scripted import ScriptedBackend
from assistant.core.config import Config
from assistant.core.decisions import Quality, TurnRequest
from assistant.core.events import Notice, RouteDecided
from assistant.core.session.chat import AUTO, ChatSession
from assistant.core.store import ratings
from assistant.core.store.ledger import Ledger, LedgerError
from tests.stored import rated_answers

SONNET = "claude-sonnet-5-5"
CODE = "write a function that parses ISO dates"
QUESTION = "why is the sky blue?"


def session(tmp_path: Path, *, answers: int = 40, persist: bool = False, unmeasured: str = "strongest") -> ChatSession:
    remote = ScriptedBackend([f"Claude answer {i}." for i in range(answers)], name="claude", local=False,
                             model_name=SONNET, context_size=200_000)
    here = ScriptedBackend([f"Local answer {i}." for i in range(answers)], name="local")
    config = replace(Config(), general=replace(Config().general, backend=AUTO))
    config = config.with_overrides({"router.unmeasured": unmeasured})
    return ChatSession(config, backends={"claude": remote, "local": here}, installed=False,
                       ledger=Ledger.open, project_root=tmp_path, persist=persist)


def ask(s: ChatSession, text: str):
    seen: list = []
    result = s.run_turn(text, threading.Event(), seen.append)
    [decided] = [e.decision for e in seen if isinstance(e, RouteDecided)]
    return result, decided, seen


def edit_quality(s: ChatSession, backend: str) -> Quality:
    """The quality the router estimates for `backend` on an edit, as a turn would see it."""
    decision, _ = s.route(TurnRequest("tidy calc.py", "edit"))
    return decision.estimate_for(backend).quality


def stored(s: ChatSession) -> list[tuple[str, str, bool]]:
    ledger = s.ledger()
    assert ledger is not None
    return rated_answers(ledger)


@pytest.mark.parametrize(
    ("text", "kind"),
    [(CODE, "code"), (QUESTION, "explain"), ("thanks!", "chat"), ("@edit tidy it up", "edit"),
     ("@code hello", "code"), ("@batch rename all", "batch")],
)
def test_each_turn_s_kind_is_read_stored_and_shown(tmp_path: Path, text: str, kind: str) -> None:
    s = session(tmp_path)
    result, decided, _ = ask(s, text)
    assert decided.kind == kind
    ledger = s.ledger()
    assert ledger is not None
    assert ledger.turn(result.turn_id).kind == kind


def test_good_and_bad_rate_the_last_answer_and_the_newest_rating_decides(tmp_path: Path) -> None:
    s = session(tmp_path)
    with pytest.raises(ValueError, match="no recorded answer"):
        s.rate("good")
    ask(s, QUESTION)
    s.rate("good")
    assert stored(s) == [("local", "explain", True)]
    s.rate("bad")  # changed their mind
    assert stored(s) == [("local", "explain", False)]
    s.rate("none")  # taken back: it counts for nothing
    assert stored(s) == []


def test_retry_other_rates_the_first_answer_bad_and_keep_takes_it_back(tmp_path: Path) -> None:
    s = session(tmp_path)
    first, _, _ = ask(s, QUESTION)
    other = s.retry_other(threading.Event())
    assert other is not None and other.backend == "claude"
    assert stored(s) == [("local", "explain", False)]
    assert s.exchanges[-1].answer.content == other.text
    kept = s.keep_first()
    assert kept.turn_id == first.turn_id and s.last is kept
    assert s.exchanges[-1].answer.content == first.text  # the conversation goes on from the first
    assert stored(s) == [("claude", "explain", False), ("local", "explain", True)]
    with pytest.raises(ValueError, match="/keep follows /retry other"):
        s.keep_first()


def test_at_other_sends_the_turn_to_the_other_backend_and_rates_the_last_answer_bad(tmp_path: Path) -> None:
    s = session(tmp_path)
    ask(s, QUESTION)
    result, decided, _ = ask(s, "@other and why is it red at sunset?")
    assert result.backend == "claude" and "@other" in decided.reason
    assert stored(s) == [("local", "explain", False)]
    again, _, _ = ask(s, "@other")  # alone: the last question again, on the other backend
    assert again.backend == "local" and again.question == "and why is it red at sunset?"


def test_at_other_with_no_answer_yet_says_so_and_the_router_decides(tmp_path: Path) -> None:
    s = session(tmp_path)
    result, decided, seen = ask(s, "@other why is the sky blue?")
    assert result.outcome == "ok" and decided.decided_by == "rules"
    assert any(isinstance(e, Notice) and "@other" in e.text for e in seen)


def test_unmeasured_code_goes_to_claude_until_local_is_measured(tmp_path: Path) -> None:
    s = session(tmp_path)
    _, decided, _ = ask(s, CODE)
    assert (decided.backend, decided.decided_by) == ("claude", "quality")
    assert decided.reason == "local's quality on code is not measured yet → claude"
    _, decided, _ = ask(s, QUESTION)  # a question: the cheapest takes it
    assert (decided.backend, decided.decided_by) == ("local", "rules")


def test_once_local_code_is_measured_bad_code_goes_to_claude_and_questions_stay_local(tmp_path: Path) -> None:
    s = session(tmp_path, unmeasured="cheapest")  # local takes code turns while unmeasured, and is measured
    _, decided, _ = ask(s, CODE)
    assert decided.backend == "local" and decided.decided_by == "rules"  # nothing rated yet: quality passes
    s.rate("bad")
    for _ in range(9):  # ten bad local answers in all: its upper bound falls below the floor
        _, decided, _ = ask(s, CODE)
        if decided.backend == "local":
            s.rate("bad")
    _, decided, _ = ask(s, CODE)
    assert decided.backend == "claude" and decided.decided_by == "quality"
    assert decided.reason.startswith("code: local 0/") and "< floor 0.80" in decided.reason
    _, decided, _ = ask(s, QUESTION)  # another kind: nothing is known against local there
    assert decided.backend == "local"


def test_a_refactor_proposal_s_outcome_rates_its_turn(tmp_path: Path) -> None:
    from tests.core.edits.gitrepo import make_repo

    from assistant.core.workflows.refactor import Refactorer

    repo = make_repo(tmp_path / "proj", {"calc.py": "def add(a, b):\n    return a+b\n"})
    answer = "calc.py\n```python\ndef add(a, b):\n    return a + b\n```\n"  # the local model writes whole files
    here = ScriptedBackend([answer], name="local")
    s = ChatSession(Config(), here, ledger=Ledger.open, project_root=repo)
    refactorer = Refactorer(s, repo)
    proposal = refactorer.propose("calc.py", "spaces", threading.Event())
    assert proposal.ok
    refactorer.apply(proposal)
    assert stored(s) == [("local", "edit", True)]
    assert edit_quality(s, "local").good == 1  # what the router knows of it now
    refactorer.undo()  # taken back: a bad answer after all
    assert stored(s) == [("local", "edit", False)]
    assert edit_quality(s, "local").bad == 1


def test_a_rating_the_ledger_cannot_take_is_one_clear_error(tmp_path: Path) -> None:
    s = session(tmp_path)
    result, _, _ = ask(s, QUESTION)
    ledger = s.ledger()
    assert ledger is not None
    with pytest.raises(LedgerError, match="no turn 999999 to rate"):
        ratings.rate(ledger, 999_999, "good", "rating", 0.0)
    with pytest.raises(ValueError, match="verdict"):
        ratings.rate(ledger, result.turn_id, "great", "rating", 0.0)  # type: ignore[arg-type]


def test_a_resumed_session_rates_its_last_answer(tmp_path: Path) -> None:
    from assistant.core.store import saved_sessions as session_store

    s = session(tmp_path, persist=True)  # the chat is stored, as the TUI stores it
    first, _, _ = ask(s, QUESTION)
    s.close()
    again = session(tmp_path)
    with Ledger.open() as ledger:
        again.resume(session_store.load(ledger, s.session_id))
    assert again.rate("good").turn_id == first.turn_id
    assert stored(again) == [("local", "explain", True)]
