"""Issue 24 item 15 in the app: /refactor in a repository that cannot take the commit
is refused before the model is asked, and a detached HEAD is said before the review."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from assistant.backends.scripted import ScriptedBackend
from assistant.core.config import Config
from assistant.core.edits.vcs import DETACHED
from assistant.ui.app import make_app
from tests.core.edits.gitrepo import git, make_repo
from tests.core.edits.test_refactor_flow import CALC, GOOD
from tests.ui.helpers import send, transcript_text, wait_for


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", "/dev/null")
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    root = make_repo(tmp_path / "proj", {"calc.py": CALC})
    monkeypatch.chdir(root)
    return root


def config() -> Config:
    c = Config()
    return replace(c, edits=replace(c.edits, whole_file_backends=()))


async def test_a_merge_in_progress_is_refused_before_the_model_is_asked(repo: Path) -> None:
    (repo / ".git" / "MERGE_HEAD").write_text(git(repo, "rev-parse", "HEAD"))
    backend = ScriptedBackend([GOOD], name="local")
    app = make_app(config(), backend=backend)
    async with app.run_test(size=(130, 40)) as pilot:
        await wait_for(pilot, lambda: app.session.backend.loaded)
        await send(pilot, "/refactor calc.py add type hints")
        await wait_for(pilot, lambda: "not asked" in transcript_text(app))
        assert "Refactor of calc.py: not asked: a merge is in progress" in transcript_text(app)
        assert backend.seen == []
    assert (repo / "calc.py").read_text() == CALC


async def test_a_detached_head_is_said_before_the_review(repo: Path) -> None:
    from assistant.ui.screens.review import ReviewScreen

    git(repo, "checkout", "-q", "--detach")
    app = make_app(config(), backend=ScriptedBackend([GOOD], name="local"))
    async with app.run_test(size=(130, 40)) as pilot:
        await wait_for(pilot, lambda: app.session.backend.loaded)
        await send(pilot, "/refactor calc.py add type hints")
        await wait_for(pilot, lambda: isinstance(app.screen, ReviewScreen))
        await wait_for(pilot, lambda: DETACHED in transcript_text(app))
        assert transcript_text(app).count(DETACHED) == 1


async def test_an_edit_a_kill_left_uncommitted_is_committed_as_the_apps_when_the_app_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Item 9: the next start finishes what the killed run wrote (so /undo reaches it),
    before anything else could file it as the user's work."""
    from tests.core.edits.test_vcs_interrupted import FIRST, ORIGINAL, killed_at, subjects, texts, trailers

    monkeypatch.setenv("GIT_CONFIG_GLOBAL", "/dev/null")
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    root = make_repo(tmp_path / "proj", ORIGINAL)
    killed_at(root, "after-write")
    assert subjects(root) == ["init"] and texts(root) == FIRST
    monkeypatch.chdir(root)
    app = make_app(config(), backend=ScriptedBackend([], name="local"), ledger=False)
    async with app.run_test(size=(130, 40)) as pilot:
        await wait_for(pilot, lambda: len(subjects(root)) == 2)
        await wait_for(pilot, lambda: "committed an edit a crash interrupted" in transcript_text(app))
        assert "Assistant-Backend: local" in trailers(root, "HEAD")
        await send(pilot, "/undo")
        await wait_for(pilot, lambda: texts(root) == ORIGINAL)
