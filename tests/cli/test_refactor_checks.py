"""`assistant refactor` checks an edit with the project's own tests by default, and
can be scripted (issue 26, items 5 and 9): a test-breaking edit on a repository
with pytest tests and no config is refused; the output says which checks ran, or
once that none was found; off a terminal without `--yes` nothing is written and
the exit code says declined; the exit codes tell applied, declined, refused and
error apart; a batch's table in a file is one plain row per file."""

from __future__ import annotations

import argparse
import io
import json
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from rich.console import Console

from assistant.backends.scripted import ScriptedBackend
from assistant.cli.refactor import EXIT_DECLINED, EXIT_REFUSED, cmd_refactor
from assistant.core.config import Config
from assistant.core.session.chat import ChatSession
from assistant.core.store.ledger import Ledger
from tests.core.edits.gitrepo import git, make_repo

CALC = "def mean(xs):\n    return sum(xs) / len(xs)\n"
TESTS = "from calc import mean\n\n\ndef test_mean():\n    assert mean([1, 2, 3]) == 2\n"
RENAME = "calc.py\n<<<<<<< SEARCH\ndef mean(xs):\n=======\ndef average(xs):\n>>>>>>> REPLACE\n"  # breaks the import
HINTS = "calc.py\n<<<<<<< SEARCH\ndef mean(xs):\n=======\ndef mean(xs: list[float]) -> float:\n>>>>>>> REPLACE\n"


def config(**edits: object) -> Config:
    c = Config()  # [edits] test_cmd and lint_cmd as a new user has them: auto
    return replace(c, edits=replace(c.edits, whole_file_backends=(), **edits))


def refactor(root: Path, answers: list[str], *, paths: tuple[str, ...] = ("calc.py",), yes: bool = True,
             width: int = 200, **edits: object) -> tuple[int, str]:
    c = config(**edits)
    backend = ScriptedBackend(answers, name="local")
    session = ChatSession(c, backend, ledger=Ledger.open, project_root=root, batch=len(paths) > 1)
    out = io.StringIO()
    args = argparse.Namespace(paths=list(paths), message="tidy", yes=yes, allow_new=False)
    try:
        code = cmd_refactor(c, args, session=session, console=Console(file=out, width=width))
    finally:
        session.close()
    return code, out.getvalue()


@pytest.fixture
def repo(tmp_path: Path, monkeypatch) -> Path:  # noqa: ANN001
    root = make_repo(tmp_path / "proj", {"calc.py": CALC, "test_calc.py": TESTS})
    monkeypatch.chdir(root)
    return root


def commits(root: Path) -> int:
    return int(git(root, "rev-list", "--count", "HEAD"))


def test_a_test_breaking_edit_on_a_repository_with_pytest_tests_and_no_config_is_refused(repo: Path) -> None:
    """Was: `[edits] test_cmd` empty, nothing found the tests, the rename was committed (exit 0)."""
    code, out = refactor(repo, [RENAME, RENAME])
    assert code == EXIT_REFUSED, out
    assert "tests (pytest, found: test_calc.py): failed" in out and "not applied: its checks do not pass" in out
    assert (repo / "calc.py").read_text() == CALC and commits(repo) == 1


def test_an_edit_that_keeps_the_found_tests_passing_is_applied_and_says_so(repo: Path) -> None:
    code, out = refactor(repo, [HINTS])
    assert code == 0, out
    assert "checks: syntax passed; tests (pytest, found: test_calc.py): passed" in out
    assert "Assistant-Checks: syntax, tests" in git(repo, "log", "-1", "--format=%B")


def test_with_no_tests_found_the_review_says_it_checked_the_syntax_only(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    root = make_repo(tmp_path / "proj", {"calc.py": CALC})
    monkeypatch.chdir(root)
    code, out = refactor(root, [HINTS])
    assert code == 0 and "no tests found: checked for syntax only" in out


def test_test_cmd_set_empty_turns_the_found_tests_off(repo: Path) -> None:
    code, out = refactor(repo, [RENAME], test_cmd="")
    assert code == 0 and 'tests turned off ([edits] test_cmd = ""): checked for syntax only' in out
    assert "average" in (repo / "calc.py").read_text()


def test_a_yes_batch_says_once_at_the_top_that_no_tests_were_found(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    files = {f"m{i}.py": f"def f{i}(x):\n    return x\n" for i in range(3)}
    root = make_repo(tmp_path / "proj", files)
    monkeypatch.chdir(root)
    answers = [f"m{i}.py\n<<<<<<< SEARCH\n    return x\n=======\n    return x + 0\n>>>>>>> REPLACE\n" for i in range(3)]

    class PerFile(ScriptedBackend):
        def stream(self, messages, cancel):  # noqa: ANN001, ANN202
            self.answers = [next(a for a in answers if a.split("\n")[0] in messages[-1].content)]
            self._turn = 0
            yield from super().stream(messages, cancel)

    c = config()
    session = ChatSession(c, PerFile(name="local"), ledger=Ledger.open, project_root=root, batch=True)
    out = io.StringIO()
    args = argparse.Namespace(paths=list(files), message="m", yes=True, allow_new=False)
    code = cmd_refactor(c, args, session=session, console=Console(file=out, width=200))
    session.close()
    text = out.getvalue()
    assert code == 0 and text.count("no tests found: checked for syntax only") == 1
    assert text.index("no tests found") < text.index("m0.py")


def test_off_a_terminal_without_yes_the_diff_is_printed_and_the_edit_declined(repo: Path, monkeypatch) -> None:  # noqa: ANN001
    """Was: it said "will write: calc.py", read the answer from the pipe, and exited 0."""
    monkeypatch.setattr(sys, "stdin", io.StringIO("y\n"))  # a pipe: nobody reviewed the diff
    code, out = refactor(repo, [HINTS], yes=False)
    assert code == EXIT_DECLINED
    assert "+def mean(xs: list[float]) -> float:" in out and "calc.py: declined: no terminal to review; pass --yes to apply" in out
    assert "will write" not in out and (repo / "calc.py").read_text() == CALC and commits(repo) == 1


def test_off_a_terminal_an_edit_that_does_not_parse_is_refused(repo: Path, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    broken = "calc.py\n<<<<<<< SEARCH\ndef mean(xs):\n=======\ndef mean(xs:\n>>>>>>> REPLACE\n"
    code, out = refactor(repo, [broken, broken], yes=False)
    assert code == EXIT_REFUSED and "not applied: the edit does not parse" in out


def test_a_batch_in_a_file_is_one_plain_row_per_file_however_narrow(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    """Was: Rich's table at the pipe's 80 columns, wrapped into a word per line."""
    files = {"a_rather_long_module_name_for_the_table.py": "x = 1\n", "b.py": "y = 2\n"}
    root = make_repo(tmp_path / "proj", files)
    monkeypatch.chdir(root)
    c = config()
    session = ChatSession(c, ScriptedBackend(["no edit"] * 4, name="local"), ledger=Ledger.open, project_root=root,
                          batch=True)
    out = io.StringIO()
    args = argparse.Namespace(paths=list(files), message="m", yes=True, allow_new=False)
    code = cmd_refactor(c, args, session=session, console=Console(file=out, width=40))
    session.close()
    rows = out.getvalue()[out.getvalue().index("file  "):].splitlines()
    assert code == 1 and len(rows) == 3  # the model's answers held no edit: an error
    assert rows[0].split() == ["file", "backend", "outcome", "checks", "tokens", "in/out", "gen", "tok/s", "cost",
                               "time", "commit"]
    assert rows[1].split()[:3] == ["a_rather_long_module_name_for_the_table.py", "local", "failed"]
    assert rows[2].startswith("b.py ") and len(rows[1]) > 40


def test_json_says_refused_for_an_edit_its_checks_refuse(repo: Path, capsys) -> None:  # noqa: ANN001
    import jsonschema

    from tests.cli.test_ask_json import SCHEMA

    c = config()
    session = ChatSession(c, ScriptedBackend([RENAME, RENAME], name="local"), ledger=Ledger.open, project_root=repo)
    args = argparse.Namespace(paths=["calc.py"], message="m", yes=True, allow_new=False, json=True)
    assert cmd_refactor(c, args, session=session, console=Console(file=io.StringIO())) == EXIT_REFUSED
    session.close()
    out = json.loads(capsys.readouterr().out)
    jsonschema.validate(out, SCHEMA)
    [row] = out["files"]
    assert row["outcome"] == "refused" and {"name": "tests", "status": "failed"} in row["checks"]
