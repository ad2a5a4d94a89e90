"""`assistant refactor` runs the project's checks, which execute the proposed code,
only after the user's yes (issue 24, item 2): a no runs nothing; a yes runs them,
then applies; a check that fails asks again, and only a second yes writes; `--yes`
never writes an edit whose checks fail. `checks = "before_review"` is the old flow."""

from __future__ import annotations

import argparse
import io
import json
from pathlib import Path

import pytest
from rich.console import Console

from assistant.backends.scripted import ScriptedBackend
from assistant.cli.refactor import EXIT_DECLINED, EXIT_REFUSED, cmd_refactor
from assistant.core.config import Config
from assistant.core.session.chat import ChatSession
from assistant.core.store.ledger import Ledger
from tests.core.edits.gitrepo import git, make_repo
from tests.core.edits.test_refactor_consent import BREAKS, checked_config, runs
from tests.core.edits.test_refactor_flow import CALC, GOOD


@pytest.fixture
def repo(tmp_path: Path, monkeypatch) -> Path:  # noqa: ANN001
    root = make_repo(tmp_path / "proj", {"calc.py": CALC})
    monkeypatch.chdir(root)
    return root


def refactor(
    root: Path, config: Config, answers: list[str], *, yes: bool = False, as_json: bool = False
) -> tuple[int, str, ScriptedBackend]:
    backend = ScriptedBackend(answers, name="local")
    session = ChatSession(config, backend, ledger=Ledger.open, project_root=root)
    out = io.StringIO()
    args = argparse.Namespace(paths=["calc.py"], message="tidy", yes=yes, allow_new=False, json=as_json)
    code = cmd_refactor(config, args, session=session, console=Console(file=out, width=200))
    return code, out.getvalue(), backend


def answering(monkeypatch, marker: Path, *answers: bool) -> list[tuple[str, int]]:  # noqa: ANN001
    """The user's answers, in order; each question is kept with how many check runs
    had happened when it was asked."""
    asked: list[tuple[str, int]] = []
    left = list(answers)

    def confirm(question: str) -> bool:
        asked.append((question, runs(marker)))
        return left.pop(0)

    monkeypatch.setattr("assistant.cli.refactor.confirm", confirm)
    return asked


def commits(root: Path) -> int:
    return int(git(root, "rev-list", "--count", "HEAD"))


def test_a_no_at_the_review_runs_no_model_written_code(repo: Path, tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    """Was: the checks ran the proposal (and its repair round) before the question."""
    marker = tmp_path / "ran"
    asked = answering(monkeypatch, marker, False)
    code, out, _ = refactor(repo, checked_config(marker), [GOOD])
    assert code == EXIT_DECLINED and asked == [("Apply to calc.py? [y/N] ", 0)]
    assert not marker.exists() and "tests: run once you accept (they execute this code)" in out
    assert (repo / "calc.py").read_text() == CALC and commits(repo) == 1


def test_a_yes_runs_the_checks_then_applies(repo: Path, tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    marker = tmp_path / "ran"
    asked = answering(monkeypatch, marker, True)
    code, out, _ = refactor(repo, checked_config(marker), [GOOD])
    assert code == 0 and asked == [("Apply to calc.py? [y/N] ", 0)] and runs(marker) == 2
    assert "tests: passed" in out and "applied calc.py" in out
    assert "Assistant-Checks: syntax, tests" in git(repo, "log", "-1", "--format=%B")


@pytest.mark.parametrize("second", [False, True])
def test_a_check_failing_after_the_yes_asks_again_and_only_a_second_yes_writes(
    repo: Path, tmp_path: Path, monkeypatch, second: bool  # noqa: ANN001
) -> None:
    marker = tmp_path / "ran"
    asked = answering(monkeypatch, marker, True, second)
    code, out, backend = refactor(repo, checked_config(marker), [BREAKS, GOOD])
    assert asked == [("Apply to calc.py? [y/N] ", 0), ("Its checks do not pass. Apply anyway? [y/N] ", 2)]
    assert code == (0 if second else EXIT_REFUSED) and "tests: failed" in out and len(backend.seen) == 1  # no repair
    if second:
        assert "BROKEN" in (repo / "calc.py").read_text() and commits(repo) == 2
        trailers = [line for line in git(repo, "log", "-1", "--format=%B").splitlines() if "Checks:" in line]
        assert trailers == ["Assistant-Checks: syntax"]  # not tests: it failed
    else:
        assert (repo / "calc.py").read_text() == CALC and commits(repo) == 1
        [record] = Ledger.open().proposals()
        assert record.outcome == "rejected"
        assert [(c["name"], c["status"]) for c in json.loads(record.checks)] == [("syntax", "passed"), ("tests", "failed")]


def test_yes_never_writes_an_edit_whose_checks_fail(repo: Path, tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    marker = tmp_path / "ran"
    asked = answering(monkeypatch, marker)
    code, out, backend = refactor(repo, checked_config(marker), [BREAKS, GOOD], yes=True)
    assert code == EXIT_REFUSED and asked == [] and "not applied: its checks do not pass" in out
    assert len(backend.seen) == 1 and runs(marker) == 2
    assert (repo / "calc.py").read_text() == CALC and commits(repo) == 1


def test_json_reports_the_checks_run_after_the_yes(repo: Path, tmp_path: Path, capsys) -> None:  # noqa: ANN001
    marker = tmp_path / "ran"
    code, _, _ = refactor(repo, checked_config(marker), [GOOD], yes=True, as_json=True)
    [row] = json.loads(capsys.readouterr().out)["files"]
    assert code == 0 and row["outcome"] == "applied"
    assert row["checks"] == [{"name": "syntax", "status": "passed"}, {"name": "tests", "status": "passed"}]


def test_before_review_runs_the_checks_and_the_repair_round_before_the_question(
    repo: Path, tmp_path: Path, monkeypatch  # noqa: ANN001
) -> None:
    marker = tmp_path / "ran"
    asked = answering(monkeypatch, marker, True)
    code, out, backend = refactor(repo, checked_config(marker, checks="before_review"), [BREAKS, GOOD])
    assert code == 0 and asked == [("Apply to calc.py? [y/N] ", 4)] and len(backend.seen) == 2
    assert runs(marker) == 4 and "after one retry" in out  # nothing more ran after the yes
