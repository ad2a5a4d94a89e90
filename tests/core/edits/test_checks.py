"""The project's own checks on a scratch copy: real git repositories with a tiny
real pytest suite inside; a hanging check killed with its children at the timeout;
a missing binary is one clear line; a test that failed before is not blamed; the
scratch copy is gone afterwards, and a killed process's copy at the next start."""

from __future__ import annotations

import contextlib
import json
import os
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from assistant.core import sandbox
from assistant.core.config import Config
from assistant.core.edits.checks import cleanup_scratch, run_checks, scratch_copy
from assistant.core.edits.types import FileChange
from assistant.core.paths import Paths
from tests.core.edits.gitrepo import make_repo
from tests.patience import FOREVER, PATIENCE, wait_until

CALC = "def add(a, b):\n    return a + b\n"
TEST = "from calc import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n"
# The tiny suite needs none of this venv's plugins (loading them takes most of a run).
PYTEST = f"env PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 {sys.executable} -m pytest -q -p no:cacheprovider"


def gone(pid: int, within: float = PATIENCE) -> bool:
    """Whether process `pid` ends within `within` seconds."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


@contextlib.contextmanager
def checks_ended_within_patience() -> Iterator[None]:
    """A check the code under test must end sleeps FOREVER: one still running after
    PATIENCE is killed (the test fails then, and leaves nothing running)."""
    scratch = Paths.resolve().data_dir / "scratch"
    done = threading.Event()
    killed: list[int] = []

    def watch() -> None:
        if not done.wait(PATIENCE):
            for named in scratch.glob("*/check.pgid"):
                killed.append(sandbox.sweep(named.parent.name))  # its runs are tagged with the folder's name

    threading.Thread(target=watch, daemon=True).start()
    try:
        yield
    finally:
        done.set()
    assert not killed, "the check still ran after PATIENCE"


def edits(**settings: object):
    """`[edits]` with the commands given and no other (none found in the project)."""
    config = Config()
    return replace(config.edits, **{"lint_cmd": "", "test_cmd": "", **settings})


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "proj", {"calc.py": CALC, "test_calc.py": TEST})


def change(before: str, after: str) -> FileChange:
    return FileChange("calc.py", before, after)


def test_an_edit_that_breaks_a_test_fails_and_one_that_keeps_it_passes(repo: Path) -> None:
    config = edits(test_cmd=PYTEST, check_timeout=60)
    [bad] = run_checks(repo, [change(CALC, CALC.replace("a + b", "a - b"))], config, threading.Event())
    assert bad.status == "failed" and "assert" in bad.output and not bad.passed
    [good] = run_checks(repo, [change(CALC, "def add(a: int, b: int) -> int:\n    return a + b\n")], config,
                        threading.Event())
    assert good.status == "passed" and good.passed
    assert (repo / "calc.py").read_text() == CALC  # the user's files are never touched


@pytest.mark.parametrize("ci", ["-u CI -u BUILD_NUMBER", "CI=1"])
def test_the_summary_lines_are_the_runners_own_summary_with_or_without_ci(repo: Path, ci: str) -> None:
    # Under CI pytest writes the assertion's explanation, indented, below its FAILED line.
    config = edits(test_cmd=f"env {ci} {PYTEST.removeprefix('env ')}", check_timeout=60)
    [bad] = run_checks(repo, [change(CALC, CALC.replace("a + b", "a - b"))], config, threading.Event())
    first, last = bad.summary_lines(2)
    assert first.startswith("FAILED test_calc.py::test_add") and last.startswith("1 failed")


def test_a_test_that_failed_before_is_not_blamed_on_the_edit(repo: Path) -> None:
    (repo / "test_other.py").write_text("def test_broken():\n    assert False\n")  # untracked, not ignored
    config = edits(test_cmd=PYTEST, check_timeout=60)
    [outcome] = run_checks(repo, [change(CALC, CALC + "\n\nX = 1\n")], config, threading.Event())
    assert outcome.status == "failed before" and outcome.passed


def test_a_hanging_check_is_killed_at_the_timeout_with_its_children(repo: Path, tmp_path: Path) -> None:
    marker = tmp_path / "child.pid"
    # It hangs only on the edited code (the unchanged copy's run passes at once), leaving a
    # child behind that sleeps for ever (and holds the output pipe): only the timeout ends it.
    hang = f"sh -c 'grep -q HANG calc.py || exit 0; sleep {FOREVER:.0f} & echo $! > {marker}; wait'"
    start = time.monotonic()
    edit = change(CALC, CALC + "\nHANG = 1\n")
    with checks_ended_within_patience():
        [outcome] = run_checks(repo, [edit], edits(lint_cmd=hang, check_timeout=1), threading.Event())
    # A run that waited the child out would take FOREVER; a working one takes about a second.
    assert outcome.status == "timed out" and time.monotonic() - start < FOREVER / 2
    assert gone(int(marker.read_text())), "the check's child outlived it"


def test_a_missing_lint_binary_is_one_clear_line(repo: Path) -> None:
    [outcome] = run_checks(repo, [change(CALC, CALC + "\n")], edits(lint_cmd="no-such-linter {files}"),
                           threading.Event())
    assert outcome.status == "could not run" and "no-such-linter" in outcome.output
    assert "\n" not in outcome.output


def test_a_cancel_stops_a_running_check(repo: Path) -> None:
    cancel = threading.Event()
    scratch = Paths.resolve().data_dir / "scratch"

    def cancel_once_running() -> None:
        wait_until(lambda: any(scratch.glob("*/check.pgid")), "the check runs")
        cancel.set()

    threading.Thread(target=cancel_once_running, daemon=True).start()
    start = time.monotonic()
    config = edits(lint_cmd=f"sleep {FOREVER:.0f}", check_timeout=FOREVER)
    with checks_ended_within_patience():
        [outcome] = run_checks(repo, [change(CALC, CALC + "\n")], config, cancel)
    # Only the cancel can end the check before FOREVER; a working one ends at once.
    assert outcome.status == "cancelled" and time.monotonic() - start < FOREVER / 2


def test_files_expands_to_the_changed_paths(repo: Path, tmp_path: Path) -> None:
    seen = tmp_path / "seen.txt"
    [outcome] = run_checks(repo, [change(CALC, CALC + "\n")], edits(lint_cmd=f"echo {{files}} > {seen}"),
                           threading.Event())
    assert outcome.status == "passed" and seen.read_text().strip() == "calc.py"


def test_the_scratch_copy_is_gone_afterwards_and_a_killed_one_at_the_next_start(repo: Path) -> None:
    paths = Paths.resolve()
    run_checks(repo, [change(CALC, CALC + "\n")], edits(lint_cmd="true"), threading.Event())
    scratch = paths.data_dir / "scratch"
    assert list(scratch.iterdir()) == []
    with pytest.raises(RuntimeError):
        with scratch_copy(repo, paths) as copy:
            assert (copy / "calc.py").read_text() == CALC and not (copy / ".git").exists()
            raise RuntimeError("any error")
    assert list(scratch.iterdir()) == []
    # A process killed mid-check (SIGKILL) leaves its copy, named by its pid.
    dead = scratch / "999999999-abc"
    (dead / "proj").mkdir(parents=True)
    mine = scratch / f"{os.getpid()}-live"
    mine.mkdir()
    assert cleanup_scratch(paths) == [dead] and mine.exists() and not dead.exists()


def test_an_edit_that_breaks_a_test_is_repaired_on_the_second_answer_and_committed_with_its_trailer(
    repo: Path,
) -> None:
    from assistant.backends.scripted import ScriptedBackend
    from assistant.core.session.chat import ChatSession
    from assistant.core.store.ledger import Ledger
    from assistant.core.workflows.refactor import Refactorer
    from tests.core.edits.gitrepo import git

    breaks = "calc.py\n<<<<<<< SEARCH\n    return a + b\n=======\n    return a - b\n>>>>>>> REPLACE\n"
    keeps = "calc.py\n<<<<<<< SEARCH\n    return a + b\n=======\n    return b + a\n>>>>>>> REPLACE\n"
    config = Config()
    config = replace(config, edits=replace(config.edits, whole_file_backends=(), test_cmd=PYTEST, check_timeout=60,
                                           checks="before_review"))  # the repair round comes before the review
    backend = ScriptedBackend([breaks, keeps], name="local")
    r = Refactorer(ChatSession(config, backend, ledger=Ledger.open, project_root=repo), repo)
    proposal = r.propose("calc.py", "tidy add", threading.Event())
    assert proposal.retried and proposal.checks_pass and proposal.checks == ("syntax", "tests")
    said = backend.seen[-1][-1].content
    assert "checks fail" in said and "tests: failed" in said and "assert" in said
    r.apply(proposal)
    assert "Assistant-Checks: syntax, tests" in git(repo, "log", "-1", "--format=%B")
    assert (repo / "calc.py").read_text() == CALC.replace("a + b", "b + a")
    [record] = Ledger.open().proposals()  # what the next issue's quality routing reads
    assert (record.outcome, record.edit_format, record.parsed, record.repairs) == ("applied", "search-replace", True, 1)
    checks = json.loads(record.checks)
    assert [(c["name"], c["status"]) for c in checks] == [("syntax", "passed"), ("tests", "passed")]
    assert checks[1]["seconds"] > 0
    assert record.change_id == git(repo, "rev-parse", "HEAD").strip() and record.undone_at is None
    r.undo()  # /undo is recorded against the edit it takes back
    [record] = Ledger.open().proposals()
    assert record.undone_at is not None and (repo / "calc.py").read_text() == CALC


def test_an_edit_that_stays_broken_is_never_committed_in_batch_mode(repo: Path, monkeypatch) -> None:  # noqa: ANN001
    import argparse
    import io

    from rich.console import Console

    from assistant.backends.scripted import ScriptedBackend
    from assistant.cli.refactor import EXIT_REFUSED, cmd_refactor
    from assistant.core.session.chat import ChatSession
    from assistant.core.store.ledger import Ledger
    from tests.core.edits.gitrepo import git

    breaks = "calc.py\n<<<<<<< SEARCH\n    return a + b\n=======\n    return a - b\n>>>>>>> REPLACE\n"
    config = Config()
    config = replace(config, edits=replace(config.edits, whole_file_backends=(), test_cmd=PYTEST, check_timeout=60))
    session = ChatSession(config, ScriptedBackend([breaks, breaks], name="local"), ledger=Ledger.open, project_root=repo)
    monkeypatch.chdir(repo)
    out = io.StringIO()
    args = argparse.Namespace(paths=["calc.py"], message="tidy add", yes=True, allow_new=False)
    code = cmd_refactor(config, args, session=session, console=Console(file=out, width=200))
    text = out.getvalue()
    assert code == EXIT_REFUSED and "tests: failed" in text and "not applied: its checks do not pass" in text
    assert (repo / "calc.py").read_text() == CALC and "refactor(" not in git(repo, "log", "--format=%s")


def test_a_claude_proposal_that_breaks_a_test_is_repaired_on_its_second_answer(repo: Path, fake) -> None:  # noqa: ANN001
    """Through the real anthropic SDK and the loopback Messages API: the repair round
    goes to the same model, and only the answer whose tests pass is committed."""
    from assistant.core.session.chat import ChatSession
    from assistant.core.store.ledger import Ledger
    from assistant.core.workflows.refactor import Refactorer
    from tests.backends.claude.conftest import claude_config, claude_from
    from tests.core.edits.gitrepo import git
    from tests.fake_anthropic import Answer

    breaks = "calc.py\n<<<<<<< SEARCH\n    return a + b\n=======\n    return a - b\n>>>>>>> REPLACE\n"
    keeps = "calc.py\n<<<<<<< SEARCH\n    return a + b\n=======\n    return b + a\n>>>>>>> REPLACE\n"
    fake.enqueue(Answer(breaks), Answer(keeps))
    config = claude_config(fake.base_url)
    config = replace(config, edits=replace(config.edits, test_cmd=PYTEST, check_timeout=60, checks="before_review"))
    backend = claude_from(config)
    backend.load()
    r = Refactorer(ChatSession(config, backend, ledger=Ledger.open, project_root=repo), repo)
    proposal = r.propose("calc.py", "tidy add", threading.Event())
    assert proposal.retried and proposal.checks == ("syntax", "tests")
    second = fake.message_requests()[-1].body.decode()
    assert "checks fail" in second and "tests: failed" in second  # the test's output went back to Claude
    r.apply(proposal)
    message = git(repo, "log", "-1", "--format=%B")
    assert "Assistant-Backend: claude" in message and "Assistant-Checks: syntax, tests" in message
