"""The task loop's mechanisms, on scripted backends (native tool calls, and calls read
out of text), in real git repositories with real tools."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from pathlib import Path

import pytest

from assistant.backends.scripted import ScriptedBackend
from assistant.core.config import Config
from assistant.core.events import BackendError, FallbackStarted, ToolFinished, ToolStarted
from assistant.core.session.chat import ChatSession
from assistant.core.session.task import ELIDED_END
from assistant.core.store.ledger import Ledger
from assistant.core.tool_calls import ToolCall, call_arguments
from tests.core.edits.test_vcs import make_repo
from tests.patience import PATIENCE


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    make_repo(root, {"a.py": "x = 1\n", "secrets/token.txt": "hunter2 x = 1\n", "big.txt": "line\n" * 3000})
    return root


def call(name: str, n: int = 0, **arguments: object) -> ToolCall:
    return ToolCall(f"c{n}", name, call_arguments(arguments))


def session(root: Path, backend: ScriptedBackend, **settings: object) -> ChatSession:
    config = Config().with_overrides({"general.backend": backend.name, **settings})
    backend.load()
    return ChatSession(config, backend, ledger=Ledger.open, project_root=root)


def finished(events: list[object]) -> list[ToolFinished]:
    return [e for e in events if isinstance(e, ToolFinished)]


def test_a_denied_path_is_refused_to_read_and_left_out_of_grep_and_list(project: Path) -> None:
    backend = ScriptedBackend([call("grep", 0, pattern="x = 1"), call("list", 1), call("read", 2, path="secrets/token.txt"),
                               "done"], name="local", tool_calls=True)  # fmt: skip
    events: list[object] = []
    s = session(project, backend, **{"tools.deny": ["read: secrets/**"]})
    result = s.act("find x", threading.Event(), events.append)
    grep, listed, read = finished(events)
    assert result.end == "answered"
    assert "a.py" in grep.output and "secrets" not in grep.output
    assert "a.py" in listed.output and "secrets" not in listed.output
    assert not read.ok and "refused" in read.summary
    assert "hunter2" not in "".join(m.content for m in backend.seen[-1])


def test_a_backend_without_tools_gets_them_in_the_prompt_and_its_text_calls_are_run(project: Path) -> None:
    backend = ScriptedBackend(['I will look. {"tool": "Read_File", "arguments": {"path": "a.py"}}', "x is 1."],
                              name="local")  # fmt: skip
    events: list[object] = []
    result = session(project, backend).act("what is x?", threading.Event(), events.append)
    assert result.end == "answered" and result.text == "x is 1."
    [read] = finished(events)
    assert read.tool == "read" and read.ok
    system, *rest = backend.seen[0]
    assert system.role == "system" and '{"tool": NAME, "arguments"' in system.content
    # The result went back as plain text the backend can read (it knows no tool role).
    assert backend.seen[1][-1].role == "user" and "Result of read" in backend.seen[1][-1].content


def test_old_tool_results_are_elided_first_when_the_window_fills(project: Path) -> None:
    reads = [call("read", n, path="big.txt") for n in range(4)]
    backend = ScriptedBackend([*reads, "done"], name="local", tool_calls=True, context_size=12_000, max_tokens=200)
    s = session(project, backend, **{"tools.read_max_bytes": 8000})
    result = s.act("read big.txt again and again", threading.Event())
    assert result.end == "answered"
    last = backend.seen[-1]
    tools = [m for m in last if m.role == "tool"]
    assert len(tools) == 4
    assert tools[0].content.endswith(ELIDED_END) and not tools[-1].content.endswith(ELIDED_END)
    assert [m.tool_call_id for m in tools] == ["c0", "c1", "c2", "c3"]  # every call keeps its answer


def test_a_backend_that_fails_mid_task_hands_the_same_transcript_to_the_next(project: Path) -> None:
    first = ScriptedBackend([call("read", 0, path="a.py"), "never"], name="claude", local=False, tool_calls=True,
                            failures=[None, BackendError("overloaded", kind="overloaded")])  # fmt: skip
    second = ScriptedBackend(["x is 1."], name="local", tool_calls=True)
    config = Config().with_overrides({"general.backend": "claude", "router.fallback": ["local"]})
    first.load()
    s = ChatSession(config, first, ledger=Ledger.open, project_root=project, fallback=second)
    events: list[object] = []
    result = s.act("what is x?", threading.Event(), events.append)
    assert result.end == "answered" and result.text == "x is 1."
    assert any(isinstance(e, FallbackStarted) for e in events)
    handed = second.seen[0]
    assert handed[-2].tool_calls and handed[-1].role == "tool" and "x = 1" in handed[-1].content


def _sleepers() -> list[int]:
    found = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                if b"sleep\x00307" in Path(f"/proc/{pid}/cmdline").read_bytes():
                    found.append(int(pid))
            except OSError:
                pass
    return found


def test_stopping_a_task_during_a_command_kills_its_process_group(project: Path) -> None:
    backend = ScriptedBackend([call("run", 0, command="sleep 307 & sleep 307; echo never"), "never"], name="local",
                              tool_calls=True)  # fmt: skip
    cancel = threading.Event()
    events: list[object] = []

    def stop_when_running(event: object) -> None:
        events.append(event)
        if isinstance(event, ToolStarted):
            threading.Timer(0.5, cancel.set).start()

    s = session(project, backend, **{"tools.mode": "auto"})
    result = s.act("wait", cancel, stop_when_running)
    assert result.end == "cancelled"
    [run] = finished(events)
    assert not run.ok and run.seconds < PATIENCE
    deadline = time.monotonic() + PATIENCE
    while _sleepers() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _sleepers() == []
    assert len(backend.seen) == 1  # no model step after the stop


def test_the_ledger_holds_each_step_and_tool_step_under_the_task(project: Path) -> None:
    backend = ScriptedBackend([call("read", 0, path="a.py"), call("run", 1, command="exit 3"), "done"],
                              name="local", tool_calls=True)  # fmt: skip
    s = session(project, backend, **{"tools.allow": ["run: exit *"]})
    result = s.act("look", threading.Event())
    with Ledger.open() as ledger:
        [task] = ledger.tasks(session_id=s.session_id)
        steps = ledger.tool_steps(task.id)
        turns = [t for t in ledger.turns(session_id=s.session_id) if t.task_id == task.id]
    assert task.id == result.task_id and task.end == "answered" and (task.steps, task.tool_steps) == (3, 2)
    assert [(t.step, t.kind) for t in turns] == [(1, "task"), (2, "task"), (3, "task")]
    assert [(st.tool, st.ok, st.exit_code) for st in steps] == [("read", True, None), ("run", False, 3)]
    assert steps[1].permission.startswith("allowed")
    assert subprocess.run(["git", "status", "--porcelain"], cwd=project, capture_output=True, text=True).stdout == ""


def test_a_secret_file_read_keeps_the_rest_of_the_task_on_this_machine(project: Path) -> None:
    cloud = ScriptedBackend([call("read", 0, path="secrets/token.txt"), "never"], name="claude", local=False,
                            tool_calls=True)  # fmt: skip
    local = ScriptedBackend(["The token file holds a password."], name="local", tool_calls=True)
    config = Config().with_overrides({"general.backend": "auto", "routers.privacy.patterns": ["secrets/**"]})
    cloud.load()
    s = ChatSession(config, ledger=Ledger.open, project_root=project, backends={"claude": cloud, "local": local})
    events: list[object] = []
    result = s.act("@claude what is in the secrets folder?", threading.Event(), events.append)
    assert result.end == "answered" and result.last is not None and result.last.backend == "local"
    assert len(cloud.seen) == 1  # the secret never reached it
    assert any("secrets/token.txt" in getattr(e, "text", "") for e in events)
    assert "hunter2" in "".join(m.content for m in local.seen[0])


def test_a_secret_file_read_ends_the_task_when_nothing_here_can_take_it(project: Path) -> None:
    cloud = ScriptedBackend([call("read", 0, path="secrets/token.txt"), "never"], name="claude", local=False,
                            tool_calls=True)  # fmt: skip
    config = Config().with_overrides({"general.backend": "claude", "routers.privacy.patterns": ["secrets/**"],
                                      "router.fallback": []})  # fmt: skip
    cloud.load()
    s = ChatSession(config, cloud, ledger=Ledger.open, project_root=project)
    result = s.act("what is in the secrets folder?", threading.Event())
    assert result.end == "error" and "no backend on this machine" in result.reason
    assert len(cloud.seen) == 1


def test_always_in_this_project_is_kept_outside_the_project_for_the_next_session(project: Path) -> None:
    from assistant.core.tools.approval import Approval
    from assistant.core.tools.project_rules import rules_file

    edit = call("edit", 1, path="a.py", old="x = 1", new="x = 2")
    backend = ScriptedBackend([call("read", 0, path="a.py"), edit, "done"], name="local", tool_calls=True)
    asked: list[str] = []

    def project_wide(request: object) -> Approval:
        asked.append(request.tool)  # type: ignore[attr-defined]
        return Approval("project")

    session(project, backend).act("edit a", threading.Event(), approve=project_wide)
    assert asked == ["edit"] and rules_file(project).is_file()
    assert not any(p.name.endswith(".toml") for p in project.iterdir())  # nothing written into the repository
    again = ScriptedBackend([call("read", 0, path="a.py"), call("edit", 1, path="a.py", old="x = 2", new="x = 3"),
                             "done"], name="local", tool_calls=True)  # fmt: skip
    result = session(project, again).act("edit a again", threading.Event(), approve=project_wide)
    assert result.end == "answered" and asked == ["edit"]  # a new session, and it did not ask
    assert (project / "a.py").read_text() == "x = 3\n"


def test_stopping_a_task_during_a_model_step_stops_within_a_token(project: Path) -> None:
    words = " ".join(f"word{i}" for i in range(400))
    backend = ScriptedBackend([words], name="local", tool_calls=True, delay=0.01)
    cancel = threading.Event()
    seen: list[str] = []

    def stop_at_the_fifth_word(event: object) -> None:
        text = getattr(event, "text", "")
        if text.strip():
            seen.append(text)
            if len(seen) == 5:
                cancel.set()

    result = session(project, backend).act("talk", cancel, stop_at_the_fifth_word)
    assert result.end == "cancelled" and result.steps == 1
    assert len(seen) == 5  # not one word more once it was stopped


def test_a_task_near_the_budget_s_cap_goes_on_here_and_ends_when_nothing_here_can(project: Path, fake) -> None:
    """Dollars are the budget router's: once the session's spending nears its cap, the
    task's next steps go to this machine; with none here, the task ends on the cap."""
    from tests.backends.claude.conftest import claude_config, claude_from
    from tests.fake_anthropic import tool_call

    fake.enqueue(tool_call("read", path="a.py"), tool_call("read", path="a.py"))
    local = ScriptedBackend(["x is 1."], name="local", tool_calls=True)
    config = claude_config(fake.base_url).with_overrides({"general.backend": "auto", "routers.budget.session_dollars": 1e-6,
                                                          "router.fallback": ["local"]})  # fmt: skip
    cloud = claude_from(config)
    cloud.load()
    s = ChatSession(config, ledger=Ledger.open, project_root=project, backends={"claude": cloud, "local": local})
    events: list[object] = []
    result = s.act("@claude what is x?", threading.Event(), events.append)
    assert result.end == "answered" and result.last is not None and result.last.backend == "local"
    assert len(fake.message_requests()) == 1  # one paid step, then the cap
    assert any("budget" in getattr(e, "text", "") for e in events)

    fake.enqueue(tool_call("read", path="a.py"))
    fixed = claude_config(fake.base_url).with_overrides({"general.backend": "claude", "router.fallback": [],
                                                         "routers.budget.session_dollars": 1e-6})  # fmt: skip
    alone = claude_from(fixed)
    alone.load()
    result = ChatSession(fixed, alone, ledger=Ledger.open, project_root=project).act("what is x?", threading.Event())
    assert result.end == "budget" and "cap" in result.reason
