"""Tab after `@` in the prompt completes the project's paths (issue 26, item 1):
git's view of the project, a folder at a time, from where the person stands; the
prompt keeps the focus, so the keys typed next land in it; the listing runs in a
worker, and a Tab that comes before it completes when it arrives."""

from __future__ import annotations

import subprocess
import threading
from pathlib import Path

import pytest

from assistant.backends.scripted import ScriptedBackend
from assistant.core import project_files as core_project_files
from assistant.core.config import Config
from assistant.ui.app import make_app
from assistant.ui.widgets import prompt as prompt_module
from assistant.ui.widgets.prompt import PromptInput
from tests.patience import PATIENCE
from tests.ui.helpers import send, transcript_text, wait_for

FILES = {
    "src/calc.py": "x = 1\n", "src/cache.py": "", "src/pkg/util.py": "", "setup.py": "", "README.md": "",
    ".gitignore": "build/\n",
}


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "proj"
    for name, text in FILES.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    (root / "build").mkdir()
    (root / "build" / "bundle.js").write_text("")  # ignored by git
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    subprocess.run(["git", "add", "."], cwd=root, check=True)
    monkeypatch.chdir(root)  # the app's project is the current directory
    return root


def app_here():
    return make_app(Config(), backend=ScriptedBackend(["ok"]), ledger=False)


def hints(app) -> str:
    shown = app.query_one("#hints")
    return str(shown.render()) if shown.display else ""


async def typed(pilot, keys: str) -> None:
    await pilot.press(*keys)
    await pilot.pause()


async def test_tab_after_at_completes_a_folder_and_the_prompt_keeps_the_focus(repo: Path) -> None:
    app = app_here()
    async with app.run_test() as pilot:
        prompt = app.query_one(PromptInput)
        await typed(pilot, "@sr")
        await pilot.press("tab")
        await wait_for(pilot, lambda: prompt.text == "@src/")
        assert app.focused is prompt
        await typed(pilot, "p")
        assert prompt.text == "@src/p"  # the next key lands in the prompt
        await pilot.press("tab")
        await wait_for(pilot, lambda: prompt.text == "@src/pkg/")
        await typed(pilot, "u")
        await pilot.press("tab")
        await wait_for(pilot, lambda: prompt.text == "@src/pkg/util.py ")  # a file: a space to go on
        assert app.focused is prompt


async def test_several_paths_complete_what_they_share_then_tab_cycles_them(repo: Path) -> None:
    app = app_here()
    async with app.run_test() as pilot:
        prompt = app.query_one(PromptInput)
        await typed(pilot, "see @src/c")
        await pilot.press("tab")
        await wait_for(pilot, lambda: prompt.text == "see @src/ca")
        await pilot.pause()
        assert hints(app) == "cache.py   calc.py"
        for expected in ("see @src/cache.py", "see @src/calc.py", "see @src/cache.py"):
            await pilot.press("tab")
            await pilot.pause()
            assert prompt.text == expected and hints(app) == "cache.py   calc.py"
        await typed(pilot, " x")
        assert prompt.text == "see @src/cache.py x" and hints(app) == ""
        assert app.focused is prompt


async def test_tab_cycles_at_once_when_the_paths_share_nothing_more(repo: Path) -> None:
    app = app_here()
    async with app.run_test() as pilot:
        prompt = app.query_one(PromptInput)
        await typed(pilot, "@s")
        await pilot.press("tab")
        await wait_for(pilot, lambda: prompt.text == "@setup.py")
        await pilot.pause()
        assert hints(app) == "setup.py   src/"
        await pilot.press("tab")
        await pilot.pause()
        assert prompt.text == "@src/"


async def test_an_ignored_or_missing_path_completes_nothing_and_keeps_the_focus(repo: Path) -> None:
    app = app_here()
    async with app.run_test() as pilot:
        prompt = app.query_one(PromptInput)
        await typed(pilot, "@bu")
        await pilot.press("tab")
        await wait_for(pilot, lambda: prompt._paths is not None)  # listed, and still nothing to put
        await pilot.pause()
        assert prompt.text == "@bu" and app.focused is prompt
        await typed(pilot, "x")
        assert prompt.text == "@bux"


async def test_tab_elsewhere_still_moves_the_focus(repo: Path) -> None:
    app = app_here()
    async with app.run_test() as pilot:
        prompt = app.query_one(PromptInput)
        await typed(pilot, "hello")
        await pilot.press("tab")
        await pilot.pause()
        assert prompt.text == "hello" and app.focused is not prompt


async def test_paths_complete_from_where_the_person_stands(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(repo / "src")  # as `@` words are read (`mentioned_files`)
    app = app_here()
    async with app.run_test() as pilot:
        prompt = app.query_one(PromptInput)
        await typed(pilot, "@cal")
        await pilot.press("tab")
        await wait_for(pilot, lambda: prompt.text == "@calc.py ")
        await typed(pilot, "@../se")
        await pilot.press("tab")
        await wait_for(pilot, lambda: prompt.text == "@calc.py @../setup.py ")


async def test_a_file_made_after_a_message_is_offered(repo: Path) -> None:
    app = app_here()
    async with app.run_test() as pilot:
        prompt = app.query_one(PromptInput)
        await typed(pilot, "@s")
        await wait_for(pilot, lambda: prompt._paths is not None)
        await send(pilot, "hi")
        await wait_for(pilot, lambda: "ok" in transcript_text(app) and not app.busy)
        (repo / "notes.md").write_text("")  # untracked, not ignored
        await typed(pilot, "@no")
        await pilot.press("tab")
        await wait_for(pilot, lambda: prompt.text == "@notes.md ")


async def test_the_listing_runs_off_the_ui_thread_and_a_tab_before_it_completes_after(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    release, threads = threading.Event(), []

    def slow_listing(root: Path) -> list[str]:
        threads.append(threading.current_thread())
        release.wait(PATIENCE)  # a large repository: the listing takes a while
        return core_project_files.project_files(root)

    monkeypatch.setattr(prompt_module, "project_files", slow_listing)
    app = app_here()
    async with app.run_test() as pilot:
        prompt = app.query_one(PromptInput)
        await typed(pilot, "@sr")
        await pilot.press("tab")  # the listing is still running: the key is kept, and so is the focus
        await typed(pilot, "")
        assert prompt.text == "@sr" and app.focused is prompt
        release.set()
        await wait_for(pilot, lambda: prompt.text == "@src/")
        assert threads and threads[0] is not threading.main_thread()


async def test_a_slash_command_tab_cycles_the_commands_it_begins() -> None:
    app = app_here()
    async with app.run_test() as pilot:
        prompt = app.query_one(PromptInput)
        await typed(pilot, "/co")
        await pilot.press("tab")
        await pilot.pause()
        first = prompt.text
        await pilot.press("tab")
        await pilot.pause()
        assert {first, prompt.text} <= {"/compact", "/context", "/cost"} and first != prompt.text
        assert "/cost" in hints(app) and app.focused is prompt
