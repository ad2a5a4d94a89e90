"""Tasks in the TUI: `/task` and `@task` run the loop in the turn's worker; each tool step
is a compact block above the answer (its output collapsed under it); a step that asks
is answered inline (y, n, a, e), the worker waiting until then or until Esc; Esc stops
a task at once, a running command's process group with it.

The scripted backend cannot call tools natively, so the loop describes them in the
prompt and reads JSON calls out of its text: the scripts below are those calls, then a
plain answer. Each test works in its own git repository (the app's project is the
current directory).
"""

from __future__ import annotations

import json
import os
import threading
import uuid
from pathlib import Path

import pytest
from textual.widgets import Collapsible, Input

from assistant.backends.scripted import ScriptedBackend
from assistant.core.config import Config
from assistant.core.results import TaskResult
from assistant.core.tools.approval import Approval
from assistant.ui.app import make_app
from assistant.core.tools.approval import STOPPED, ApprovalReply
from assistant.core.words import asks_for_task as is_task
from assistant.render.format import task_note
from assistant.ui.widgets.prompt import PromptInput
from assistant.ui.widgets.rendered import Entry
from assistant.ui.widgets.tool_step import ApprovalPrompt, ToolStep
from tests.core.edits.gitrepo import git, make_repo
from tests.ui.helpers import entries, send, transcript_text, wait_for


def call(tool: str, **arguments: object) -> str:
    return json.dumps({"tool": tool, "arguments": arguments})


READ_A = call("read", path="a.py")


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = make_repo(tmp_path / "proj", {"a.py": "a = 1\n"})
    monkeypatch.chdir(root)  # the app's project is the current directory
    return root


def app_with(*answers: str):  # noqa: ANN201
    return make_app(Config(), backend=ScriptedBackend(list(answers)), ledger=False)


def answers(app) -> list[Entry]:  # noqa: ANN001
    """The finished answers (those with their footer)."""
    return [e for e in entries(app) if e.kind == "answer" and e.footer]


def asking(app) -> ApprovalPrompt | None:  # noqa: ANN001
    found = app.query(ApprovalPrompt)
    return found.first() if found else None


async def task_ended(pilot, count: int = 1, timeout: float | None = None) -> Entry:  # noqa: ANN001
    """Wait for the `count`th answer to be finished and the worker gone; the last answer."""
    kwargs = {"timeout": timeout} if timeout is not None else {}
    await wait_for(pilot, lambda: len(answers(pilot.app)) >= count and not pilot.app.busy, **kwargs)
    return answers(pilot.app)[-1]


async def asked(pilot) -> ApprovalPrompt:  # noqa: ANN001
    await wait_for(pilot, lambda: asking(pilot.app) is not None and pilot.app.focused is asking(pilot.app))
    prompt = asking(pilot.app)
    assert prompt is not None
    return prompt


async def test_a_read_then_an_answer_shows_one_step_block_and_the_task_footer(repo: Path) -> None:
    app = app_with(READ_A, "It sets a to 1.")
    async with app.run_test(size=(120, 40)) as pilot:
        await send(pilot, "/task what does a.py do?")
        answer = await task_ended(pilot)
        assert answer.text == "It sets a to 1."  # the last step's text: the call it wrote before is its block
        assert "2 steps, 1 tool call" in answer.footer
        await wait_for(pilot, lambda: "▸ read a.py" in transcript_text(app))  # the block, folded with the task
        steps = [e.text for e in entries(app) if e.text.startswith("▸")]
        assert len(steps) == 1 and "▸ read a.py · " in steps[0] and "running" not in steps[0]
        assert app.focused is app.query_one(PromptInput)
        assert app.session.exchanges[-1].user.content == "what does a.py do?"


async def test_an_edit_asks_inline_and_y_lets_it_run(repo: Path) -> None:
    app = app_with(READ_A, call("edit", path="a.py", old="a = 1", new="a = 2"), "Done: a is 2.")
    async with app.run_test(size=(120, 40)) as pilot:
        await send(pilot, "@task set a to 2")
        prompt = await asked(pilot)
        shown = " ".join(str(s.render()) for s in prompt.query("Static"))
        assert "edit a.py" in shown and "y yes · n no · a always" in shown
        assert all(rule in shown for rule in prompt.request.always)  # what "always" would save
        # What it would change, lines out and in, before the answer.
        assert [str(w.render()) for w in prompt.query(".removed, .added")] == ["- a = 1", "+ a = 2"]
        # The step before, above the question: its line, its output collapsed under it.
        (read,) = app.query(ToolStep)
        assert read.line.startswith("▸ read a.py · ") and read.started and not read.refused
        folded = read.query_one(Collapsible)
        assert folded.collapsed and "a = 1" in read.output
        assert (repo / "a.py").read_text() == "a = 1\n"  # nothing written while it asks
        await pilot.press("y")
        answer = await task_ended(pilot)
        assert (repo / "a.py").read_text() == "a = 2\n"
        assert "3 steps, 2 tool calls" in answer.footer and "changed 1 file" in answer.footer
        assert git(repo, "rev-list", "--count", "HEAD").strip() == "2"  # the task's commit
        assert asking(app) is None and app.focused is app.query_one(PromptInput)


async def test_n_refuses_the_edit_and_its_block_says_so(repo: Path) -> None:
    app = app_with(READ_A, call("edit", path="a.py", old="a = 1", new="a = 2"), "I was not allowed to.")
    async with app.run_test(size=(120, 40)) as pilot:
        await send(pilot, "/task set a to 2")
        await asked(pilot)
        await pilot.press("n")
        await wait_for(pilot, lambda: any(s.refused for s in app.query(ToolStep)) or not app.busy)
        await task_ended(pilot)
        assert (repo / "a.py").read_text() == "a = 1\n"
        await wait_for(pilot, lambda: "▸ edit a.py · refused: denied by you" in transcript_text(app))
        assert git(repo, "rev-list", "--count", "HEAD").strip() == "1"


async def test_always_saves_the_rule_and_the_same_edit_does_not_ask_again(repo: Path) -> None:
    app = app_with(
        READ_A, call("edit", path="a.py", old="a = 1", new="a = 2"), "Done.",
        READ_A, call("edit", path="a.py", old="a = 2", new="a = 3"), "Done again.",
    )  # fmt: skip
    async with app.run_test(size=(120, 40)) as pilot:
        await send(pilot, "/task set a to 2")
        prompt = await asked(pilot)
        assert prompt.request.always  # the rules "always" saves (the keys line names them)
        await pilot.press("a")
        await task_ended(pilot)
        assert (repo / "a.py").read_text() == "a = 2\n"
        await send(pilot, "/task set a to 3")
        # Done without a question (one would wait for a key that never comes).
        await wait_for(pilot, lambda: asking(app) is not None or (len(answers(app)) == 2 and not app.busy))
        assert asking(app) is None
        assert (repo / "a.py").read_text() == "a = 3\n"


async def test_e_edits_the_command_and_enter_runs_the_edited_one(repo: Path) -> None:
    app = app_with(call("run", command="echo one > out.txt"), "Wrote it.")
    async with app.run_test(size=(120, 40)) as pilot:
        await send(pilot, "/task write out.txt")
        prompt = await asked(pilot)
        await pilot.press("e")
        field = prompt.query_one(Input)
        await wait_for(pilot, lambda: app.focused is field)
        assert field.value == "echo one > out.txt"
        field.value = "echo two > out.txt # "
        field.cursor_position = len(field.value)
        await pilot.press("y", "n", "a", "e")  # typed into the command, not answers
        assert field.value == "echo two > out.txt # ynae" and prompt.answer is None
        await pilot.press("enter")
        await task_ended(pilot)
        assert (repo / "out.txt").read_text() == "two\n"
        await wait_for(pilot, lambda: "▸ run echo two > out.txt # ynae · " in transcript_text(app))


def running(tag: str) -> list[str]:
    """Command lines of this machine's processes that hold `tag` (zombies have none)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            line = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if tag in line:
            found.append(line)
    return found


async def test_esc_stops_a_running_command_at_once_and_leaves_no_process(repo: Path) -> None:
    seconds = f"300.{uuid.uuid4().int % 10**9:09d}"  # `sleep 300`, told apart from any other test's
    app = app_with(call("run", command=f"sleep {seconds}"), "never said")
    async with app.run_test(size=(120, 40)) as pilot:
        await send(pilot, "/task sleep")
        await asked(pilot)
        await pilot.press("y")
        await wait_for(pilot, lambda: bool(running(f"sleep {seconds}")))
        await pilot.press("escape")
        answer = await task_ended(pilot, timeout=10)
        assert answer.note == "Stopped by you."
        assert not running(f"sleep {seconds}")
        assert app.focused is app.query_one(PromptInput)


async def test_esc_while_a_step_asks_answers_no_and_ends_the_task(repo: Path) -> None:
    app = app_with(READ_A, call("edit", path="a.py", old="a = 1", new="a = 2"), "never said")
    async with app.run_test(size=(120, 40)) as pilot:
        await send(pilot, "/task set a to 2")
        await asked(pilot)
        await pilot.press("escape")
        answer = await task_ended(pilot, timeout=10)
        assert answer.note == "Stopped by you."
        assert asking(app) is None and app.focused is app.query_one(PromptInput)
        assert (repo / "a.py").read_text() == "a = 1\n"


async def test_task_without_text_says_how_to_use_it(repo: Path) -> None:
    app = app_with("unused")
    async with app.run_test(size=(120, 40)) as pilot:
        await send(pilot, "/task")
        await wait_for(pilot, lambda: "Usage: /task TEXT" in transcript_text(app))
        assert not app.busy


async def test_retry_after_a_task_says_to_run_it_again(repo: Path) -> None:
    app = app_with("Nothing to do.")
    async with app.run_test(size=(120, 40)) as pilot:
        await send(pilot, "@task look around")
        await task_ended(pilot)
        await send(pilot, "/retry other")
        await wait_for(pilot, lambda: "Not retried: the last answer ended a task" in transcript_text(app))
        assert not app.busy


def test_task_is_a_prefix_among_the_others() -> None:
    assert is_task("@task fix it") and is_task("@claude @task fix it") and is_task("@TASK fix it")
    assert not is_task("fix @task it") and not is_task("@tasks fix it") and not is_task("")


def test_the_note_says_why_a_task_stopped() -> None:
    def ended(end: str, reason: str = "") -> TaskResult:
        return TaskResult("", end, 1, 0, 0.0, 0.0, 0, 0, 0.0, 0.0, reason=reason)  # type: ignore[arg-type]

    assert task_note(ended("answered")) is None
    assert task_note(ended("cancelled", "stopped by you")) == "Stopped by you."
    assert (
        task_note(ended("steps", "stopped after 20 steps ([tools] max_steps)"))
        == "Stopped after 20 steps ([tools] max_steps)"
    )
    assert task_note(ended("error", "the server is down")) == "Error: the server is down"
    assert task_note(ended("answered", "not committed: no git")) == "Not committed: no git."


def test_a_waiting_worker_takes_the_first_answer_or_no_when_stopped() -> None:
    reply, stop = ApprovalReply(), threading.Event()
    threading.Timer(0.05, reply.give, [Approval("yes", command="ls")]).start()
    assert reply.wait(stop) == Approval("yes", command="ls")
    assert not reply.give(Approval("no"))  # answered already

    reply = ApprovalReply()
    threading.Timer(0.05, stop.set).start()
    assert reply.wait(stop) == STOPPED and reply.answer == STOPPED
    assert not reply.give(Approval("yes"))  # the user's key after Esc changes nothing
