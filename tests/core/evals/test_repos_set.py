"""The `task` task set (`repos`): its shipped repositories are fair (every hidden test
fails as shipped and passes with the reference), and an attempt runs the real task
loop on a scratch copy, on the evaluation's own backend and ledger, scored by the
hidden tests run sandboxed.

The model is a ScriptedBackend that calls the real tools (read, edit, write) with the
reference's changes, or answers without doing anything, or never stops calling.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

import pytest

from assistant.backends.scripted import ScriptedBackend
from assistant.core.config import Config
from assistant.core.evals import repos
from assistant.core.evals.execute import run_python
from assistant.core.evals.humaneval import DataMissing
from assistant.core.evals.tasks import EvalTask
from assistant.core.session.chat import ChatSession
from assistant.core.store.ledger import Ledger
from assistant.core.tool_calls import ToolCall, call_arguments

TASKS = repos.repo_tasks()
CONTEXT = 32_000  # room for the task's prompt, the files it reads and its edits


def reference(task: repos.RepoTask) -> dict[str, str]:
    """The reference's changed files: project path → text."""
    folder = task.folder / "reference"
    return {p.relative_to(folder).as_posix(): p.read_text(encoding="utf-8") for p in sorted(folder.rglob("*"))
            if p.is_file()}  # fmt: skip


def project_with(task: repos.RepoTask, into: Path, files: dict[str, str]) -> Path:
    project = repos.scratch_project(task, into)
    for name, text in files.items():
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text(text, encoding="utf-8")
    return project


def edit(path: str, before: str, after: str, n: int) -> ToolCall:
    """One `edit` call that turns `before` into `after`: the lines that differ, widened
    by their neighbours until `old` is found once in the file."""
    a, b = before.splitlines(keepends=True), after.splitlines(keepends=True)
    start = 0
    while start < min(len(a), len(b)) and a[start] == b[start]:
        start += 1
    end = 0
    while end < min(len(a), len(b)) - start and a[-1 - end] == b[-1 - end]:
        end += 1
    while not (old := "".join(a[start : len(a) - end])).strip() or before.count(old) != 1:
        if start > 0:
            start -= 1
        else:
            end -= 1
    new = "".join(b[start : len(b) - end])
    return ToolCall(f"e{n}", "edit", call_arguments({"path": path, "old": old, "new": new}))


def reference_script(task: repos.RepoTask) -> list[str | tuple[ToolCall, ...]]:
    """A model that reads each file the reference changes, then edits it (or writes a new
    one) into the reference, then answers."""
    changed = reference(task)
    existing = [name for name in changed if (task.repo / name).is_file()]
    reads = tuple(ToolCall(f"r{n}", "read", call_arguments({"path": name})) for n, name in enumerate(existing))
    writes = tuple(
        edit(name, (task.repo / name).read_text(encoding="utf-8"), text, n) if name in existing
        else ToolCall(f"w{n}", "write", call_arguments({"path": name, "content": text}))
        for n, (name, text) in enumerate(changed.items())
    )  # fmt: skip
    return [*([reads] if reads else []), writes, "Done: the change is made and the tests pass."]


def eval_session(tmp_path: Path, backend: ScriptedBackend) -> ChatSession:
    """What `assistant eval` hands a task set: a session on the backend, with the ledger."""
    backend.load()
    config = Config().with_overrides({"general.backend": backend.name})
    return ChatSession(config, backend, ledger=Ledger.open, project_root=tmp_path, batch=True)


@pytest.fixture
def scratch_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where the attempts' scratch folders go, to see that none is left."""
    folder = tmp_path / "scratch"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


# -- the shipped tasks --------------------------------------------------------------


def test_at_least_fifteen_tasks_each_with_an_instruction_a_repository_and_a_reference() -> None:
    assert len(TASKS) >= 15
    assert len({t.name for t in TASKS}) == len(TASKS)
    assert [t.task_id for t in repos.Repos().tasks()] == [t.name for t in TASKS]
    for task in TASKS:
        assert task.instruction and not task.instruction.startswith(("@", "/")), task.name
        assert 2 <= len([p for p in task.repo.rglob("*") if p.is_file()]) <= 8, task.name
        assert reference(task), task.name
        assert not list(task.folder.rglob("__pycache__")), task.name


@pytest.mark.parametrize("task", TASKS, ids=[t.name for t in TASKS])
def test_hidden_tests_fail_as_shipped_and_pass_with_the_reference(task: repos.RepoTask, tmp_path: Path) -> None:
    cancel = threading.Event()
    shipped = repos.hidden_verdict(task, repos.scratch_project(task, tmp_path / "shipped"), cancel, scratch=tmp_path)
    assert not shipped.passed and shipped.status.startswith("failed: "), shipped.status
    fixed_project = project_with(task, tmp_path / "fixed", reference(task))
    # The reference keeps the repository's own tests passing too.
    visible = run_python(repos.RUNNER.format(root=str(fixed_project), tests=str(fixed_project)), cancel,
                         timeout=repos.HIDDEN_TIMEOUT_S, scratch=tmp_path)  # fmt: skip
    assert visible.passed, visible.status
    fixed = repos.hidden_verdict(task, fixed_project, cancel, scratch=tmp_path)
    assert fixed.passed, fixed.status


# -- attempts through the task loop ---------------------------------------------------


@pytest.mark.parametrize("task", TASKS, ids=[t.name for t in TASKS])
def test_a_model_that_makes_the_reference_change_passes(task: repos.RepoTask, tmp_path: Path,
                                                         scratch_root: Path) -> None:  # fmt: skip
    backend = ScriptedBackend(reference_script(task), name="local", tool_calls=True, context_size=CONTEXT)
    session = eval_session(tmp_path, backend)
    said = repos.Repos().attempt(session, "local", EvalTask(task.name, task.instruction, task), threading.Event())
    assert (said.status, said.passed, said.well_formed) == ("passed", True, True)
    lines = said.completion.split("\n")  # "M pager.py (+1 −1)": one line a file the reference changes
    assert sorted(line.split(" ")[1] for line in lines) == sorted(reference(task))
    assert all(line[0] == ("M" if (task.repo / line.split(" ")[1]).is_file() else "A") for line in lines)
    assert said.model == "scripted-model" and said.tokens_out and said.model_seconds >= 0 and said.check_seconds > 0
    # Its steps are the evaluation's turns, in the evaluation's ledger; the task's instruction is said as given.
    ledger = session.ledger()
    assert ledger is not None
    [recorded] = ledger.tasks()
    assert recorded.instruction == task.instruction and recorded.end == "answered"
    assert list(scratch_root.iterdir()) == []  # the scratch copy is gone
    assert not list(task.folder.rglob("__pycache__"))  # and the shipped task untouched


def test_a_model_that_only_answers_is_well_formed_but_fails(tmp_path: Path, scratch_root: Path) -> None:
    task = TASKS[0]
    backend = ScriptedBackend(["The code looks right to me."], name="local", tool_calls=True, context_size=CONTEXT)
    said = repos.Repos().attempt(eval_session(tmp_path, backend), "local", EvalTask(task.name, task.instruction, task),
                                 threading.Event())  # fmt: skip
    assert not said.passed and said.well_formed
    assert said.status.startswith("failed: ") and "hidden tests failed" in said.status
    assert said.completion == "no file changed"
    assert list(scratch_root.iterdir()) == []


def test_a_model_that_never_stops_is_stopped_at_the_step_cap_not_well_formed(tmp_path: Path,
                                                                             scratch_root: Path) -> None:  # fmt: skip
    task = TASKS[0]
    looking = ToolCall("l0", "list", call_arguments({}))
    backend = ScriptedBackend([looking], name="local", tool_calls=True, context_size=CONTEXT)
    said = repos.Repos().attempt(eval_session(tmp_path, backend), "local", EvalTask(task.name, task.instruction, task),
                                 threading.Event())  # fmt: skip
    assert not said.passed and not said.well_formed
    assert "max_steps" in said.status and said.status.startswith("failed: ")
    assert len(backend.seen) == repos.MAX_STEPS


def test_a_cancelled_attempt_is_cancelled_and_leaves_nothing(tmp_path: Path, scratch_root: Path) -> None:
    task = TASKS[0]
    cancel = threading.Event()
    cancel.set()
    backend = ScriptedBackend(["never"], name="local", tool_calls=True, context_size=CONTEXT)
    said = repos.Repos().attempt(eval_session(tmp_path, backend), "local", EvalTask(task.name, task.instruction, task),
                                 cancel)  # fmt: skip
    assert said.status == "cancelled" and not said.passed
    assert list(scratch_root.iterdir()) == []


# -- the pieces -----------------------------------------------------------------------


def test_the_scratch_copy_is_a_git_repository_with_the_shipped_files_committed(tmp_path: Path) -> None:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    project = repos.scratch_project(TASKS[0], tmp_path)
    assert (project / ".git").is_dir()
    assert repos.changes(TASKS[0].repo, project) == "no file changed"
    listed = subprocess.run(["git", "ls-files"], cwd=project, capture_output=True, text=True, check=True).stdout.split()
    assert sorted(listed) == sorted(p.relative_to(TASKS[0].repo).as_posix() for p in TASKS[0].repo.rglob("*")
                                    if p.is_file())  # fmt: skip


def test_changes_name_each_file_added_changed_or_removed_and_never_follow_a_link(tmp_path: Path) -> None:
    before, after = tmp_path / "before", tmp_path / "after"
    for folder in (before, after):
        (folder / "pkg").mkdir(parents=True)
        (folder / "same.py").write_text("x = 1\n")
    (before / "gone.py").write_text("old\n")
    (before / "pkg" / "mod.py").write_text("a = 1\nb = 2\n")
    (after / "pkg" / "mod.py").write_text("a = 1\nb = 3\nc = 4\n")
    (after / "new.txt").write_text("one\ntwo\n")
    (after / "blob.bin").write_bytes(b"\xff\xfe\x00")
    os.mkfifo(after / "pipe")  # not a file: left out (reading it would wait forever)
    (after / "link").symlink_to(after / "pipe")  # a link: named, never read
    (after / "__pycache__").mkdir()
    (after / "__pycache__" / "x.pyc").write_bytes(b"\x00")
    assert repos.changes(before, after).split("\n") == ["A blob.bin", "D gone.py", "A link", "A new.txt (+2)",
                                                        "M pkg/mod.py (+2 −1)"]  # fmt: skip


def test_a_broken_task_folder_is_one_line_saying_which(tmp_path: Path) -> None:
    (tmp_path / "01-fine" / "repo").mkdir(parents=True)
    (tmp_path / "01-fine" / "hidden").mkdir()
    (tmp_path / "01-fine" / "task.toml").write_text('instruction = "fix it"\n')
    assert [t.instruction for t in repos.repo_tasks(tmp_path)] == ["fix it"]
    (tmp_path / "02-broken" / "repo").mkdir(parents=True)
    with pytest.raises(DataMissing, match=r"^repository task 02-broken: its task\.toml is missing$"):
        repos.repo_tasks(tmp_path)
    (tmp_path / "02-broken" / "task.toml").write_text("instruction = \n")
    with pytest.raises(DataMissing, match=r"^repository task 02-broken: task\.toml: ") as caught:
        repos.repo_tasks(tmp_path)
    assert "\n" not in str(caught.value)
    (tmp_path / "02-broken" / "task.toml").write_text('title = "no instruction"\n')
    with pytest.raises(DataMissing, match=r"^repository task 02-broken: task\.toml has no instruction$"):
        repos.repo_tasks(tmp_path)
    (tmp_path / "02-broken" / "task.toml").write_text('instruction = "do it"\n')
    with pytest.raises(DataMissing, match=r"^repository task 02-broken: its hidden/ folder is missing$"):
        repos.repo_tasks(tmp_path)
    with pytest.raises(DataMissing, match=r"^the repository tasks cannot be read"):
        repos.repo_tasks(tmp_path / "nowhere")
