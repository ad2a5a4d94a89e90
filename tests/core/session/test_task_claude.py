"""A task on Claude, end to end: the real anthropic SDK against the loopback Messages API
answering with scripted tool_use blocks; real tools in a real git repository; the real
pytest run by the `run` tool; the ledger and the commit read back."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import jsonschema
import pytest

from assistant.core.events import StepStarted, ToolFinished, ToolStarted
from assistant.core.session.chat import ChatSession
from assistant.core.store.ledger import Ledger
from assistant.core.tools.approval import Approval, ApprovalRequest
from assistant.render import run_json
from tests.backends.claude.conftest import claude_config, claude_from
from tests.core.edits.test_vcs import make_repo
from tests.fake_anthropic import Answer, FakeAnthropic, tool_call

CALC = "def add(a, b):\n    return a - b\n"
TEST = "from calc import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n"
PYTEST = f"{sys.executable} -m pytest -q -p no:cacheprovider"
SCHEMA = json.loads((Path(run_json.__file__).parents[1] / "data" / "run.schema.json").read_text())


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    make_repo(root, {"calc.py": CALC, "test_calc.py": TEST, ".gitignore": "__pycache__/\n"})
    return root


def session_on(fake: FakeAnthropic, root: Path) -> ChatSession:
    config = claude_config(fake.base_url)
    backend = claude_from(config)
    backend.load()
    return ChatSession(config, backend, ledger=Ledger.open, project_root=root)


def script_fix(fake: FakeAnthropic) -> None:
    fake.enqueue(
        tool_call("read", path="calc.py"),
        tool_call("grep", pattern="def add"),
        tool_call("edit", path="calc.py", old="return a - b", new="return a + b"),
        tool_call("run", command=f"{sys.executable} -m pytest -q -p no:cacheprovider"),
        Answer("Fixed `add`: it subtracted. The test passes now."),
    )


def test_make_the_failing_test_pass_reads_greps_edits_runs_and_answers(fake: FakeAnthropic, project: Path) -> None:
    script_fix(fake)
    asked: list[ApprovalRequest] = []

    def approve(request: ApprovalRequest) -> Approval:
        asked.append(request)
        return Approval("yes")

    events: list[object] = []
    session = session_on(fake, project)
    before = subprocess.run(["git", "rev-parse", "HEAD"], cwd=project, capture_output=True, text=True).stdout.strip()
    result = session.act("make the failing test pass", threading.Event(), events.append, approve=approve)

    assert result.end == "answered", result.reason
    assert result.text == "Fixed `add`: it subtracted. The test passes now."
    assert (result.steps, result.tool_steps) == (5, 4)
    # Reading is free in mode ask; the edit and the command were asked about.
    assert [r.tool for r in asked] == ["edit", "run"]
    finished = [e for e in events if isinstance(e, ToolFinished)]
    assert [(e.tool, e.ok) for e in finished] == [("read", True), ("grep", True), ("edit", True), ("run", True)]
    assert "1 passed" in finished[-1].output
    assert sum(isinstance(e, StepStarted) for e in events) == 5
    assert sum(isinstance(e, ToolStarted) for e in events) == 4

    # The tests pass afterwards, and one commit holds the change.
    check = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=project,
                           capture_output=True, text=True)  # fmt: skip
    assert check.returncode == 0, check.stdout
    log = subprocess.run(["git", "log", "--format=%H %s", f"{before}..HEAD"], cwd=project, capture_output=True,
                         text=True).stdout.splitlines()  # fmt: skip
    assert len(log) == 1 and log[0].split(" ", 1)[1].startswith("task(calc.py): make the failing test pass")
    assert result.commit == log[0].split()[0]
    body = subprocess.run(["git", "log", "-1", "--format=%B"], cwd=project, capture_output=True, text=True).stdout
    assert "Assistant-Tools: read, grep, edit, run" in body and "Assistant-Backend: claude" in body
    assert subprocess.run(["git", "status", "--porcelain"], cwd=project, capture_output=True, text=True).stdout == ""

    # Every step reached Claude with the tools, and each result answered its call.
    bodies = [json.loads(r.body) for r in fake.message_requests()]
    assert len(bodies) == 5
    assert [t["name"] for t in bodies[0]["tools"]] == ["read", "list", "grep", "edit", "write", "run"]
    # The window counted the tools as text; Claude is given them as tools, not twice.
    system = " ".join(block["text"] for block in bodies[0]["system"])
    assert "You can use these tools" not in system and "working in the user's project" in system
    window = session.window("claude")
    assert window is not None and "You can use these tools" in window.messages[0].content
    last = bodies[-1]["messages"]
    results = [b for m in last if m["role"] == "user" for b in m["content"] if b["type"] == "tool_result"]
    assert len(results) == 4 and "1 passed" in results[-1]["content"]

    # The ledger holds every step, as a task.
    with Ledger.open() as ledger:
        turns = ledger.turns(session_id=session.session_id)
    assert len(turns) == 5 and {t.kind for t in turns} == {"task"}
    session.close()


def test_stream_json_of_a_task_validates_against_the_shipped_schema(fake: FakeAnthropic, project: Path) -> None:
    script_fix(fake)
    lines: list[dict] = []
    session = session_on(fake, project)
    result = session.act("make the failing test pass", threading.Event(),
                         lambda e: (obj := run_json.event_object(e)) is not None and lines.append(obj),
                         allow=("edit", "run: *pytest *"))  # fmt: skip
    lines.append(run_json.task_object(result, session_id=session.session_id))
    for obj in lines:
        jsonschema.validate(json.loads(run_json.line(obj)), SCHEMA)
    kinds = [o["type"] for o in lines]
    assert kinds.count("tool_call") == 4 and kinds.count("tool_result") == 4 and kinds[-1] == "done"
    assert lines[-1]["task"]["end"] == "answered" and lines[-1]["task"]["changed"] == ["calc.py"]
    session.close()


def test_a_step_nobody_may_approve_is_refused_and_the_model_is_told(fake: FakeAnthropic, project: Path) -> None:
    fake.enqueue(tool_call("run", command="rm -rf calc.py"), Answer("I could not run it."))
    session = session_on(fake, project)
    events: list[object] = []
    result = session.act("delete calc.py", threading.Event(), events.append)  # nobody answers: refused
    assert result.end == "answered"
    assert (project / "calc.py").exists()
    finished = [e for e in events if isinstance(e, ToolFinished)]
    assert len(finished) == 1 and not finished[0].ok and "--allow" in finished[0].summary
    second = json.loads(fake.message_requests()[1].body)["messages"][-1]["content"][0]
    assert second["type"] == "tool_result" and second["is_error"] is True
    session.close()


def test_a_misnamed_tool_is_repaired_and_an_unknown_one_is_answered_with_the_list(
    fake: FakeAnthropic, project: Path
) -> None:
    fake.enqueue(Answer("", tool_uses=(("Read_File", {"path": "calc.py"}), ("teleport", {"to": "mars"}))),
                 Answer("Done."))  # fmt: skip
    session = session_on(fake, project)
    events: list[object] = []
    result = session.act("look at calc.py", threading.Event(), events.append)
    assert result.end == "answered"
    finished = [e for e in events if isinstance(e, ToolFinished)]
    assert finished[0].tool == "read" and finished[0].ok
    assert not finished[1].ok and "The tools are: read, list, grep, edit, write, run" in finished[1].output
    session.close()


def test_the_step_cap_ends_a_task_that_never_answers(fake: FakeAnthropic, project: Path) -> None:
    fake.enqueue(*(tool_call("read", path="calc.py") for _ in range(3)))
    config = claude_config(fake.base_url).with_overrides({"tools.max_steps": 3})
    backend = claude_from(config)
    backend.load()
    session = ChatSession(config, backend, ledger=Ledger.open, project_root=project)
    result = session.act("loop forever", threading.Event())
    assert result.end == "steps" and result.steps == 3 and "max_steps" in result.reason
    session.close()


def test_the_users_uncommitted_work_is_kept_apart_and_undo_takes_back_the_whole_task(
    fake: FakeAnthropic, project: Path
) -> None:
    from assistant.core.edits.vcs import Workspace

    (project / "calc.py").write_text(CALC + "# mine\n")  # the user's, not committed
    fake.enqueue(
        tool_call("read", path="calc.py"),
        tool_call("edit", path="calc.py", old="return a - b", new="return a + b"),
        tool_call("write", path="notes.md", content="fixed\n"),
        Answer("Done."),
    )
    session = session_on(fake, project)
    result = session.act("fix add", threading.Event(), allow=("edit", "write"))
    assert result.end == "answered" and set(result.changed) == {"calc.py", "notes.md"}
    subjects = subprocess.run(["git", "log", "--format=%s", "-3"], cwd=project, capture_output=True,
                              text=True).stdout.splitlines()  # fmt: skip
    assert subjects[0].startswith("task(") and subjects[1].startswith("snapshot before edit: calc.py")
    said = Workspace(project).undo()
    assert "task(" in said
    assert (project / "calc.py").read_text() == CALC + "# mine\n"  # the user's line stays, the task's change goes
    assert not (project / "notes.md").exists()
    session.close()


def test_the_checks_at_the_task_s_end_rate_it_and_an_undo_takes_that_back(fake: FakeAnthropic, project: Path) -> None:
    from assistant.core.store import ratings
    from assistant.core.workflows.refactor import undo_edit

    script_fix(fake)
    events: list[object] = []
    config = claude_config(fake.base_url).with_overrides({"edits.test_cmd": PYTEST})
    backend = claude_from(config)
    backend.load()
    session = ChatSession(config, backend, ledger=Ledger.open, project_root=project)
    result = session.act("make the failing test pass", threading.Event(), events.append, allow=("edit", "run"))
    assert any("after the task: tests" in getattr(e, "text", "") and "passed" in e.text for e in events)
    with Ledger.open() as ledger:
        [task] = ledger.tasks(session_id=session.session_id)
        assert json.loads(task.checks)[0]["status"] == "passed" and task.commit_id == result.commit
        [(key, counted)] = ratings.counts(ledger).items()
        assert key[0] == "claude" and key[2] == "task" and counted == (1, 0)  # good: its checks passed
    undo_edit(project, "snapshot", Ledger.open)
    with Ledger.open() as ledger:
        [task] = ledger.tasks(session_id=session.session_id)
        assert task.undone_at is not None
        assert next(iter(ratings.counts(ledger).values())) == (0, 1)  # not kept: the newest signal decides
    session.close()


def test_a_call_the_token_limit_cut_is_never_run_and_the_model_is_told_to_call_again(
    fake: FakeAnthropic, project: Path
) -> None:
    from tests.fake_anthropic import Raw, sse

    usage = {"input_tokens": 10, "output_tokens": 1}
    message = {"id": "msg_cut", "type": "message", "role": "assistant", "content": [], "model": "m",
               "stop_reason": None, "stop_sequence": None, "usage": usage}  # fmt: skip
    block = {"type": "tool_use", "id": "toolu_cut", "name": "run", "input": {}}
    cut = Raw(chunks=(
        sse("message_start", {"type": "message_start", "message": message}),
        sse("content_block_start", {"type": "content_block_start", "index": 0, "content_block": block}),
        sse("content_block_delta", {"type": "content_block_delta", "index": 0,
                                    "delta": {"type": "input_json_delta", "partial_json": '{"command": "rm -rf /tmp/x'}}),
        sse("content_block_stop", {"type": "content_block_stop", "index": 0}),
        sse("message_delta", {"type": "message_delta", "delta": {"stop_reason": "max_tokens", "stop_sequence": None},
                              "usage": {"output_tokens": 9}}),
        sse("message_stop", {"type": "message_stop"}),
    ))  # fmt: skip
    fake.enqueue(cut, Answer("I will stop here."))
    events: list[object] = []
    session = session_on(fake, project)
    result = session.act("clean up", threading.Event(), events.append, mode="auto")
    [said] = [e for e in events if isinstance(e, ToolFinished)]
    assert not said.ok and said.permission == "not run: the call was cut at max_tokens"
    told = json.loads(fake.message_requests()[1].body)["messages"][-1]["content"][0]
    assert told["type"] == "tool_result" and "cut at the answer's token limit" in told["content"]
    assert result.end == "answered"
    session.close()
