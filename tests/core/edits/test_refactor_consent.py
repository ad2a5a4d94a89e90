"""Checks execute the proposed code, so by default they wait for the user's yes
(issue 24, item 2): `propose` runs none and names them pending, `check_accepted`
runs them on what was accepted and says apply or ask again, and `apply` refuses a
proposal whose checks have not run. `checks = "before_review"` keeps the old flow.

Each check appends a line to a file outside the repository: the line is there
exactly when model-written code has run."""

from __future__ import annotations

import shlex
import threading
from dataclasses import replace
from pathlib import Path

import pytest

from assistant.backends.scripted import ScriptedBackend
from assistant.core.config import Config, ConfigError, parse
from assistant.core.edits.types import EditError
from assistant.core.session.chat import ChatSession
from assistant.core.store.ledger import Ledger
from assistant.core.workflows.refactor import Refactorer
from tests.core.edits.gitrepo import git, make_repo
from tests.core.edits.test_refactor_flow import CALC, GOOD

# Keeps add() working but leaves a mark the check below fails on.
BREAKS = "calc.py\n<<<<<<< SEARCH\n    return a+b\n=======\n    return a+b  # BROKEN\n>>>>>>> REPLACE\n"


def check(marker: Path) -> str:
    """A test command that records each run outside the project, and fails on a BROKEN edit."""
    return f"echo ran >> {shlex.quote(str(marker))}; ! grep -q BROKEN calc.py"


def runs(marker: Path) -> int:
    return len(marker.read_text().splitlines()) if marker.exists() else 0


def checked_config(marker: Path, **edits: object) -> Config:
    c = Config()
    return replace(c, edits=replace(c.edits, whole_file_backends=(), test_cmd=check(marker), check_timeout=60, **edits))


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "proj", {"calc.py": CALC})


def refactorer(root: Path, config: Config, answers: list[str]) -> tuple[Refactorer, ScriptedBackend]:
    backend = ScriptedBackend(answers, name="local")
    return Refactorer(ChatSession(config, backend, ledger=Ledger.open, project_root=root), root), backend


def test_by_default_a_proposal_runs_no_check_and_names_the_ones_left_for_the_yes(repo: Path, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    config = checked_config(marker, lint_cmd=f"echo lint >> {shlex.quote(str(marker))}")
    assert Config().edits.checks == "after_review"
    r, _ = refactorer(repo, config, [GOOD])
    proposal = r.propose("calc.py", "add type hints", threading.Event())
    assert proposal.ok and proposal.pending == ("lint", "tests") and proposal.outcomes == ()
    assert proposal.checks == ("syntax",)
    assert not marker.exists()  # no model-written code has run


def test_after_the_yes_the_checks_run_on_what_was_accepted_and_say_apply(repo: Path, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    r, _ = refactorer(repo, checked_config(marker), [GOOD])
    proposal = r.propose("calc.py", "add type hints", threading.Event())
    with pytest.raises(EditError, match="checks have not run"):
        r.apply(proposal)  # no path writes past the checks
    checked = r.check_accepted(proposal, {"calc.py": frozenset({0})}, threading.Event())
    assert checked.verdict == "apply" and runs(marker) == 2  # the unchanged copy, then the edit
    assert checked.proposal.pending == () and checked.proposal.checks == ("syntax", "tests")
    assert (repo / "calc.py").read_text() == CALC  # checked on a scratch copy
    r.apply(checked.proposal)
    assert "Assistant-Checks: syntax, tests" in git(repo, "log", "-1", "--format=%B")


def test_a_check_the_accepted_edit_fails_asks_again_with_no_repair_round(repo: Path, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    r, backend = refactorer(repo, checked_config(marker), [BREAKS, GOOD])
    proposal = r.propose("calc.py", "tidy", threading.Event())
    checked = r.check_accepted(proposal, None, threading.Event())
    assert checked.verdict == "ask again"
    assert [(o.name, o.status) for o in checked.proposal.outcomes] == [("tests", "failed")]
    assert len(backend.seen) == 1 and not checked.proposal.retried  # the model was not asked to repair it
    assert (repo / "calc.py").read_text() == CALC and git(repo, "rev-list", "--count", "HEAD").strip() == "1"


def test_a_cancel_while_the_checks_run_after_the_yes_says_cancelled(repo: Path, tmp_path: Path) -> None:
    r, _ = refactorer(repo, checked_config(tmp_path / "ran"), [GOOD])
    proposal = r.propose("calc.py", "add type hints", threading.Event())
    cancel = threading.Event()
    cancel.set()
    checked = r.check_accepted(proposal, None, cancel)
    assert checked.verdict == "cancelled" and (repo / "calc.py").read_text() == CALC


def test_before_review_keeps_checks_and_their_repair_round_before_the_review(repo: Path, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    r, backend = refactorer(repo, checked_config(marker, checks="before_review"), [BREAKS, GOOD])
    proposal = r.propose("calc.py", "tidy", threading.Event())
    assert proposal.retried and len(backend.seen) == 2 and proposal.pending == ()
    assert proposal.checks == ("syntax", "tests") and runs(marker) == 4  # both answers, each before and after
    checked = r.check_accepted(proposal, None, threading.Event())
    assert checked.verdict == "apply" and runs(marker) == 4  # nothing more runs after the yes


def test_an_unknown_setting_is_one_line() -> None:
    with pytest.raises(ConfigError, match="checks: expected one of after_review, before_review"):
        parse('[edits]\nchecks = "sometimes"\n', "config.toml")
