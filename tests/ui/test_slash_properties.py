"""Every slash command with generated argument text, through the real app.

Hypothesis draws the arguments (arbitrary Unicode with surrogates and NUL,
paths, quotes, floods, a long word); they are then run in one app, since
starting an app per example would cost seconds. Properties: no exception
escapes (a handler that raised would end `run_test` with it), no traceback
reaches the screen, and each command answers (a transcript line, a toast or a
screen) in bounded time."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from textual.screen import ModalScreen

from assistant.backends.scripted import ScriptedBackend
from assistant.core.config import Config
from assistant.ui.app import make_app
from assistant.ui.slash import SLASH_COMMANDS, run_slash_command
from tests.ui.helpers import entries, wait_for

COMMANDS = [c.name for c in SLASH_COMMANDS if c.name != "/quit"]  # /quit ends the app: tested below
anything = st.text(st.characters(exclude_categories=()), max_size=120)
pathish = st.lists(
    st.sampled_from(["a.py", "../", "..", "~", "~/", "~root/", "/", "*", "**", "[id]", '"', "'", " ", "\0",
                     "\ud800", "é", "sub/", "x.gguf", "auto", "other", "textual-dark", "\n"]),
    max_size=12,
).map("".join)
floods = st.builds(lambda unit, n: unit * n, st.sampled_from(["~", "a/", "../", "[", "`", '"', "*", "x"]),
                   st.integers(1, 5000))
arguments = st.one_of(anything, pathish, floods)


def generated_lines(per_command: int) -> list[str]:
    """`per_command` generated argument texts for each command, drawn by hypothesis."""
    lines: list[str] = []

    @settings(max_examples=per_command * len(COMMANDS), database=None)
    @given(st.sampled_from(COMMANDS), arguments)
    def draw(command: str, argument: str) -> None:
        lines.append(f"{command} {argument}")

    draw()
    fixed = ("", "~/x ~5/month", "a" * 100_000, "\ud800/x.gguf", "x\0y.py", "~nobody/x.py", "[/oops] [id]/x")
    lines += [f"{command} {text}" for command in COMMANDS for text in fixed]
    return lines


def count_answers(app) -> list[str]:
    """Every note and toast the app gives from now on, as they are given."""
    said: list[str] = []
    add_note, notify = app.add_note, app.notify

    async def noted(text: str, **kw) -> None:  # noqa: ANN003
        said.append(text)
        await add_note(text, **kw)

    def notified(message: str, **kw) -> None:  # noqa: ANN003
        said.append(message)
        notify(message, **kw)

    app.add_note, app.notify = noted, notified
    return said


async def run_all(lines: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "proj" / "sub").mkdir(parents=True)
    (tmp_path / "proj" / "a.py").write_text("a = 1\n")
    monkeypatch.chdir(tmp_path / "proj")
    app = make_app(Config(), backend=ScriptedBackend(["no edit"]))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.session.backend.loaded)
        said = count_answers(app)
        for line in lines:
            before = len(said)
            started = time.process_time()  # CPU time: other processes' load does not count
            await run_slash_command(app, line)
            await app.workers.wait_for_complete()
            try:
                await wait_for(pilot, lambda: len(said) > before or isinstance(app.screen, ModalScreen))
            except AssertionError:
                raise AssertionError(f"no answer to {line[:80]!r}") from None
            # A guard against a stall (a flood read in quadratic time), ~75x the slowest line
            # a working machine answers (~65 ms, /report's first imports): no load reaches it.
            assert time.process_time() - started < 5, f"{line[:80]!r} took {time.process_time() - started:.1f} s"
            while isinstance(app.screen, ModalScreen):
                await pilot.pause()  # shown, and its first reading done
                await app.workers.wait_for_complete()
                app.pop_screen()
                await pilot.pause()
            if app.session.backend.name != "scripted":  # a /model that worked: back to the script
                app.session.use(ScriptedBackend(["no edit"]))
        assert not [s for s in said if "Traceback" in s]
        assert not [s for s in said if s.startswith("Error: ")]  # what a worker that raised says
        long = [s[:200] for s in said if len(s) >= 2_000 and s.startswith(("Not ", "No ", "Unknown", "Usage"))]
        assert not long


async def test_every_slash_command_answers_generated_arguments(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    await run_all(generated_lines(per_command=3), tmp_path, monkeypatch)


@pytest.mark.slow
async def test_deep_every_slash_command_answers_generated_arguments(tmp_path: Path, monkeypatch) -> None:
    await run_all(generated_lines(per_command=60), tmp_path, monkeypatch)


async def test_quit_with_any_argument_leaves() -> None:
    app = make_app(Config(), backend=ScriptedBackend(), preload=False, ledger=False)
    async with app.run_test(size=(100, 30)):
        await run_slash_command(app, "/quit \ud800 ~/x [/oops]")
    assert app.return_code in (None, 0)


def test_the_one_table_names_each_command_once_with_its_handler_and_help() -> None:
    import inspect

    from assistant.ui.slash import help_text

    names = [c.name for c in SLASH_COMMANDS]
    assert len(set(names)) == len(names)
    assert all(inspect.iscoroutinefunction(c.run) for c in SLASH_COMMANDS)
    shown = help_text()
    assert all(c.usage in shown and c.help in shown for c in SLASH_COMMANDS)
