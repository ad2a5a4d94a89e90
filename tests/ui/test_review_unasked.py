"""The TUI review of a proposal that creates a file nobody named (issue 10, item 11g):
it starts unchecked and marked, Accept all leaves it out, and only checking it
writes it. Bracketed names are labels as they are, not markup."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.app import App
from textual.widgets import Checkbox

from assistant.backends.scripted import ScriptedBackend
from assistant.core.config import Config
from assistant.core.edits.types import EditError, FileChange
from assistant.core.session.chat import ChatSession
from assistant.core.workflows.refactor import Proposal, Refactorer
from assistant.ui.screens.review import ReviewScreen

PROPOSAL = Proposal(
    "app/[id]/page.tsx", "tidy",
    (FileChange("app/[id]/page.tsx", "a\n", "b\n"), FileChange("docs/new.md", None, "# new\n")),
    unasked=("docs/new.md",),
)


class Host(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.chosen: list[object] = []

    def on_mount(self) -> None:
        self.push_screen(ReviewScreen(PROPOSAL, lambda p: p), self.chosen.append)


async def test_a_new_file_not_asked_for_starts_unchecked_and_accept_all_leaves_it_out() -> None:
    app = Host()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        boxes = list(screen.query(".file-box").results(Checkbox))
        assert [b.value for b in boxes] == [True, False]
        assert str(boxes[0].label) == "app/[id]/page.tsx"
        assert "new file, not asked for" in str(boxes[1].label)
        await pilot.press("a")
        await pilot.pause()
    assert app.chosen == [{"app/[id]/page.tsx": frozenset({0})}]


async def test_checking_the_new_file_writes_it_too() -> None:
    app = Host()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        app.screen.query_one("#file-1", Checkbox).value = True
        await pilot.pause()
        await pilot.press("a")
        await pilot.pause()
    assert app.chosen == [{"app/[id]/page.tsx": frozenset({0}), "docs/new.md": frozenset({0})}]


def test_apply_all_refuses_an_unasked_new_file_unless_allowed(tmp_path: Path) -> None:
    """The core refuses it too, whoever calls it without choosing it."""
    session = ChatSession(Config(), ScriptedBackend(name="local"), project_root=tmp_path)
    with pytest.raises(EditError, match="docs/new.md is a new file you did not ask for"):
        Refactorer(session, tmp_path).apply(PROPOSAL)
    assert not (tmp_path / "docs").exists()
