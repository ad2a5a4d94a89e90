"""The project's own checks, found from its files, so that an edit is checked as
the person working on the project would check it, without configuring anything
(`[edits] test_cmd` and `lint_cmd` = "auto", the default).

Tests, the first of: a simple `test` task the project declares in pyproject.toml
(`[tool.poe.tasks]`, `[tool.hatch.envs.default.scripts]`); pytest, when the
project holds Python tests (`tests/`, `test/`, `test_*.py`) or a pytest config;
`npm test` (package.json's `scripts.test`, unless it is npm's placeholder);
`cargo test` (Cargo.toml); `go test ./...` (go.mod); `make test` (a Makefile
with a `test` target). Lint, the first configured of ruff (`[tool.ruff]`,
ruff.toml), flake8 (.flake8, `[flake8]` in setup.cfg or tox.ini) and eslint (its
config files, package.json's `eslintConfig`), on the changed files it reads.

Python tools are taken from the project's virtual environment (`.venv`, `venv`,
`env`, else `$VIRTUAL_ENV`) when it has one, since that is where its
dependencies are; only without one is any Python on PATH (or the app's own) that
has pytest used. A check whose tool is not installed is still found, with why it
cannot run (`missing`): the review says so, and it is not held against the edit.

Finding runs none of the project's code: it reads a few small files and asks an
interpreter, isolated (`python -I`), whether pytest is installed.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.core import sandbox
from assistant.core.smallfile import NotReadable, read_small_file
from assistant.core.tomlfile import TomlProblem, parse_toml

TESTS = "tests"
LINT = "lint"
PYTHON_FILES = (".py", ".pyi")
SCRIPT_FILES = (".js", ".jsx", ".mjs", ".cjs", ".ts", ".tsx", ".mts", ".cts", ".vue")
VENVS = (".venv", "venv", "env")
TEST_FOLDERS = ("tests", "test")
MAKEFILES = ("GNUmakefile", "makefile", "Makefile")
ESLINT_CONFIGS = (
    "eslint.config.js", "eslint.config.mjs", "eslint.config.cjs", "eslint.config.ts", ".eslintrc", ".eslintrc.js",
    ".eslintrc.cjs", ".eslintrc.json", ".eslintrc.yml", ".eslintrc.yaml",
)
NPM_PLACEHOLDER = "no test specified"  # `npm init`'s `echo "Error: no test specified" && exit 1`
READ_LIMIT = 1 << 20  # a settings file larger than this is not read
PROBE_S = 10.0  # an interpreter that takes longer to say whether it has pytest is taken not to
TEST_SCAN = 2000  # files looked at in a test folder before giving up on finding a test in it
MAKE_TARGET = re.compile(r"^test\s*::?(?!=)", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class ProjectCheck:
    """One check an edit gets: found in the project, or set in `[edits]`."""

    name: str  # "tests" or "lint"
    command: str  # a shell command run in the project's copy; `{files}`: the changed files it reads
    why: str = ""  # what it is and what found it: "pytest, found: tests/ + pyproject"; "" when set in [edits]
    missing: str = ""  # why it cannot run on this machine ("cargo is not installed"); "" when it can
    files: tuple[str, ...] = ()  # the suffixes of the changed files `{files}` takes; () = every one

    def label(self) -> str:
        """`tests (pytest, found: tests/)`: how the review names it."""
        return f"{self.name} ({self.why})" if self.why else self.name

    def reads(self, path: str) -> bool:
        """Whether `{files}` takes the changed file `path`."""
        return not self.files or path.endswith(self.files)


def find_checks(
    root: Path, env: Mapping[str, str] | None = None, *, wanted: Collection[str] = (LINT, TESTS)
) -> list[ProjectCheck]:
    """The project's lint and test checks, in the order they run (lint first), of those
    `wanted` (finding the tests may start the project's Python: not when they are set);
    `env`: the environment they will run with (its PATH and VIRTUAL_ENV are looked in)."""
    project = _Project(root, sandbox.environment() if env is None else env)
    finders = ((LINT, _lint), (TESTS, _tests))
    return [check for name, find in finders if name in wanted and (check := find(project)) is not None]


class _Project:
    """The files of the project that say how it is checked, each read at most once."""

    def __init__(self, root: Path, env: Mapping[str, str]) -> None:
        self.root = root
        self.path = env.get("PATH", os.defpath)
        self.virtual_env = env.get("VIRTUAL_ENV", "")
        self.env = dict(env)
        self._texts: dict[str, str] = {}

    def text(self, name: str) -> str:
        """The file `name` at the project's top ("" when absent or unreadable)."""
        if name not in self._texts:
            try:
                self._texts[name] = read_small_file(self.root / name, READ_LIMIT).decode("utf-8", "replace")
            except (OSError, NotReadable):
                self._texts[name] = ""
        return self._texts[name]

    def has(self, name: str) -> bool:
        return (self.root / name).is_file()

    def pyproject(self) -> dict[str, Any]:
        try:
            return parse_toml(self.text("pyproject.toml"))
        except TomlProblem:
            return {}

    def package(self) -> dict[str, Any]:
        try:
            found = json.loads(self.text("package.json") or "{}")
        except (ValueError, RecursionError):
            return {}
        return found if isinstance(found, dict) else {}

    def section(self, name: str, header: str) -> bool:
        """Whether the INI-style file `name` has the section `[header]`."""
        return re.search(rf"^\[{re.escape(header)}\]", self.text(name), re.MULTILINE) is not None

    def venv(self) -> Path | None:
        """The project's virtual environment, else the active one."""
        for name in VENVS:
            if (self.root / name / "pyvenv.cfg").is_file():
                return self.root / name
        return Path(self.virtual_env) if self.virtual_env and Path(self.virtual_env).is_dir() else None

    def tool(self, name: str) -> str:
        """Where the command `name` is: the virtual environment's, else PATH's; "" when neither has it."""
        venv = self.venv()
        if venv is not None and os.access(venv / "bin" / name, os.X_OK):
            return str(venv / "bin" / name)
        return shutil.which(name, path=self.path) or ""

    def python_with(self, module: str) -> tuple[str, str]:
        """(the interpreter that has `module`, "") or ("", why none has)."""
        venv = self.venv()
        if venv is not None:
            python = str(venv / "bin" / "python")
            return (python, "") if self._imports(python, module) else ("", f"{module} is not installed in {venv}")
        found = [p for p in (shutil.which("python3", path=self.path), shutil.which("python", path=self.path)) if p]
        for python in dict.fromkeys([*found, sys.executable]):
            if self._imports(python, module):
                return python, ""
        return "", f"{module} is not installed (no virtual environment; looked in python3, python and {sys.executable})"

    def _imports(self, python: str, module: str) -> bool:
        probe = f"import importlib.util, sys; sys.exit(importlib.util.find_spec({module!r}) is None)"
        try:
            done = subprocess.run([python, "-I", "-c", probe], cwd=self.root, env=self.env, capture_output=True,
                                  timeout=PROBE_S, check=False)
        except (OSError, subprocess.SubprocessError):
            return False
        return done.returncode == 0


# -- tests -----------------------------------------------------------------------------


def _tests(project: _Project) -> ProjectCheck | None:
    for finder in (_declared_task, _pytest, _npm, _cargo, _go, _make):
        if (found := finder(project)) is not None:
            return found
    return None


def _declared_task(project: _Project) -> ProjectCheck | None:
    """A `test` task of poe or hatch, when it is one plain command: run as written,
    with the virtual environment's commands first on PATH, as those tools do."""
    tool = project.pyproject().get("tool", {})
    poe = _get(tool, "poe", "tasks", "test")
    if isinstance(poe, dict):
        poe = poe.get("cmd", poe.get("shell"))
    hatch = _get(tool, "hatch", "envs", "default", "scripts", "test")
    for who, task in (("poe", poe), ("hatch", hatch)):
        if not isinstance(task, str):
            continue
        command = re.sub(r"\{args(:[^}]*)?\}", "", task).strip()
        if not command or "{" in command or "\n" in command:
            continue  # not simple: a template or a script of several lines
        words = _words(command)
        if not words:
            continue
        venv = project.venv()
        if venv is not None:
            command = f'PATH={shlex.quote(str(venv / "bin"))}:"$PATH" {command}'
        why = f"{who} task test: {task.strip()}, found: pyproject"
        return ProjectCheck(TESTS, command, why, _missing(project, words[0]))
    return None


def _pytest(project: _Project) -> ProjectCheck | None:
    found = [*_python_tests(project.root), *_pytest_configs(project)]
    if not found:
        return None
    python, missing = project.python_with("pytest")
    src = project.root / "src"
    # A src layout installed in editable mode would otherwise import the project's files, not the edited copy's.
    prefix = "PYTHONPATH=src " if src.is_dir() and not (src / "__init__.py").exists() else ""
    command = f"{prefix}{shlex.quote(python or 'python3')} -m pytest -x -q"
    return ProjectCheck(TESTS, command, f"pytest, found: {' + '.join(found)}", missing)


def _python_tests(root: Path) -> list[str]:
    """What shows the project has Python tests: `tests/`, or a test file at its top."""
    for folder in TEST_FOLDERS:
        if (root / folder).is_dir() and _holds_python_tests(root / folder):
            return [f"{folder}/"]
    try:
        top = sorted(p.name for p in root.iterdir() if _is_test_file(p.name) and p.is_file())
    except OSError:
        return []
    return top[:1]


def _holds_python_tests(folder: Path) -> bool:
    seen = 0
    for _, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if not d.startswith(".") and d not in ("__pycache__", "node_modules")]
        if any(_is_test_file(f) for f in files):
            return True
        seen += len(files)
        if seen > TEST_SCAN:
            return False
    return False


def _is_test_file(name: str) -> bool:
    return name.endswith(".py") and (name.startswith("test_") or name.endswith("_test.py"))


def _pytest_configs(project: _Project) -> list[str]:
    configs = []
    if "pytest" in project.pyproject().get("tool", {}):
        configs.append("pyproject")
    for name in ("pytest.ini", "conftest.py"):
        if project.has(name):
            configs.append(name)
    for name, header in (("setup.cfg", "tool:pytest"), ("tox.ini", "pytest")):
        if project.section(name, header):
            configs.append(name)
    return configs


def _npm(project: _Project) -> ProjectCheck | None:
    script = _get(project.package(), "scripts", "test")
    if not isinstance(script, str) or not script.strip() or NPM_PLACEHOLDER in script:
        return None
    return ProjectCheck(TESTS, "npm test", "npm test, found: package.json", _missing(project, "npm"))


def _cargo(project: _Project) -> ProjectCheck | None:
    if not project.has("Cargo.toml"):
        return None
    return ProjectCheck(TESTS, "cargo test", "cargo test, found: Cargo.toml", _missing(project, "cargo"))


def _go(project: _Project) -> ProjectCheck | None:
    if not project.has("go.mod"):
        return None
    return ProjectCheck(TESTS, "go test ./...", "go test, found: go.mod", _missing(project, "go"))


def _make(project: _Project) -> ProjectCheck | None:
    for name in MAKEFILES:
        if MAKE_TARGET.search(project.text(name)):
            return ProjectCheck(TESTS, "make test", f"make test, found: {name}", _missing(project, "make"))
    return None


# -- lint ------------------------------------------------------------------------------


def _lint(project: _Project) -> ProjectCheck | None:
    ruff = [name for name in ("ruff.toml", ".ruff.toml") if project.has(name)]
    if "ruff" in project.pyproject().get("tool", {}):
        ruff.insert(0, "[tool.ruff]")
    if ruff:
        return _linter(project, "ruff", "ruff check {files}", ruff[0], PYTHON_FILES)
    flake8 = [n for n in (".flake8",) if project.has(n)] + [
        n for n in ("setup.cfg", "tox.ini") if project.section(n, "flake8")]
    if flake8:
        return _linter(project, "flake8", "flake8 {files}", flake8[0], PYTHON_FILES)
    eslint = [n for n in ESLINT_CONFIGS if project.has(n)]
    if not eslint and "eslintConfig" in project.package():
        eslint = ["package.json"]
    if eslint:
        local = project.root / "node_modules" / ".bin" / "eslint"
        if os.access(local, os.X_OK):  # the project's own (the copy reaches its node_modules)
            return ProjectCheck(LINT, "node_modules/.bin/eslint {files}", f"eslint, found: {eslint[0]}", "",
                                SCRIPT_FILES)
        return _linter(project, "eslint", "eslint {files}", eslint[0], SCRIPT_FILES)
    return None


def _linter(project: _Project, tool: str, command: str, config: str, files: tuple[str, ...]) -> ProjectCheck:
    where = project.tool(tool)
    run = command.replace(tool, shlex.quote(where), 1) if where else command
    return ProjectCheck(LINT, run, f"{tool}, found: {config}", _missing(project, tool), files)


def _missing(project: _Project, tool: str) -> str:
    """Why `tool` cannot run here ("" when it can)."""
    if project.tool(tool):
        return ""
    venv = project.venv()
    where = f"in {venv / 'bin'} nor on PATH" if venv else "on PATH"
    return f"{tool} is not installed (not {where})"


def _get(table: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(table, dict):
            return None
        table = table.get(key)
    return table


def _words(command: str) -> list[str]:
    """The command's words past any leading `NAME=value` assignments."""
    try:
        words = shlex.split(command)
    except ValueError:
        return []
    while words and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=.*", words[0]):
        words.pop(0)
    return words
