"""`assistant rewind` and `assistant redo` on the command line, in a real project whose
task was run through a real session: the list, a dry run that changes nothing, a
rewind that asks (and refuses to guess without a terminal), and the redo."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.cli.commands import main
from tests.core.session.test_rewind import FILES, hashes, run_the_three_turns
from tests.core.edits.test_vcs import make_repo


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "proj"
    make_repo(root, FILES)
    monkeypatch.chdir(root)
    return root


def test_the_list_a_dry_run_a_rewind_and_its_redo(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = hashes(project)
    run_the_three_turns(project)
    after = hashes(project)
    assert main(["rewind"]) == 0
    listed = capsys.readouterr().out
    assert "task" in listed and "change the files" in listed and "made.txt + (command)" in listed

    assert main(["rewind", "2", "--dry-run"]) == 0
    preview = capsys.readouterr().out
    assert "Rewind to before 2" in preview and "remove   made.txt" in preview and "create   gone.txt" in preview
    assert "2 exchanges leave the conversation" in preview and hashes(project) == after

    assert main(["rewind", "2"]) == 2  # no terminal to ask on: nothing done
    assert "pass --yes" in capsys.readouterr().err and hashes(project) == after

    assert main(["rewind", "2", "--yes"]) == 0
    assert "4 files put back" in capsys.readouterr().out and hashes(project) == before
    assert main(["redo"]) == 0
    assert "Redone" in capsys.readouterr().out and hashes(project) == after
    assert main(["redo"]) == 1
    assert "no rewind to redo" in capsys.readouterr().err


def test_a_point_that_is_not_there_is_one_line(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run_the_three_turns(project)
    assert main(["rewind", "9", "--yes"]) == 1
    assert "points are 1 to 3" in capsys.readouterr().err
    assert main(["rewind", "1", "--session", "nope", "--yes"]) == 1
    assert "no session" in capsys.readouterr().err
