"""/rewind and /redo in the TUI (issue 28), through the real app: a task that edits two
files, makes one with a command and deletes one is rewound from the list, its preview
naming each file; the files are back byte for byte and its exchange leaves the
transcript; /redo brings both back. A change the user made after the task is named in
the preview as kept, and stays unless they say otherwise. A rewind a killed run left
is finished at the next start, and a note says so.

The scripted backend calls the tools natively (`tool_calls=True`); `[tools] mode` is
auto, so no step asks. The app's project is the current directory.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from assistant.backends.scripted import ScriptedBackend
from assistant.core.checkpoints import Snapshots, interrupted, plan, restore
from assistant.core.config import Config
from assistant.ui.app import make_app
from assistant.ui.screens.rewind import RewindScreen
from tests.core.session.test_rewind import hashes, make_project, task_script
from tests.ui.helpers import entries, send, wait_for

@pytest.fixture(params=["git", "plain"])
def project(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = make_project(tmp_path, request.param)
    monkeypatch.chdir(root)
    return root


def app_with_script():  # noqa: ANN201
    config = Config().with_overrides({"tools.mode": "auto"}, "test")
    return make_app(config, backend=ScriptedBackend(task_script(), tool_calls=True))


def users(app) -> list[str]:  # noqa: ANN001
    """The questions the transcript shows (a task as typed, or as a redrawn chat stores it)."""
    return [e.text.removeprefix("/task ").removeprefix("@task ") for e in entries(app) if e.kind == "user"]


def notes(app) -> list[str]:  # noqa: ANN001
    return [e.text for e in entries(app) if e.kind in ("note", "error")]


def answered(app) -> int:  # noqa: ANN001
    return sum(1 for e in entries(app) if e.kind == "answer" and e.footer)


async def three_turns(pilot) -> None:  # noqa: ANN001
    """A chat turn, the task, a chat turn after it, each finished."""
    app = pilot.app
    await wait_for(pilot, lambda: app.session.backend.loaded)
    for n, text in enumerate(["hi", "/task change the files", "and now?"], 1):
        await send(pilot, text)
        await wait_for(pilot, lambda n=n: answered(app) >= n and not app.busy)


async def rewind_screen(pilot) -> RewindScreen:  # noqa: ANN001
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, RewindScreen))
    return pilot.app.screen


async def previewed(pilot, screen: RewindScreen, first: str) -> list[str]:  # noqa: ANN001
    """The preview's lines once worked out, the first line starting with `first`."""
    await wait_for(pilot, lambda: screen.preview is not None and screen.shown[0].startswith(first))
    return screen.shown


async def noted(pilot, start: str) -> str:  # noqa: ANN001
    await wait_for(pilot, lambda: any(n.startswith(start) for n in notes(pilot.app)))
    return next(n for n in notes(pilot.app) if n.startswith(start))


async def test_a_task_is_rewound_from_the_list_and_redo_brings_it_back(project: Path) -> None:
    before = hashes(project)
    app = app_with_script()
    async with app.run_test(size=(140, 40)) as pilot:
        await three_turns(pilot)
        after = hashes(project)
        assert "made.txt" in after and "gone.txt" not in after and after["a.py"] != before["a.py"]
        assert users(app) == ["hi", "change the files", "and now?"]

        await send(pilot, "/rewind")
        screen = await rewind_screen(pilot)
        listed = [str(option.prompt) for option in screen.query_one("#rewind-points").options]
        assert len(listed) == 3 and "task" in listed[1] and "change the files" in listed[1]
        assert "made.txt + (command)" in listed[1] and "gone.txt − (command)" in listed[1]
        assert screen.query_one("#rewind-points").highlighted == 2  # the newest, at the bottom
        await pilot.press("up", "enter")
        shown = await previewed(pilot, screen, "Rewind to before 2 (task")
        text = "\n".join(shown)
        for path in ("a.py", "b.py", "made.txt", "gone.txt"):
            assert path in text
        assert "2 exchanges leave the conversation" in text
        assert hashes(project) == after  # nothing done yet

        await pilot.press("enter")
        said = await noted(pilot, "Rewound:")
        assert "4 files put back" in said and "2 exchanges out of the chat" in said
        assert hashes(project) == before
        assert users(app) == ["hi"]  # the task's exchange and the one after it left the window
        assert "Done: edited a.py" not in "\n".join(e.text for e in entries(app))
        assert [e.user.content for e in app.session.exchanges] == ["hi"]
        assert not isinstance(app.screen, RewindScreen)

        await send(pilot, "/redo")
        said = await noted(pilot, "Redone:")
        assert "2 exchanges back in the chat" in said
        assert hashes(project) == after
        assert users(app) == ["hi", "change the files", "and now?"]
        assert [e.user.content for e in app.session.exchanges] == ["hi", "change the files", "and now?"]

        await send(pilot, "/redo")
        assert "there is no rewind to redo" in await noted(pilot, "Nothing redone:")


async def test_the_users_own_change_is_named_kept_and_kept_unless_they_say_otherwise(project: Path) -> None:
    before = hashes(project)
    app = app_with_script()
    async with app.run_test(size=(140, 40)) as pilot:
        await three_turns(pilot)
        (project / "keep.txt").write_text("my own work\n")  # after the task, by the user

        await send(pilot, "/rewind 2")  # straight to the preview of point 2
        screen = await rewind_screen(pilot)
        shown = await previewed(pilot, screen, "Rewind to before 2 (task")
        [kept] = [line for line in shown if "keep.txt" in line]
        assert kept.lstrip().startswith("keep") and "yours, not touched by these turns" in kept

        await pilot.press("m")  # take back my own changes too
        await wait_for(pilot, lambda: screen.preview is not None and not screen.keep_mine)
        assert not any("yours" in line for line in screen.shown)
        assert any("keep.txt" in line for line in screen.shown)  # now one of the files put back
        await pilot.press("m")
        await wait_for(pilot, lambda: screen.preview is not None and screen.keep_mine)

        await pilot.press("f")
        shown = await previewed(pilot, screen, "Rewind to before 2 (task: change the files), files only")
        assert not any("leave the conversation" in line for line in shown)
        await pilot.press("y")
        said = await noted(pilot, "Rewound:")
        assert "4 files put back" in said  # keep.txt, not touched by the task, is not named again
        assert (project / "keep.txt").read_text() == "my own work\n"
        now = hashes(project)
        assert {p: h for p, h in now.items() if p != "keep.txt"} == {p: h for p, h in before.items() if p != "keep.txt"}
        assert users(app) == ["hi", "change the files", "and now?"]  # files only: the chat stays


async def test_esc_goes_back_to_the_list_then_closes_and_nothing_changes(project: Path) -> None:
    app = app_with_script()
    async with app.run_test(size=(140, 40)) as pilot:
        await three_turns(pilot)
        after = hashes(project)
        await send(pilot, "/rewind")
        screen = await rewind_screen(pilot)
        await pilot.press("enter")  # the newest point: a chat turn
        await previewed(pilot, screen, "Rewind to before 3 (chat")
        await pilot.press("escape")
        await wait_for(pilot, lambda: screen.number is None and screen.query_one("#rewind-points").display)
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, RewindScreen))
        assert hashes(project) == after and users(app) == ["hi", "change the files", "and now?"]


async def test_an_empty_session_a_bad_number_and_a_redo_with_nothing_to_redo_each_say_so(project: Path) -> None:
    app = make_app(Config(), backend=ScriptedBackend(["fine"]))
    async with app.run_test(size=(120, 30)) as pilot:
        await send(pilot, "/rewind")
        await noted(pilot, "This session has no turn to rewind to yet.")
        await send(pilot, "/rewind two")
        await noted(pilot, "Usage: /rewind [N]")
        await send(pilot, "/redo")
        await noted(pilot, "Nothing redone: there is no rewind to redo")
        await send(pilot, "hello")
        await wait_for(pilot, lambda: answered(app) >= 1 and not app.busy)
        await send(pilot, "/rewind 7")
        assert "there is no point 7" in await noted(pilot, "Nothing to rewind:")
        assert not isinstance(app.screen, RewindScreen)


async def test_a_rewind_a_killed_run_left_is_finished_at_start_and_said(project: Path) -> None:
    snapshots = Snapshots(Path(os.path.realpath(project)))
    target = snapshots.take()
    (project / "a.py").write_text("x = 99\n")
    now = snapshots.take()

    def killed(_: object) -> None:
        raise RuntimeError("killed before the journal went")

    with pytest.raises(RuntimeError):
        restore(snapshots, plan(snapshots, target, now, [], keep_mine=False), {}, then=killed)
    assert interrupted(snapshots)

    app = make_app(Config(), backend=ScriptedBackend(["fine"]))
    async with app.run_test(size=(120, 30)) as pilot:
        said = await noted(pilot, "an interrupted rewind was finished")
        assert "1 file(s) as they should be" in said
    assert not interrupted(snapshots)
    assert (project / "a.py").read_text() == "x = 1\n"
