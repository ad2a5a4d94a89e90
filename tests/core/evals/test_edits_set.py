"""The `edit` task set (issue 29): every shipped task's hidden test fails on its source
and passes on its reference, run in the candidates' sandbox; and `Edits().attempt`
through the real refactor pipeline on scripted answers: the reference as a whole
file or as SEARCH/REPLACE passes and is well-formed, garbage is not well-formed, a
valid edit that does the wrong thing is well-formed and fails."""

from __future__ import annotations

import hashlib
import shutil
import sys
import threading
from dataclasses import replace
from pathlib import Path

import pytest

from assistant.backends.scripted import ScriptedBackend
from assistant.core.config import Config
from assistant.core.evals import edits
from assistant.core.evals.edits import Edits, EditTask, TaskDataError
from assistant.core.evals.tasks import Attempt, DataMissing, EvalTask
from assistant.core.session.chat import ChatSession
from assistant.core.store.ledger import Ledger

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the candidates' sandbox is Linux's")

TASKS = edits.edit_tasks()
NODE = shutil.which("node") is not None
FENCES = {"python": "python", "javascript": "javascript"}


def by_name(name: str) -> EditTask:
    return next(t for t in TASKS if t.name == name)


def runnable(task: EditTask) -> EditTask:
    if task.language.argv() is None:
        pytest.skip(f"{task.language.program} is not installed")
    return task


def with_reference(task: EditTask, folder: Path) -> Path:
    """The task's source files with its reference over them: what a correct edit leaves."""
    for name in task.sources():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(task.folder / name, folder / name)
    reference = task.folder / edits.REFERENCE
    for path in reference.rglob("*"):
        if path.is_file():
            shutil.copyfile(path, folder / path.relative_to(reference))
    return folder


def reference_text(task: EditTask) -> str:
    return (task.folder / edits.REFERENCE / task.file).read_text(encoding="utf-8")


def source_text(task: EditTask) -> str:
    return (task.folder / task.file).read_text(encoding="utf-8")


def whole_file(task: EditTask, text: str) -> str:
    return f"Here is the edited file.\n\n{task.file}\n```{FENCES[task.language.name]}\n{text}```\n"


def search_replace(task: EditTask, before: str, after: str) -> str:
    return f"{task.file}\n<<<<<<< SEARCH\n{before}=======\n{after}>>>>>>> REPLACE\n"


def session(tmp_path: Path, answers: list[str], *, name: str = "local", whole: bool = True) -> ChatSession:
    """A session whose one backend, `name`, plays `answers`; asked for whole files or blocks."""
    config = Config().with_overrides({"general.backend": name})
    config = replace(config, edits=replace(config.edits, whole_file_backends=(name,) if whole else ()))
    project = tmp_path / "project"
    project.mkdir(parents=True, exist_ok=True)
    return ChatSession(config, ScriptedBackend(answers, name=name), ledger=Ledger.open, project_root=project)


def attempt(tmp_path: Path, task: EditTask, answers: list[str], *, whole: bool = True,
            cancel: threading.Event | None = None) -> Attempt:  # fmt: skip
    scratch = tmp_path / "scratch"
    scratch.mkdir(parents=True, exist_ok=True)
    said = Edits(scratch=scratch).attempt(
        session(tmp_path, answers, whole=whole),
        "local",
        EvalTask(task.task_id, task.question(), task),
        cancel or threading.Event(),
    )
    assert not any(scratch.iterdir()), "the scratch copy is left behind"
    return said


def digest(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}  # fmt: skip


# --- the shipped tasks ---------------------------------------------------------------------


def test_the_set_is_at_least_forty_varied_tasks() -> None:
    assert len(TASKS) >= 40
    languages = [t.language.name for t in TASKS]
    assert languages.count("python") >= 36 and languages.count("javascript") >= 3
    assert len({t.task_id for t in TASKS}) == len(TASKS)
    assert len({t.instruction for t in TASKS}) == len(TASKS)
    for task in TASKS:
        assert task.sources() == [task.file], task.name  # what the model sees: the file it edits
        assert reference_text(task) != source_text(task), task.name
        # The test puts the task's folder first on the path: a module named like one of
        # Python's own would shadow it for the standard library too.
        assert Path(task.file).stem not in sys.stdlib_module_names, task.name


@pytest.mark.parametrize("task", TASKS, ids=[t.name for t in TASKS])
def test_the_hidden_test_fails_on_the_source_and_passes_on_the_reference(task: EditTask, tmp_path: Path) -> None:
    runnable(task)
    original = edits.hidden_test(task, task.folder, threading.Event(), scratch=tmp_path)
    assert not original.passed and original.status.startswith("failed: "), original.status
    reference = edits.hidden_test(task, with_reference(task, tmp_path / "reference"), threading.Event(),
                                  scratch=tmp_path)  # fmt: skip
    assert reference.passed, reference.status


def test_tasks_are_asked_as_a_refactor_of_their_file() -> None:
    asked = {t.task_id: t for t in Edits().tasks()}
    task = by_name("01-rename-function")
    question = asked[task.task_id].question
    assert task.instruction in question and source_text(task) in question and "SEARCH/REPLACE" in question
    assert (len(asked) == len(TASKS)) == NODE


def test_without_node_the_javascript_tasks_are_left_out_and_said(monkeypatch: pytest.MonkeyPatch,
                                                                tmp_path: Path) -> None:  # fmt: skip
    monkeypatch.setenv("PATH", str(tmp_path))  # a folder with no program in it
    javascript = sum(t.language.name == "javascript" for t in TASKS)
    assert edits.unavailable() == [f"{javascript} JavaScript edit tasks left out: `node` is not installed"]
    left = Edits().tasks()
    assert len(left) == len(TASKS) - javascript
    assert all(isinstance(t.data, EditTask) and t.data.language.name == "python" for t in left)


def test_with_node_nothing_is_left_out() -> None:
    if not NODE:
        pytest.skip("node is not installed")
    assert edits.unavailable() == []


@pytest.mark.parametrize(
    ("files", "said"),
    [
        ({"task.toml": "instruction = ["}, "task.toml cannot be read"),
        ({"task.toml": 'file = "a.py"\n', "a.py": "", "hidden_test.py": ""}, "has no instruction"),
        ({"task.toml": 'instruction = "x"\nfile = "a.rb"\nlanguage = "ruby"\n', "a.rb": ""}, "unknown language"),
        ({"task.toml": 'instruction = "x"\nfile = "b.py"\n', "a.py": "", "hidden_test.py": ""}, "'b.py' is not one"),
        ({"task.toml": 'instruction = "x"\nfile = "a.py"\n', "a.py": ""}, "hidden test hidden_test.py is missing"),
    ],
)
def test_a_broken_task_is_one_line_naming_it(tmp_path: Path, files: dict[str, str], said: str) -> None:
    folder = tmp_path / "tasks" / "07-broken"
    folder.mkdir(parents=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    with pytest.raises(TaskDataError) as raised:
        Edits(tmp_path / "tasks").tasks()
    message = str(raised.value)
    assert "07-broken" in message and said in message and "\n" not in message


def test_a_missing_task_folder_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(DataMissing, match="the edit tasks cannot be read"):
        Edits(tmp_path / "nowhere").tasks()


# --- attempts through the refactor pipeline --------------------------------------------------


@pytest.mark.parametrize("task", TASKS, ids=[t.name for t in TASKS])
def test_the_reference_as_a_whole_file_passes(task: EditTask, tmp_path: Path) -> None:
    runnable(task)
    before = digest(task.folder)
    said = attempt(tmp_path, task, [whole_file(task, reference_text(task))])
    assert said.passed and said.well_formed and said.status == "passed", said.status
    assert said.completion.startswith(f"--- a/{task.file}\n+++ b/{task.file}\n")
    assert said.model == "scripted-model" and said.tokens_in and said.tokens_out and said.model_seconds > 0
    assert said.check_seconds > 0
    assert digest(task.folder) == before  # the shipped task is never written


@pytest.mark.parametrize(
    "name", ["03-extract-function", "13-to-dataclass", "44-early-return", "48-js-default-parameter"]
)
def test_the_reference_as_search_replace_passes(name: str, tmp_path: Path) -> None:
    task = runnable(by_name(name))
    said = attempt(tmp_path, task, [search_replace(task, source_text(task), reference_text(task))], whole=False)
    assert said.passed and said.well_formed, said.status


def test_a_small_search_replace_block_passes(tmp_path: Path) -> None:
    task = by_name("05-fix-off-by-one-slice")
    said = attempt(tmp_path, task, [search_replace(task, "    return items[-n - 1:]\n", "    return items[-n:]\n")],
                   whole=False)  # fmt: skip
    assert said.passed and said.well_formed, said.status
    assert "-    return items[-n - 1:]\n+    return items[-n:]\n" in said.completion


def test_garbage_is_not_well_formed_and_both_turns_count(tmp_path: Path) -> None:
    task = by_name("01-rename-function")
    said = attempt(tmp_path, task, ["The code looks fine to me.", "I would not change anything."], whole=False)
    assert not said.well_formed and not said.passed
    assert said.status.startswith("no edit: ") and "\n" not in said.status
    turns = Ledger.open().turns()
    assert len(turns) == 2  # the answer and the retry, each a recorded turn of the backend
    assert said.tokens_in == sum(t.prompt_tokens or 0 for t in turns)
    assert said.tokens_out == sum(t.completion_tokens for t in turns)
    assert said.completion == ""
    assert Ledger.open().proposals() == []  # an eval's proposal is its sample, not a user's verdict


def test_an_edit_that_changes_nothing_is_not_well_formed(tmp_path: Path) -> None:
    task = by_name("09-empty-list-average")
    said = attempt(tmp_path, task, [whole_file(task, source_text(task))] * 2)
    assert not said.well_formed and not said.passed
    assert said.status == "no edit: the proposal changes nothing"


def test_a_valid_edit_that_does_the_wrong_thing_is_well_formed_and_fails(tmp_path: Path) -> None:
    task = by_name("09-empty-list-average")
    wrong = source_text(task).replace("    return sum", "    # average of the numbers\n    return sum")
    said = attempt(tmp_path, task, [whole_file(task, wrong)])
    assert said.well_formed and not said.passed
    assert said.status == "failed: ZeroDivisionError: division by zero"
    assert "+    # average of the numbers\n" in said.completion


def test_an_edit_that_breaks_the_syntax_is_repaired_once_then_scored(tmp_path: Path) -> None:
    task = by_name("09-empty-list-average")
    broken = source_text(task).replace("def average(numbers):", "def average(numbers:")
    said = attempt(tmp_path, task, [whole_file(task, broken), whole_file(task, reference_text(task))])
    assert said.passed and said.well_formed, said.status  # the repair round is the pipeline's own
    said = attempt(tmp_path / "again", task, [whole_file(task, broken)] * 2)
    assert said.well_formed and not said.passed and said.status.startswith("failed: ")


def test_a_javascript_task_runs_with_node(tmp_path: Path) -> None:
    task = runnable(by_name("49-js-empty-array"))
    assert attempt(tmp_path, task, [whole_file(task, reference_text(task))]).passed
    wrong = source_text(task).replace("Math.max(...numbers)", "Math.max(0, ...numbers)")
    said = attempt(tmp_path / "wrong", task, [whole_file(task, wrong)])
    assert said.well_formed and not said.passed and said.status.startswith("failed: AssertionError"), said.status


def test_a_cancelled_attempt_is_cancelled(tmp_path: Path) -> None:
    cancel = threading.Event()
    cancel.set()
    task = by_name("01-rename-function")
    said = attempt(tmp_path, task, [whole_file(task, reference_text(task))], cancel=cancel)
    assert said.status == "cancelled" and not said.passed
