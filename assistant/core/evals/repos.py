"""Small repositories as `task` tasks: a failing test to fix, a feature to add, a bug
a traceback points at, each done by the task loop and scored by tests it never saw.

Each task is a folder the package ships (assistant/data/evals/repos/NN-name/):
`task.toml` (the instruction, as a user would type it after /task), `repo/` (a small
Python project with its own visible tests, run with `python -m unittest`), `hidden/`
(the tests that score it) and `reference/` (the files a right answer changes, for
the project's own tests: every hidden test fails on `repo/` and passes with them).

An attempt copies `repo/` into a scratch folder, made a git repository with one
commit so that it looks like a user's project (`git diff` shows the model its work),
and opens a session rooted there on the evaluation's own backend object and ledger:
`[tools] mode = "auto"` (nobody is there to approve), a fixed step cap (the same for
every backend, so scores compare), `[edits] commit = false` (the changes stay in the
work tree, where the hidden tests read them), no checkpoints (the folder is thrown
away) and no lint or test command after the task (the hidden tests are the score).
Every model step is a recorded turn of kind `task`, as any task's is. Once the task
ends, `hidden/` is copied in and run by `run_python` (the sandbox, no network), so
whatever the model left in the project runs untrusted; the model's own commands ran
through the task loop's sandbox already.

well_formed: the task ended with an answer (not a step cap, a token cap or an error);
passed: the hidden tests pass.
"""

from __future__ import annotations

import difflib
import filecmp
import os
import shutil
import subprocess
import tempfile
import threading
import uuid
from dataclasses import dataclass, replace
from pathlib import Path

from assistant.core.config import Config
from assistant.core.evals.execute import Verdict, run_python
from assistant.core.evals.tasks import Attempt, DataMissing, EvalTask, task_folders
from assistant.core.results import TaskResult
from assistant.core.session.chat import ChatSession
from assistant.core.tomlfile import TomlProblem, parse_toml, read_toml_text

TASK_SET = "repos"
KIND = "task"
DATA = Path(__file__).parents[2] / "data" / "evals" / "repos"
MAX_STEPS = 20  # enough to read, fix, run the tests and answer, with room for a wrong turn
HIDDEN_TIMEOUT_S = 30.0  # the hidden tests take well under a second; a loaded machine is slow to start Python
GIT_TIMEOUT_S = 30.0
# Not the project's: left out of the summary of what the model changed.
NOT_THE_PROJECT = frozenset({".git", "__pycache__"})
SUMMARY_FILES = 40  # files named in the summary; the rest are counted
DIFF_MAX_BYTES = 1 << 20  # a larger (or binary) file is said to have changed, without its lines counted
GIT = ("git", "-c", "user.name=assistant eval", "-c", "user.email=eval@localhost", "-c", "commit.gpgsign=false",
       "-c", "core.hooksPath=/dev/null", "-c", "init.defaultBranch=main")  # fmt: skip
# What scores an attempt: the hidden tests found in `tests`, importing the project from
# `root` (Python runs isolated: neither folder is on its path by itself), and a last
# line saying what failed (the verdict's status).
RUNNER = """\
import os, sys, unittest
sys.dont_write_bytecode = True
root, tests = {root!r}, {tests!r}
os.chdir(root)
sys.path.insert(0, root)
suite = unittest.defaultTestLoader.discover(tests, pattern="test*.py", top_level_dir=tests)
result = unittest.TextTestRunner(stream=sys.stdout, verbosity=1).run(suite)
bad = result.failures + result.errors
if not result.testsRun:
    print("no hidden test ran")
elif bad:
    test, trace = bad[0]
    lines = trace.strip().splitlines()
    # The exception's own line: the first after a traceback's header that is neither a header nor a frame.
    error = next((line for line in lines[1:] if line.strip() and not line[0].isspace()
                  and not line.startswith("Traceback")), lines[-1] if lines else "")
    print(f"{{len(bad)}} of {{result.testsRun}} hidden tests failed: {{test.id().rsplit('.', 1)[-1]}}: {{error}}")
sys.exit(0 if result.testsRun and result.wasSuccessful() else 1)
"""


@dataclass(frozen=True, slots=True)
class RepoTask:
    name: str  # the folder's: "01-pager-off-by-one"
    folder: Path
    instruction: str

    @property
    def repo(self) -> Path:
        return self.folder / "repo"

    @property
    def hidden(self) -> Path:
        return self.folder / "hidden"


def repo_tasks(root: Path = DATA) -> list[RepoTask]:
    """The shipped tasks, in their folders' order; DataMissing (one line) when one is broken."""
    return [_task(folder) for folder in task_folders(root, "the repository tasks")]


def _task(folder: Path) -> RepoTask:
    try:
        data = parse_toml(read_toml_text(folder / "task.toml"))
    except FileNotFoundError:
        raise DataMissing(f"repository task {folder.name}: its task.toml is missing") from None
    except TomlProblem as exc:
        raise DataMissing(f"repository task {folder.name}: task.toml: {exc}") from exc
    instruction = data.get("instruction")
    if not isinstance(instruction, str) or not instruction.strip():
        raise DataMissing(f"repository task {folder.name}: task.toml has no instruction")
    for part in ("repo", "hidden"):
        if not (folder / part).is_dir():
            raise DataMissing(f"repository task {folder.name}: its {part}/ folder is missing")
    return RepoTask(folder.name, folder, instruction.strip())


def scratch_project(task: RepoTask, into: Path) -> Path:
    """A copy of the task's repository in `into`, committed once where git is there
    (a project without git still works: the tools walk its folder)."""
    project = into / "project"
    shutil.copytree(task.repo, project, ignore=shutil.ignore_patterns(*NOT_THE_PROJECT, "*.pyc"))
    env = {"PATH": os.environ.get("PATH", os.defpath), "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull,
           "HOME": str(into)}  # fmt: skip
    for args in (("init", "-q"), ("add", "-A"), ("commit", "-q", "-m", f"{task.name}, as shipped")):
        try:
            done = subprocess.run([*GIT, *args], cwd=project, env=env, capture_output=True, timeout=GIT_TIMEOUT_S,
                                  check=False)  # fmt: skip
        except (OSError, subprocess.TimeoutExpired):
            break
        if done.returncode != 0:
            break
    return project


def hidden_verdict(task: RepoTask, project: Path, cancel: threading.Event, *, scratch: Path | None = None) -> Verdict:
    """The task's hidden tests copied into `project` (a folder of their own) and run
    sandboxed against it; `scratch` holds the runner's own folder."""
    tests = project / f".hidden-tests-{uuid.uuid4().hex[:12]}"  # a name the model could not have taken
    try:
        shutil.copytree(task.hidden, tests, ignore=shutil.ignore_patterns(*NOT_THE_PROJECT, "*.pyc"))
    except OSError as exc:
        return Verdict(False, f"could not run: the hidden tests were not copied ({exc.strerror or exc})", 0.0)
    return run_python(RUNNER.format(root=str(project), tests=str(tests)), cancel, timeout=HIDDEN_TIMEOUT_S,
                      scratch=scratch)  # fmt: skip


def changes(before: Path, after: Path) -> str:
    """What differs from `before` in `after`, a line a file: "M pager.py (+1 −1)",
    "A slug.py (+12)", "D old.py"; "no file changed" when nothing does."""
    old, new = _files(before), _files(after)
    lines = []
    for name in sorted(old | new):
        if name not in new:
            lines.append(f"D {name}")
        elif name not in old:
            lines.append(f"A {name}{_counted(None, after / name)}")
        elif _differ(before / name, after / name):
            lines.append(f"M {name}{_counted(before / name, after / name)}")
    if len(lines) > SUMMARY_FILES:
        lines[SUMMARY_FILES:] = [f"… {len(lines) - SUMMARY_FILES} more"]
    return "\n".join(lines) or "no file changed"


def _files(root: Path) -> set[str]:
    """The files under `root` (a link counts as one, never followed), as POSIX paths."""
    found = set()
    for folder, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if d not in NOT_THE_PROJECT]
        for name in names:
            path = Path(folder, name)
            if not name.endswith(".pyc") and (path.is_symlink() or path.is_file()):
                found.add(path.relative_to(root).as_posix())
    return found


def _differ(one: Path, other: Path) -> bool:
    """Whether two files differ: a link by where it points (never read: it may name a
    pipe), a file by its bytes."""
    try:
        if one.is_symlink() or other.is_symlink():
            return not (one.is_symlink() and other.is_symlink()) or os.readlink(one) != os.readlink(other)
        return not filecmp.cmp(one, other, shallow=False)
    except OSError:
        return True


def _counted(old: Path | None, new: Path) -> str:
    """The lines a file's change added and removed, " (+2 −1)" (" (+2)" for a new
    file); "" for a link, or a file too large or not text."""
    before = "" if old is None else _text(old)
    after = _text(new)
    if before is None or after is None:
        return ""
    diff = list(difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0))
    added = sum(1 for line in diff[2:] if line.startswith("+"))
    removed = sum(1 for line in diff[2:] if line.startswith("-"))
    return f" (+{added} −{removed})" if old is not None else f" (+{added})"


def _text(path: Path) -> str | None:
    try:
        if path.is_symlink() or path.stat().st_size > DIFF_MAX_BYTES:
            return None
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def task_config(config: Config, backend: str) -> Config:
    """The evaluation's settings for a task: the user's, fixed on `backend`, with the
    loop unattended and its cap the same for every backend."""
    return config.with_overrides({
        "general.backend": backend, "tools.mode": "auto", "tools.max_steps": MAX_STEPS, "edits.commit": False,
        "edits.lint_cmd": "", "edits.test_cmd": "", "checkpoints.enabled": False,
    }, "assistant eval")  # fmt: skip


def task_session(session: ChatSession, backend: str, project: Path) -> ChatSession:
    """A session rooted at `project` on `session`'s own backend object and ledger, so
    its steps are measured, costed and recorded as the evaluation's other turns are.
    Never closed: closing it would close the backend and the ledger it shares."""
    shared = session.ledger()
    return ChatSession(task_config(session.config, backend), backends={backend: session.backend_named(backend)},
                       ledger=(lambda: shared) if shared is not None else None, project_root=project,
                       installed=False, named_by="assistant eval")  # fmt: skip


def _status(result: TaskResult, verdict: Verdict) -> str:
    """The attempt's one line: the hidden tests' verdict, and why the task ended when it
    did not end with an answer."""
    if verdict.passed:
        return "passed"
    if result.end == "error":
        return f"error: {result.reason or (result.error.message if result.error else 'the backend failed')}"
    if result.end != "answered":
        return f"{verdict.status} (the task ended: {result.reason or result.end})"
    return verdict.status


class Repos:
    """The task set: each repository's instruction done by the task loop on a scratch
    copy, then its hidden tests run."""

    name = TASK_SET
    kind = KIND

    def __init__(self, root: Path = DATA) -> None:
        self.root = root

    def tasks(self) -> list[EvalTask]:
        return [EvalTask(t.name, t.instruction, t) for t in repo_tasks(self.root)]

    def attempt(self, session: ChatSession, backend: str, task: EvalTask, cancel: threading.Event) -> Attempt:
        repo_task = task.data
        assert isinstance(repo_task, RepoTask)
        try:
            folder = Path(tempfile.mkdtemp(prefix="assistant-eval-repo-"))
        except OSError as exc:
            return Attempt(f"error: no scratch folder ({exc.strerror or exc})")
        try:
            try:
                project = scratch_project(repo_task, folder)
            except OSError as exc:
                return Attempt(f"error: the repository was not copied ({exc.strerror or exc})")
            result = task_session(session, backend, project).act(repo_task.instruction, cancel)
            said = Attempt("", completion=changes(repo_task.repo, project),
                           model=result.last.model if result.last is not None else "", tokens_in=result.tokens_in,
                           tokens_out=result.tokens_out, cost=result.cost,
                           model_seconds=result.model_seconds)  # fmt: skip
            if cancel.is_set() or result.end == "cancelled":
                return replace(said, status="cancelled")
            verdict = hidden_verdict(repo_task, project, cancel, scratch=folder)
            if cancel.is_set():
                return replace(said, status="cancelled")
            return replace(said, status=_status(result, verdict), passed=verdict.passed,
                           well_formed=result.end == "answered", check_seconds=verdict.seconds)  # fmt: skip
        finally:
            shutil.rmtree(folder, ignore_errors=True)
