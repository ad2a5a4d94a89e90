"""The project's checks are found from its files (issue 26, item 5): pytest, npm
test, cargo test, go test, make test, a pyproject task, and the configured
linter; a tool that is not installed is found with why it cannot run; `[edits]
test_cmd` and `lint_cmd` are "auto" when the config file does not set them, and
"" set there turns them off."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from assistant.core.config import Config, load
from assistant.core.edits.checks import configured, run_checks
from assistant.core.edits.project_checks import find_checks
from assistant.core.edits.types import FileChange


def project(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def tools(folder: Path, *names: str) -> dict[str, str]:
    """An environment whose PATH holds only `names`, each a command that succeeds."""
    folder.mkdir(exist_ok=True)
    for name in names:
        (folder / name).write_text("#!/bin/sh\nexit 0\n")
        (folder / name).chmod(0o755)
    return {"PATH": str(folder)}


def found(root: Path, env: dict[str, str]) -> dict[str, tuple[str, str, str]]:
    return {c.name: (c.command, c.why, c.missing) for c in find_checks(root, env)}


def test_python_tests_without_any_config_are_run_with_a_python_that_has_pytest(tmp_path: Path) -> None:
    root = project(tmp_path, {"calc.py": "", "test_calc.py": ""})
    [check] = find_checks(root, {"PATH": ""})  # no python on PATH: the app's own has pytest
    assert check.name == "tests" and check.why == "pytest, found: test_calc.py" and not check.missing
    assert check.command == f"{sys.executable} -m pytest -x -q"


def test_a_tests_folder_and_a_pytest_config_are_both_named(tmp_path: Path) -> None:
    root = project(tmp_path, {"tests/unit/test_a.py": "", "pyproject.toml": "[tool.pytest.ini_options]\n"})
    assert found(root, {"PATH": ""})["tests"][1] == "pytest, found: tests/ + pyproject"


def test_a_src_layout_tests_the_copy_s_code_not_an_installed_one(tmp_path: Path) -> None:
    root = project(tmp_path, {"src/calc/__init__.py": "", "tests/test_calc.py": ""})
    assert found(root, {"PATH": ""})["tests"][0].startswith("PYTHONPATH=src ")


def test_the_project_s_virtual_environment_is_the_one_used(tmp_path: Path) -> None:
    root = project(tmp_path / "proj", {"tests/test_calc.py": ""})
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root / ".venv")], check=True)
    command, _, missing = found(root, {"PATH": ""})["tests"]
    assert missing == f"pytest is not installed in {root / '.venv'}"  # not the app's, which has it
    [site] = (root / ".venv").glob("lib/python*/site-packages")
    (site / "dev.pth").write_text(str(Path(pytest.__file__).parent.parent) + "\n")  # now it has pytest
    command, _, missing = found(root, {"PATH": ""})["tests"]
    assert command == f"{root / '.venv' / 'bin' / 'python'} -m pytest -x -q" and missing == ""


@pytest.mark.parametrize(
    ("files", "command", "why"),
    [
        ({"package.json": '{"scripts": {"test": "jest"}}'}, "npm test", "npm test, found: package.json"),
        ({"Cargo.toml": "[package]\n"}, "cargo test", "cargo test, found: Cargo.toml"),
        ({"go.mod": "module x\n"}, "go test ./...", "go test, found: go.mod"),
        ({"Makefile": "all:\n\tcc x.c\n\ntest: all\n\t./run\n"}, "make test", "make test, found: Makefile"),
        ({"pyproject.toml": '[tool.poe.tasks]\ntest = "runner -x"\n'}, "runner -x",
         "poe task test: runner -x, found: pyproject"),
        ({"pyproject.toml": '[tool.hatch.envs.default.scripts]\ntest = "runner {args}"\n'}, "runner",
         "hatch task test: runner {args}, found: pyproject"),
    ],
)
def test_each_ecosystem_s_test_command_is_found(tmp_path: Path, files: dict[str, str], command: str, why: str) -> None:
    root = project(tmp_path / "proj", files)
    tool = command.split()[0]
    assert found(root, tools(tmp_path / "bin", tool))["tests"] == (command, why, "")
    assert found(root, {"PATH": str(tmp_path / "empty")})["tests"] == (
        command, why, f"{tool} is not installed (not on PATH)")


@pytest.mark.parametrize(
    "files",
    [
        {"package.json": '{"scripts": {"test": "echo \\"Error: no test specified\\" && exit 1"}}'},
        {"Makefile": "TEST := 1\ntest_x := 2\n.PHONY: test\n"},
        {"pyproject.toml": "[project]\nname = 'x'\n", "calc.py": ""},
        {"pyproject.toml": "not toml [", "package.json": "{not json"},
    ],
)
def test_no_tests_are_found_where_there_are_none(tmp_path: Path, files: dict[str, str]) -> None:
    root = project(tmp_path / "proj", files)
    assert "tests" not in found(root, tools(tmp_path / "bin", "npm", "make"))


@pytest.mark.parametrize(
    ("files", "tool", "why"),
    [
        ({"pyproject.toml": "[tool.ruff]\nline-length = 100\n"}, "ruff", "ruff, found: [tool.ruff]"),
        ({"ruff.toml": ""}, "ruff", "ruff, found: ruff.toml"),
        ({"setup.cfg": "[metadata]\n[flake8]\nmax-line-length = 100\n"}, "flake8", "flake8, found: setup.cfg"),
        ({"eslint.config.js": "export default [];\n"}, "eslint", "eslint, found: eslint.config.js"),
    ],
)
def test_the_configured_linter_is_found(tmp_path: Path, files: dict[str, str], tool: str, why: str) -> None:
    root = project(tmp_path / "proj", files)
    [check] = find_checks(root, tools(tmp_path / "bin", tool))
    assert check.name == "lint" and check.why == why and not check.missing
    assert check.command.endswith(" {files}") and str(tmp_path / "bin" / tool) in check.command
    assert check.reads("a.py") != check.reads("a.js")  # each lints its own language's files


def test_the_project_s_own_eslint_runs_through_its_node_modules_in_the_copy(tmp_path: Path) -> None:
    root = project(tmp_path / "proj", {".eslintrc.json": "{}", ".gitignore": "node_modules/\n",
                                       "a.js": "x\n", "node_modules/.bin/eslint": "#!/bin/sh\necho linted \"$@\"\n"})
    (root / "node_modules" / ".bin" / "eslint").chmod(0o755)
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    [check] = find_checks(root, {"PATH": ""})
    assert check.command == "node_modules/.bin/eslint {files}" and not check.missing
    config = Config().edits
    [outcome] = run_checks(root, [FileChange("a.js", "x\n", "y\n")], config, threading.Event())
    assert outcome.status == "passed", outcome.output  # git ignores node_modules: linked, not copied


def test_a_check_whose_tool_is_missing_does_not_run_and_is_not_held_against_the_edit(tmp_path: Path,
                                                                                     monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.delenv("VIRTUAL_ENV", raising=False)  # as run outside an activated venv (.ci/run activates one)
    root = project(tmp_path / "proj", {"pyproject.toml": '[tool.poe.tasks]\ntest = "no-such-runner-26"\n',
                                       "calc.py": "x = 1\n"})
    outcomes = run_checks(root, [FileChange("calc.py", "x = 1\n", "x = 2\n")], Config().edits, threading.Event())
    [outcome] = outcomes
    assert outcome.status == "not run" and outcome.passed
    assert outcome.line() == ("tests (poe task test: no-such-runner-26, found: pyproject): "
                              "not run: no-such-runner-26 is not installed (not on PATH)")


def test_a_linter_whose_files_did_not_change_does_not_run(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    root = project(tmp_path / "proj", {"ruff.toml": "", "notes.md": "a\n"})
    monkeypatch.setenv("PATH", tools(tmp_path / "bin", "ruff")["PATH"] + os.pathsep + os.environ["PATH"])
    [outcome] = run_checks(root, [FileChange("notes.md", "a\n", "b\n")], Config().edits, threading.Event())
    assert outcome.status == "not run" and outcome.output == "no changed file it reads"


def test_test_cmd_is_auto_when_the_file_leaves_it_out_and_off_when_set_empty(tmp_path: Path) -> None:
    root = project(tmp_path / "proj", {"test_calc.py": "", "ruff.toml": ""})
    absent = load(project(tmp_path, {"a.toml": "[edits]\ndirty = 'refuse'\n"}) / "a.toml").edits
    empty = load(project(tmp_path, {"b.toml": "[edits]\ntest_cmd = ''\nlint_cmd = ''\n"}) / "b.toml").edits
    assert (absent.test_cmd, absent.lint_cmd) == ("auto", "auto") and (empty.test_cmd, empty.lint_cmd) == ("", "")
    assert "tests" in [c.name for c in configured(absent, root).checks]
    off = configured(empty, root)
    assert off.checks == () and off.no_tests == 'tests turned off ([edits] test_cmd = "")'
    assert configured(absent, project(tmp_path / "bare", {"calc.py": ""})).no_tests == "no tests found"
