"""The TUI's review names the checks the project's files gave, and says plainly
when none will run the tests (issue 26, item 5); a found pytest that the edit
breaks is offered again, never written on the first yes."""

from __future__ import annotations

from pathlib import Path

from assistant.backends.scripted import ScriptedBackend
from assistant.ui.app import make_app
from tests.cli.test_refactor_checks import CALC, HINTS, RENAME, TESTS, config
from tests.core.edits.gitrepo import git, make_repo
from tests.ui.helpers import transcript_text, wait_for
from tests.ui.test_refactor_app import ask_for_review, checks_failed_shown


def summary(app) -> str:  # noqa: ANN001
    return str(app.screen.query_one("#review-summary").render())


async def test_the_review_says_no_tests_were_found(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.chdir(make_repo(tmp_path / "proj", {"calc.py": CALC}))
    app = make_app(config(), backend=ScriptedBackend([HINTS], name="local"))
    async with app.run_test(size=(130, 40)) as pilot:
        await ask_for_review(pilot, "/refactor calc.py add type hints")
        assert "no tests found: checked for syntax only" in summary(app)


async def test_the_review_names_the_found_tests_and_they_refuse_a_breaking_edit(tmp_path: Path,
                                                                               monkeypatch) -> None:  # noqa: ANN001
    root = make_repo(tmp_path / "proj", {"calc.py": CALC, "test_calc.py": TESTS})
    monkeypatch.chdir(root)
    app = make_app(config(), backend=ScriptedBackend([RENAME], name="local"))
    async with app.run_test(size=(130, 40)) as pilot:
        await ask_for_review(pilot, "/refactor calc.py rename mean")
        said = summary(app)
        assert "tests (pytest, found: test_calc.py): run once you accept" in said and "no tests" not in said
        await pilot.press("a")
        await wait_for(pilot, lambda: checks_failed_shown(app))
        shown = str(app.screen.query_one("#said Static").render())
        assert "tests (pytest, found: test_calc.py): failed" in shown
        await pilot.press("n")
    assert (root / "calc.py").read_text() == CALC and git(root, "rev-list", "--count", "HEAD").strip() == "1"


async def test_an_applied_edit_says_which_checks_it_passed(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    root = make_repo(tmp_path / "proj", {"calc.py": CALC, "test_calc.py": TESTS})
    monkeypatch.chdir(root)
    app = make_app(config(), backend=ScriptedBackend([HINTS], name="local"))
    async with app.run_test(size=(130, 40)) as pilot:
        await ask_for_review(pilot, "/refactor calc.py add type hints")
        await pilot.press("a")
        await wait_for(pilot, lambda: "Applied to calc.py" in transcript_text(app))
        assert "checks passed: syntax, tests" in transcript_text(app)
