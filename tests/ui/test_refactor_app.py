"""The refactor workflow in the app through Pilot: /refactor, the review screen
(accept, reject), /undo; the checks after the yes (and before it, when set); and
pinned files (/add, /files, /drop)."""

from __future__ import annotations

import contextlib
import os
import signal
from dataclasses import replace
from pathlib import Path

import pytest

from assistant.backends.scripted import ScriptedBackend
from assistant.core.config import Config
from assistant.ui.app import make_app
from tests.core.edits.gitrepo import git, make_repo
from tests.core.edits.test_refactor_flow import CALC, GOOD
from tests.patience import FOREVER
from tests.ui.helpers import send, transcript_text, wait_for


@pytest.fixture
def repo(tmp_path: Path, monkeypatch) -> Path:
    root = make_repo(tmp_path / "proj", {"calc.py": CALC}, untracked={".env": "TOKEN=x\n", "blob.bin": b"\x00\x01\x02"})
    monkeypatch.chdir(root)  # the app's project is the current directory
    return root


def review_shown(app) -> bool:  # noqa: ANN001
    """The review screen is up and composed (pushed is not enough: its widgets mount
    after, a container's children after the container)."""
    from assistant.ui.screens.review import ReviewScreen

    screen = app.screen
    return (isinstance(screen, ReviewScreen) and bool(screen.query("#review-summary"))
            and len(screen.query(".hunk-box")) == sum(len(found) for found in screen.hunks))


def config() -> Config:
    c = Config()
    return replace(c, edits=replace(c.edits, whole_file_backends=()))


async def ask_for_review(pilot, command: str) -> None:  # noqa: ANN001
    """Once the model is loaded, send `/refactor …` and wait for its review."""
    await wait_for(pilot, lambda: pilot.app.session.backend.loaded)
    await send(pilot, command)
    await wait_for(pilot, lambda: review_shown(pilot.app))


async def test_review_then_accept_applies_and_commits_then_undo(repo: Path) -> None:
    from assistant.ui.screens.review import ReviewScreen

    app = make_app(config(), backend=ScriptedBackend([GOOD], name="local"))
    async with app.run_test(size=(130, 40)) as pilot:
        await ask_for_review(pilot, "/refactor calc.py add type hints")
        screen = app.screen
        assert screen.selected() == {"calc.py": frozenset({0})}
        assert (repo / "calc.py").read_text() == CALC  # nothing written while reviewing
        await pilot.press("a")  # accept all
        await wait_for(pilot, lambda: "Applied to calc.py" in transcript_text(app))
        assert "def add(a: int, b: int) -> int:" in (repo / "calc.py").read_text()
        assert git(repo, "log", "-1", "--format=%s").startswith("refactor(calc.py): add type hints")
        await send(pilot, "/undo")
        await wait_for(pilot, lambda: (repo / "calc.py").read_text() == CALC)


async def test_review_then_reject_writes_nothing(repo: Path) -> None:
    from assistant.ui.screens.review import ReviewScreen

    app = make_app(config(), backend=ScriptedBackend([GOOD], name="local"))
    async with app.run_test(size=(130, 40)) as pilot:
        await ask_for_review(pilot, "/refactor calc.py add type hints")
        await pilot.press("r")
        await wait_for(pilot, lambda: "rejected; nothing was written" in transcript_text(app))
        assert (repo / "calc.py").read_text() == CALC
        assert git(repo, "rev-list", "--count", "HEAD").strip() == "1"


async def test_a_proposal_that_does_not_apply_says_why(repo: Path) -> None:
    app = make_app(config(), backend=ScriptedBackend(["no blocks at all"], name="local"))
    async with app.run_test(size=(130, 40)) as pilot:
        await wait_for(pilot, lambda: app.session.backend.loaded)
        await send(pilot, "/refactor calc.py add type hints")
        await wait_for(pilot, lambda: "nothing applied" in transcript_text(app))
        assert (repo / "calc.py").read_text() == CALC


async def test_pinned_files_add_files_drop(repo: Path) -> None:
    backend = ScriptedBackend(["ok"], name="local")
    app = make_app(config(), backend=backend)
    async with app.run_test(size=(130, 40)) as pilot:
        await wait_for(pilot, lambda: backend.loaded)
        await send(pilot, "/add *.py blob.bin ../outside.py")
        await wait_for(pilot, lambda: "Pinned calc.py" in transcript_text(app))
        text = transcript_text(app)
        assert "blob.bin" in text and "binary" in text.lower()
        assert "outside.py" in text
        assert app.session.pinned_files() == ["calc.py"]
        await send(pilot, "/files")
        await wait_for(pilot, lambda: "Pinned files (tokens of local)" in transcript_text(app))
        await send(pilot, "what does it do?")
        await wait_for(pilot, lambda: len(backend.seen) == 1)
        assert any("File: calc.py" in m.content for m in backend.seen[0] if m.role == "system")
        await send(pilot, "/drop calc.py")
        await wait_for(pilot, lambda: "Unpinned calc.py" in transcript_text(app))
        assert app.session.pinned_files() == []


TWO_HUNKS = (
    "calc.py\n<<<<<<< SEARCH\ndef add(a, b):\n    return a+b\n=======\ndef add(a, b):\n    return a + b\n>>>>>>> REPLACE\n"
    "calc.py\n<<<<<<< SEARCH\ndef sub(a, b):\n    return a-b\n=======\ndef sub(a, b):\n    return a - b\n>>>>>>> REPLACE\n"
)
LONG = "def add(a, b):\n    return a+b\n" + "\n# filler\n" * 8 + "\ndef sub(a, b):\n    return a-b\n"


async def test_review_accepts_one_hunk_of_two(repo: Path) -> None:
    from textual.widgets import Checkbox

    from assistant.ui.screens.review import ReviewScreen

    (repo / "calc.py").write_text(LONG)
    git(repo, "commit", "-qam", "longer")
    app = make_app(config(), backend=ScriptedBackend([TWO_HUNKS], name="local"))
    async with app.run_test(size=(130, 50)) as pilot:
        await ask_for_review(pilot, "/refactor calc.py spaces around operators")
        screen = app.screen
        assert len(screen.hunks[0]) == 2
        screen.query_one("#hunk-0-1", Checkbox).value = False  # keep only the first hunk
        await pilot.pause()
        await pilot.click("#apply")
        await wait_for(pilot, lambda: "Applied to calc.py" in transcript_text(app))
        assert (repo / "calc.py").read_text() == LONG.replace("a+b", "a + b")  # sub() untouched


TESTS = "from calc import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n"
BREAKS = "calc.py\n<<<<<<< SEARCH\n    return a+b\n=======\n    return a-b\n>>>>>>> REPLACE\n"


def checked(**edits: object) -> Config:
    c = config()
    return replace(c, edits=replace(c.edits, **edits))


async def test_the_review_shows_a_check_the_edit_breaks_after_its_repair_round(repo: Path) -> None:
    import sys

    from assistant.ui.screens.review import ReviewScreen

    (repo / "test_calc.py").write_text(TESTS)
    git(repo, "add", "test_calc.py")
    git(repo, "commit", "-qm", "tests")
    pytest_cmd = f"env PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 {sys.executable} -m pytest -q -p no:cacheprovider"
    app = make_app(checked(test_cmd=pytest_cmd, check_timeout=60, checks="before_review"),
                   backend=ScriptedBackend([BREAKS, BREAKS], name="local"))
    async with app.run_test(size=(130, 40)) as pilot:
        await wait_for(pilot, lambda: app.session.backend.loaded)
        await send(pilot, "/refactor calc.py tidy add")
        await wait_for(pilot, lambda: review_shown(app))  # four pytest runs
        summary = str(app.screen.query_one("#review-summary").render())
        assert "tests: failed" in summary and "after one retry" in summary
        assert "test_calc.py" in summary  # the first lines that say something of its output
        await pilot.press("r")
        await wait_for(pilot, lambda: "rejected; nothing was written" in transcript_text(app))
    assert (repo / "calc.py").read_text() == CALC


def running_checks() -> list[Path]:
    """The files in which each running check names its process group (in its scratch copy)."""
    from assistant.core.edits.checks import RUNNING, SCRATCH
    from assistant.core.paths import Paths

    return list((Paths.resolve().data_dir / SCRATCH).glob(f"*/{RUNNING}"))


def kill_checks() -> None:
    for named in running_checks():
        with contextlib.suppress(OSError, ValueError):
            os.killpg(int(named.read_text()), signal.SIGKILL)


async def escape_ends_the_checks(pilot, app) -> None:  # noqa: ANN001 - a Pilot and its app
    """Esc while a check runs: the refactor says it was cancelled and no check is left running."""
    await pilot.press("escape")
    try:
        await wait_for(pilot, lambda: "cancelled while its checks ran" in transcript_text(app))
        assert not running_checks()
    finally:
        kill_checks()  # were the Esc lost, the check would sleep on for ever


async def test_esc_stops_a_running_check_and_nothing_is_offered(repo: Path) -> None:
    # The check sleeps for ever and may run as long: only the Esc can end it within the wait.
    app = make_app(checked(lint_cmd=f"sleep {FOREVER:.0f}", check_timeout=FOREVER, checks="before_review"),
                   backend=ScriptedBackend([GOOD], name="local"))
    async with app.run_test(size=(130, 40)) as pilot:
        await wait_for(pilot, lambda: app.session.backend.loaded)
        await send(pilot, "/refactor calc.py add type hints")
        await wait_for(pilot, lambda: bool(running_checks()))  # the model answered; its check runs
        await escape_ends_the_checks(pilot, app)
    assert (repo / "calc.py").read_text() == CALC


# -- the checks wait for the yes (issue 24, item 2) ------------------------------------


def checks_failed_shown(app) -> bool:  # noqa: ANN001
    from assistant.ui.screens.review import ChecksFailedScreen

    return isinstance(app.screen, ChecksFailedScreen) and bool(app.screen.query("#said Static"))


async def test_a_reject_runs_no_model_written_code(repo: Path, tmp_path: Path) -> None:
    """Was: the checks ran the proposal before the review was shown."""
    from tests.core.edits.test_refactor_consent import check

    marker = tmp_path / "ran"
    app = make_app(checked(test_cmd=check(marker), check_timeout=60), backend=ScriptedBackend([GOOD], name="local"))
    async with app.run_test(size=(130, 40)) as pilot:
        await ask_for_review(pilot, "/refactor calc.py add type hints")
        assert "tests: run once you accept" in str(app.screen.query_one("#review-summary").render())
        assert not marker.exists()
        await pilot.press("r")
        await wait_for(pilot, lambda: "rejected; nothing was written" in transcript_text(app))
    assert not marker.exists() and (repo / "calc.py").read_text() == CALC


async def test_an_accept_runs_the_checks_then_applies(repo: Path, tmp_path: Path) -> None:
    from tests.core.edits.test_refactor_consent import check, runs

    marker = tmp_path / "ran"
    app = make_app(checked(test_cmd=check(marker), check_timeout=60), backend=ScriptedBackend([GOOD], name="local"))
    async with app.run_test(size=(130, 40)) as pilot:
        await ask_for_review(pilot, "/refactor calc.py add type hints")
        await pilot.press("a")
        await wait_for(pilot, lambda: "Applied to calc.py" in transcript_text(app))
    assert runs(marker) == 2 and "Assistant-Checks: syntax, tests" in git(repo, "log", "-1", "--format=%B")


@pytest.mark.parametrize("second", ["n", "y"])
async def test_a_check_failing_after_the_accept_asks_again(repo: Path, tmp_path: Path, second: str) -> None:
    from tests.core.edits.test_refactor_consent import BREAKS as MARKED, check

    marker = tmp_path / "ran"
    backend = ScriptedBackend([MARKED, GOOD], name="local")
    app = make_app(checked(test_cmd=check(marker), check_timeout=60), backend=backend)
    async with app.run_test(size=(130, 40)) as pilot:
        await ask_for_review(pilot, "/refactor calc.py tidy")
        await pilot.press("a")
        await wait_for(pilot, lambda: checks_failed_shown(app))
        said = str(app.screen.query_one("#said Static").render())
        assert "tests: failed" in said and "Nothing has been written" in said
        assert (repo / "calc.py").read_text() == CALC
        await pilot.press(second)
        done = "Applied to calc.py" if second == "y" else "its checks do not pass; nothing was written"
        await wait_for(pilot, lambda: done in transcript_text(app))
    assert len(backend.seen) == 1  # no repair round: a repair would need a review of its own
    if second == "y":
        assert "BROKEN" in (repo / "calc.py").read_text()
    else:
        assert (repo / "calc.py").read_text() == CALC and git(repo, "rev-list", "--count", "HEAD").strip() == "1"


async def test_esc_stops_a_check_running_after_the_accept_and_nothing_is_written(repo: Path) -> None:
    app = make_app(checked(lint_cmd=f"sleep {FOREVER:.0f}", check_timeout=FOREVER),
                   backend=ScriptedBackend([GOOD], name="local"))
    async with app.run_test(size=(130, 40)) as pilot:
        await ask_for_review(pilot, "/refactor calc.py add type hints")
        assert not running_checks()
        await pilot.press("a")
        await wait_for(pilot, lambda: bool(running_checks()))
        await escape_ends_the_checks(pilot, app)
    assert (repo / "calc.py").read_text() == CALC
