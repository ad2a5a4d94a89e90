"""The `run` tool (core/tools/run.py) with real processes: the exit code and the
output the model is told, an environment without the app's secrets, and a command
stopped, with everything it started, at its timeout or when the task is cancelled."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from assistant.core.config import ToolsConfig
from assistant.core.tools.catalog import by_name
from assistant.core.tools.types import Tool, ToolContext, ToolResult
from tests.core.edits.gitrepo import make_repo
from tests.patience import wait_until

# The shell and a child each write their pid, then wait on a sleep that outlives any test.
SLEEPERS = "echo $$ > shell.pid; sleep 300 & echo $! > child.pid; wait"


def run_tool() -> Tool:
    found = by_name("run")
    assert found is not None
    return found


@pytest.fixture
def ctx(tmp_path: Path) -> ToolContext:
    return ToolContext(make_repo(tmp_path / "proj", {"calc.py": "X = 1\n"}))


def run(ctx: ToolContext, command: str, **args: object) -> ToolResult:
    return run_tool().execute({"command": command, **args}, ctx)


def alive(pid: int) -> bool:
    """Running, not a zombie waiting to be reaped."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return False
    return fields[0] != "Z"


def ended(pid: int) -> Callable[[], bool]:
    return lambda: not alive(pid)


def pids(root: Path) -> list[int]:
    return [int((root / name).read_text()) for name in ("shell.pid", "child.pid")]


def test_the_model_is_told_the_exit_code_and_the_output(ctx: ToolContext) -> None:
    failed = run(ctx, "echo out; echo err >&2; cat calc.py; exit 3")
    assert not failed.ok and failed.exit_code == 3
    assert failed.summary == "exit 3" and failed.content.startswith("exit 3 in ")  # the step's line adds the time
    assert failed.content.splitlines()[1:] == ["out", "err", "X = 1"]
    assert failed.output == failed.content
    passed = run(ctx, "true")
    assert passed.ok and passed.exit_code == 0 and passed.content.endswith(", with no output")


def test_long_output_keeps_its_first_and_last_lines(ctx: ToolContext) -> None:
    result = run(replace(ctx, tools=ToolsConfig(output_lines=6)), "seq 1 100")
    assert result.content.splitlines()[1:] == ["1", "2", "3", "…", "98", "99", "100"]


def test_the_command_gets_no_secret_from_the_app(ctx: ToolContext, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-parent-secret-0123")
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_parent_secret")
    monkeypatch.setenv("PROJECT_FLAVOUR", "passed-on")
    monkeypatch.setenv("OTHER_SETTING", "not-passed")
    allowed = replace(ctx, tools=ToolsConfig(run_env=("PROJECT_FLAVOUR", "GITHUB_TOKEN")))
    assert run(allowed, "env > env.txt").ok
    seen = (ctx.root / "env.txt").read_text()
    assert "ANTHROPIC_API_KEY" not in seen and "sk-ant-parent-secret" not in seen
    assert "ghp_parent_secret" not in seen  # allowed by name, still a credential's name
    assert "PROJECT_FLAVOUR=passed-on" in seen
    assert "OTHER_SETTING" not in seen


def test_a_timeout_stops_the_command_and_everything_it_started(ctx: ToolContext) -> None:
    started: list[int] = []
    # Long enough for the shell to write both pids on a loaded machine.
    capped = replace(ctx, tools=ToolsConfig(run_timeout=3), on_start=started.append)
    result = run(capped, SLEEPERS, timeout=100)  # asked for more than the configuration allows
    assert not result.ok and result.exit_code is None
    assert result.summary.startswith("timed out after 3 s: stopped, with every process it started")
    assert len(started) == 1
    for pid in pids(ctx.root):
        wait_until(ended(pid), f"process {pid} ended", timeout=10)


def test_cancel_stops_the_command_and_everything_it_started(ctx: ToolContext) -> None:
    cancelled_at: list[float] = []

    def cancel_once_running() -> None:
        wait_until((ctx.root / "child.pid").exists, "the command started")
        time.sleep(0.5)
        cancelled_at.append(time.monotonic())
        ctx.cancel.set()

    canceller = threading.Thread(target=cancel_once_running, daemon=True)
    canceller.start()
    result = run(ctx, SLEEPERS)
    canceller.join()
    assert time.monotonic() - cancelled_at[0] < 10
    assert not result.ok and result.exit_code is None
    assert result.summary.startswith("cancelled after ")
    for pid in pids(ctx.root):
        wait_until(ended(pid), f"process {pid} ended", timeout=10)


def test_an_empty_command_is_refused(ctx: ToolContext) -> None:
    result = run(ctx, "   ")
    assert not result.ok and "`command` is empty" in result.content
    for command in ("echo a\0b", "echo \ud800"):
        assert "holds a NUL or a lone surrogate" in run(ctx, command).content
    assert run_tool().execute({"command": "true", "timeout": 0}, ctx).summary.startswith("bad arguments: `timeout`")


def test_subject_and_describe_are_the_command(ctx: ToolContext) -> None:
    assert run_tool().subject({"command": " pytest -x "}) == "pytest -x"
    assert run_tool().describe({"command": "pytest -x\n&& echo done"}) == "run pytest -x && echo done"
    assert run_tool().kind == "run"
