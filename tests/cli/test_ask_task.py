"""`assistant ask --task`: the model acts, nobody watching; `--mode` and `--allow` decide
what runs, and a step they leave to a person is refused with one line naming the flag."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.test_ask_json import valid
from tests.cli.test_cli_input import ask, claude_flags
from tests.core.edits.test_vcs import make_repo
from tests.fake_anthropic import Answer, FakeAnthropic, tool_call

CALC = "def add(a, b):\n    return a - b\n"
TEST = "from calc import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n"
PYTEST = f"{sys.executable} -m pytest -q -p no:cacheprovider"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "proj"
    make_repo(root, {"calc.py": CALC, "test_calc.py": TEST, ".gitignore": "__pycache__/\n"})
    monkeypatch.chdir(root)  # the project is the current directory
    return root


def script(fake: FakeAnthropic) -> None:
    fake.enqueue(
        tool_call("read", path="calc.py"),
        tool_call("edit", path="calc.py", old="return a - b", new="return a + b"),
        tool_call("run", command=PYTEST),
        Answer("Fixed."),
    )


def test_ask_task_with_allow_rules_runs_every_step_and_streams_valid_json(fake: FakeAnthropic, project: Path) -> None:
    script(fake)
    code, out, err = ask("--task", "--stream-json", "--allow", "edit", "--allow", "run: *pytest *",
                         *claude_flags(fake.base_url), "make the failing test pass")  # fmt: skip
    assert code == 0, err
    objects = [valid(json.loads(line)) for line in out.splitlines()]
    results = [o for o in objects if o["type"] == "tool_result"]
    assert [(o["tool"], o["ok"]) for o in results] == [("read", True), ("edit", True), ("run", True)]
    done = objects[-1]
    assert done["type"] == "done" and done["kind"] == "task" and done["task"]["end"] == "answered"
    assert done["task"]["steps"] == 4 and done["task"]["commit"]
    assert subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=project).returncode == 0


def test_ask_task_refuses_what_nobody_allowed_and_says_which_flag(fake: FakeAnthropic, project: Path) -> None:
    script(fake)
    code, out, err = ask("--task", *claude_flags(fake.base_url), "make the failing test pass")
    assert code == 0, err  # the model was told, and answered
    assert (project / "calc.py").read_text() == CALC  # nothing was edited
    refused = [line for line in err.splitlines() if "needs approval" in line]
    assert len(refused) == 2 and "--allow 'edit: calc.py'" in refused[0]
    assert out == "Fixed.\n"


def test_a_bad_allow_rule_is_one_line_and_exit_2(fake: FakeAnthropic, project: Path) -> None:
    code, out, err = ask("--task", "--allow", "teleport: *", *claude_flags(fake.base_url), "go")
    assert code == 2 and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1 and "teleport" in err
    assert fake.message_requests() == []


def test_cost_shows_the_tasks_among_the_turns(fake: FakeAnthropic, project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from assistant.cli.commands import main

    script(fake)
    code, _, err = ask("--task", "--allow", "edit", "--allow", "run: *pytest *", *claude_flags(fake.base_url), "fix it")
    assert code == 0, err
    capsys.readouterr()
    assert main(["cost"]) == 0
    line = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("Tasks:"))
    assert "Tasks: 1 (1 answered)" in line and "4 model steps, 3 tool calls" in line and "1 committed, 0 undone" in line
    assert main(["cost", "--json"]) == 0
    tasks = json.loads(capsys.readouterr().out)["tasks"]
    assert tasks["tasks"] == 1 and tasks["ends"] == {"answered": 1} and tasks["tool_steps"] == 3


def test_a_question_with_task_among_its_prefixes_is_a_task(fake: FakeAnthropic, project: Path) -> None:
    fake.enqueue(tool_call("read", path="calc.py"), Answer("It subtracts."))
    code, out, err = ask("--json", *claude_flags(fake.base_url), "@quality @task what does add do?")
    assert code == 0, err
    done = json.loads(out)
    assert done["kind"] == "task" and done["task"]["tool_steps"] == 1 and done["answer"] == "It subtracts."
    sent = json.loads(fake.message_requests()[0].body)["messages"][0]["content"][0]["text"]
    assert sent == "what does add do?"  # the prefixes are read, not sent
