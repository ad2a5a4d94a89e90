"""Refactor-this-file end to end on scripted backends in real git repositories:
propose (with one retry on a bad block), review data, apply with a provenance
commit, undo; and outside git, a backup."""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path

import pytest

from assistant.backends.scripted import ScriptedBackend
from assistant.core.config import Config
from assistant.core.session.chat import ChatSession
from assistant.core.store.ledger import Ledger
from assistant.core.workflows.refactor import Refactorer, diff_stats
from tests.core.edits.gitrepo import git, make_repo

CALC = "def add(a, b):\n    return a+b\n\n\ndef sub(a, b):\n    return a-b\n"
GOOD = (
    "calc.py\n<<<<<<< SEARCH\ndef add(a, b):\n    return a+b\n=======\n"
    "def add(a: int, b: int) -> int:\n    return a + b\n>>>>>>> REPLACE\n"
)
BAD = "calc.py\n<<<<<<< SEARCH\ndef mul(a, b):\n    return a*b\n=======\ndef mul(a, b):\n    return a * b\n>>>>>>> REPLACE\n"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "proj", {"calc.py": CALC})


def refactorer(root: Path, answers: list[str]) -> tuple[Refactorer, ScriptedBackend]:
    config = Config()
    config = replace(config, edits=replace(config.edits, whole_file_backends=()))
    backend = ScriptedBackend(answers, name="local")
    session = ChatSession(config, backend, ledger=Ledger.open, project_root=root)
    return Refactorer(session, root), backend


def test_propose_apply_commit_and_undo(repo: Path) -> None:
    r, backend = refactorer(repo, [GOOD])
    proposal = r.propose("calc.py", "add type hints to add", threading.Event())
    assert proposal.ok and not proposal.retried
    (change,) = proposal.changes
    assert change.after.startswith("def add(a: int, b: int) -> int:\n    return a + b\n")
    assert diff_stats(proposal.changes) == (2, 2)
    assert (repo / "calc.py").read_text() == CALC  # nothing written before the review
    committed = r.apply(proposal)
    assert (repo / "calc.py").read_text() == change.after
    message = git(repo, "log", "-1", "--format=%B")
    assert message.startswith("refactor(calc.py): add type hints to add")
    assert "Assistant-Backend: local" in message and "Assistant-Model: scripted-model" in message
    assert "Assistant-Cost: $0.0000" in message
    assert committed.commit == git(repo, "rev-parse", "HEAD").strip()
    said = r.undo()
    assert (repo / "calc.py").read_text() == CALC and said


def test_a_block_that_matches_nothing_is_sent_back_once(repo: Path) -> None:
    r, backend = refactorer(repo, [BAD, GOOD])
    proposal = r.propose("calc.py", "add type hints", threading.Event())
    assert proposal.ok and proposal.retried and len(proposal.results) == 2
    retry_prompt = backend.seen[1][-1].content
    assert "def mul" in retry_prompt  # the model hears which block failed
    rows = Ledger.open().turns()
    assert len(rows) == 2  # both turns are costed


def test_still_wrong_after_the_retry_applies_nothing(repo: Path) -> None:
    r, _ = refactorer(repo, [BAD, BAD])
    proposal = r.propose("calc.py", "add type hints", threading.Event())
    assert not proposal.ok and "matches nothing" in proposal.error
    assert (repo / "calc.py").read_text() == CALC
    assert git(repo, "rev-list", "--count", "HEAD").strip() == "1"


def test_a_file_outside_the_project_is_refused(repo: Path) -> None:
    r, backend = refactorer(repo, [GOOD])
    proposal = r.propose("../outside.py", "anything", threading.Event())
    assert not proposal.ok and backend.seen == []  # refused before any model call


def test_outside_git_a_backup_is_kept_and_undo_restores_it(tmp_path: Path) -> None:
    root = tmp_path / "plain"
    root.mkdir()
    (root / "calc.py").write_text(CALC)
    r, _ = refactorer(root, [GOOD])
    committed = r.apply(r.propose("calc.py", "hints", threading.Event()))
    assert committed.kind == "backup" and (root / "calc.py").read_text() != CALC
    [record] = Ledger.open().proposals()
    assert record.change_id == committed.backup_id and record.undone_at is None
    r.undo()
    assert (root / "calc.py").read_text() == CALC
    assert Ledger.open().proposals()[0].undone_at is not None  # the undo, recorded against the edit


def test_an_unnamed_whole_file_answer_is_the_file_asked_about(repo: Path) -> None:
    from assistant.core.edits.parse import parse_edits
    from assistant.core.edits.types import ParseError, WholeFile

    answer = "```python\ndef add(a: int, b: int) -> int:\n    return a + b\n```"
    assert parse_edits(answer, whole_file=True, default_path="calc.py") == (
        WholeFile("calc.py", "def add(a: int, b: int) -> int:\n    return a + b\n"),
    )
    with pytest.raises(ParseError, match="no file name"):
        parse_edits(answer, whole_file=True)
    truncated = "```python\ndef add(a: int, b: int) -> int:\n    return a +"
    with pytest.raises(ParseError, match="not closed"):  # a cut-off answer is never applied
        parse_edits(truncated, whole_file=True, default_path="calc.py")


def test_what_became_of_each_proposal_feeds_the_reports_quality_proxy(repo: Path) -> None:
    from assistant.core.accounting.report import build_report

    r, _ = refactorer(repo, [GOOD, BAD, BAD, GOOD])
    r.apply(r.propose("calc.py", "hints", threading.Event()))  # applied
    r.propose("calc.py", "hints", threading.Event())  # failed twice: failed
    r.undo()
    rejected = r.propose("calc.py", "hints", threading.Event())
    r.record_outcome(rejected, "rejected")
    proposals = Ledger.open().proposals()
    assert [p.outcome for p in proposals] == ["applied", "failed", "rejected"]
    report = build_report(Ledger.open().turns(), proposals=proposals)
    (row,) = report.rows
    assert row.quality.value == 1 / 3 and row.quality.basis == 3  # 1 of 3 proposals applied
