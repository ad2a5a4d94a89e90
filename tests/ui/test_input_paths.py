"""Paths typed in the TUI (issue 10, item 3's TUI side): the session's root is the
project root (the git work tree's top), and `/add`, `/drop`, `/refactor` read
their paths from where the person stands, refusing in one line what leads out."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.backends.scripted import ScriptedBackend
from assistant.core.config import Config
from assistant.ui.app import make_app
from tests.core.edits.gitrepo import make_repo
from tests.ui.helpers import send, transcript_text, wait_for


@pytest.fixture
def in_sub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository with `target.py` and `sub/target.py`; the person stands in `sub`."""
    (tmp_path / "proj" / "sub").mkdir(parents=True)
    root = make_repo(
        tmp_path / "proj",
        {"target.py": "root = 1\n", "sub/target.py": "sub = 1\n", "sub/inner.py": "inner = 1\n",
         "sub/my notes.md": "notes\n"},
    )
    (tmp_path / "outside.py").write_text("x = 1\n")
    monkeypatch.chdir(root / "sub")
    return root


async def said(pilot, command: str, expected: str) -> str:
    await send(pilot, command)
    await wait_for(pilot, lambda: expected in transcript_text(pilot.app))
    return transcript_text(pilot.app)


async def test_the_session_root_is_the_work_tree_top_and_pins_are_read_from_here(in_sub: Path) -> None:
    app = make_app(Config(), backend=ScriptedBackend(), ledger=False)
    async with app.run_test(size=(120, 40)) as pilot:
        assert app.project_root == in_sub.resolve()  # before: the current folder, sub/
        await said(pilot, "/add target.py ../target.py", "Pinned target.py")
        assert "Pinned sub/target.py" in transcript_text(app)
        assert app.session.pinned_files() == ["sub/target.py", "target.py"]
        text = await said(pilot, "/add ../../outside.py", "Not pinned")
        assert "outside the project" in text
        await said(pilot, "/drop target.py", "Unpinned sub/target.py")
        assert app.session.pinned_files() == ["target.py"]
        await said(pilot, "/drop ../../outside.py", "Not unpinned")


async def test_refactor_reads_its_path_from_here_and_refuses_one_outside(in_sub: Path) -> None:
    app = make_app(Config(), backend=ScriptedBackend(["no edit here"]), ledger=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.session.backend.loaded)
        await said(pilot, "/refactor inner.py tidy it", "Asking for an edit of sub/inner.py: tidy it")
        await wait_for(pilot, lambda: not app.busy)
        await wait_for(pilot, lambda: "Refactor of sub/inner.py" in transcript_text(app))
        text = await said(pilot, "/refactor ../../outside.py", "Not refactored")
        assert "outside the project" in text and "Asking for an edit of ../../outside.py" not in text
        await said(pilot, '/refactor "my notes.md" tidy', "Asking for an edit of sub/my notes.md: tidy")


async def test_drop_takes_the_globs_add_takes(in_sub: Path) -> None:
    """`/drop sub/*.py` refused the glob `/add sub/*.py` had pinned with (issue 24, item 16)."""
    app = make_app(Config(), backend=ScriptedBackend(), ledger=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await said(pilot, "/add ../**/*.py", "Pinned sub/target.py")
        assert sorted(app.session.pinned_files()) == ["sub/inner.py", "sub/target.py", "target.py"]
        await said(pilot, "/drop *.py", "Unpinned sub/inner.py")
        assert app.session.pinned_files() == ["target.py"]
        await said(pilot, "/drop nothing/*.py", "was not pinned")
        await said(pilot, "/drop ../**", "Unpinned target.py")
        assert app.session.pinned_files() == []
