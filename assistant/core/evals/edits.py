"""The `edit` task set: small source files the project writes and ships, each with an
instruction a user would type for /refactor and a hidden test, run through the real
refactor pipeline and scored by that test.

A task is a folder of `data/evals/edits/` (its README says what each file is). An
attempt copies the task's source files (not `task.toml`, the hidden test or
`reference/`) to a scratch folder, removed afterwards, and asks the forced backend
there through `Refactorer(session, scratch)`: the same prompt, edit format, parse,
plan, one retry, syntax repair round as /refactor. What it proposes is written with
`chosen_changes` and `files.apply_changes`, not `Refactorer.apply`: the scratch folder
is no repository and no one's work, so there is no commit, backup or checkpoint to
make. Well-formed: the proposal parsed, planned and applied. Then the hidden test
runs beside the edited files in the candidates' sandbox (core/evals/execute.py), and
passed is its exit status.

The eval's own test is the only check: the project's lint and test commands
(`[edits] lint_cmd`, `test_cmd`) are the user's project's, not the task's, so the
eval's refactorer has none; and a proposal it makes is not recorded as a user's
verdict (the ledger's proposals: the report's acceptance figure and the choice of
edit format), since its score is the eval sample itself.

Tasks in a language whose runner is not installed (JavaScript without `node`) are
left out of `tasks()`; `unavailable()` says which and why, one line each.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.core.edits.files import apply_changes
from assistant.core.edits.prompts import refactor_prompt
from assistant.core.edits.types import EditError
from assistant.core.evals.execute import Verdict, run_argv
from assistant.core.evals.tasks import Attempt, DataMissing, EvalTask, task_folders
from assistant.core.smallfile import NotReadable, read_small_file
from assistant.core.tomlfile import TomlProblem, parse_toml
from assistant.core.workflows.refactor import Proposal, Refactorer, chosen_changes, unified_diff

if TYPE_CHECKING:
    from assistant.core.session.chat import ChatSession

TASK_SET = "edits"
KIND = "edit"
DATA = Path(__file__).parents[2] / "data" / "evals" / "edits"  # where the package data lands too
TASK_FILE = "task.toml"
REFERENCE = "reference"  # the file as a correct edit leaves it
FORCED_BY = "assistant eval"
READ_LIMIT = 1 << 20  # a task's file larger than this is not one the project wrote
STATUS_CHARS = 200
# `python -I` leaves the script's folder off sys.path: the test imports the edited module from its folder.
PYTHON_BOOT = "import runpy, sys; sys.path.insert(0, ''); runpy.run_path(sys.argv[1], run_name='__main__')"
# node's own report of a failed assert ends with its version: the error on one line says what failed.
NODE_BOOT = (
    "try { require('./' + process.argv[1]); } catch (e) { const m = e instanceof Error ? "
    "`${e.name}: ${e.message}` : String(e); console.error(m.replace(/\\s+/g, ' ').trim()); process.exit(1); }"
)


class TaskDataError(DataMissing):
    """A task of the set cannot be read; one line naming it and why."""


@dataclass(frozen=True, slots=True)
class Language:
    name: str  # as `task.toml` says: "python", "javascript"
    label: str  # as a person reads it
    test: str  # the hidden test's file name in a task's folder
    program: str  # what runs it; "" is this Python
    boot: tuple[str, ...]  # the arguments before the test's name

    def argv(self) -> tuple[str, ...] | None:
        """The command that runs the hidden test; None when its program is not installed."""
        if not self.program:
            return (sys.executable, "-I", "-S", *self.boot, self.test)
        found = shutil.which(self.program)
        return (found, *self.boot, self.test) if found else None


LANGUAGES = {
    "python": Language("python", "Python", "hidden_test.py", "", ("-c", PYTHON_BOOT)),
    "javascript": Language("javascript", "JavaScript", "hidden_test.js", "node", ("-e", NODE_BOOT)),
}


@dataclass(frozen=True, slots=True)
class EditTask:
    name: str  # the folder's name: "01-rename-function"
    folder: Path
    instruction: str  # what a user would type for /refactor
    file: str  # the path edited, relative to the task's folder
    language: Language

    @property
    def task_id(self) -> str:
        return f"{TASK_SET}/{self.name}"

    def sources(self) -> list[str]:
        """The files a model sees and may edit: all of the folder but the task's own."""
        return _sources(self.folder, self.language)

    def question(self) -> str:
        """What the model is asked (in the SEARCH/REPLACE form: the budget's estimate)."""
        content = (self.folder / self.file).read_text(encoding="utf-8")
        return refactor_prompt(self.file, content, self.instruction, whole_file=False)[-1].content


def load(folder: Path) -> EditTask:
    """The task in `folder`, or `TaskDataError`."""
    try:
        table = parse_toml(read_small_file(folder / TASK_FILE, READ_LIMIT).decode("utf-8"))
    except (OSError, NotReadable, UnicodeDecodeError, TomlProblem) as exc:
        raise TaskDataError(f"edit task {folder.name}: {TASK_FILE} cannot be read ({exc})") from None
    instruction, file, language = table.get("instruction"), table.get("file"), table.get("language", "python")
    if not isinstance(instruction, str) or not instruction.strip():
        raise TaskDataError(f"edit task {folder.name}: {TASK_FILE} has no instruction")
    if language not in LANGUAGES:
        raise TaskDataError(f"edit task {folder.name}: unknown language {language!r} (one of {', '.join(LANGUAGES)})")
    task = EditTask(
        folder.name, folder, instruction.strip(), file if isinstance(file, str) else "", LANGUAGES[language]
    )
    if not task.file or task.file not in task.sources():
        raise TaskDataError(f"edit task {folder.name}: file {file!r} is not one of its source files")
    if not (folder / task.language.test).is_file():
        raise TaskDataError(f"edit task {folder.name}: its hidden test {task.language.test} is missing")
    return task


def edit_tasks(root: Path = DATA) -> list[EditTask]:
    """Every task under `root`, in its folders' order, whether it can run here or not."""
    return [load(folder) for folder in task_folders(root, "the edit tasks")]


def unavailable(root: Path = DATA) -> list[str]:
    """One line per language whose tasks `tasks()` leaves out, and why."""
    missing: dict[Language, int] = {}
    for task in edit_tasks(root):
        if task.language.argv() is None:
            missing[task.language] = missing.get(task.language, 0) + 1
    return [f"{n} {language.label} edit task{'s' if n != 1 else ''} left out: `{language.program}` is not installed"
            for language, n in missing.items()]  # fmt: skip


def hidden_test(task: EditTask, folder: Path, cancel: threading.Event, *, scratch: Path | None = None) -> Verdict:
    """The task's hidden test, run in the sandbox beside the source files as they are in
    `folder` (the task's own folder: the original; its `reference/` with the rest)."""
    argv = task.language.argv()
    if argv is None:
        return Verdict(False, f"could not run: `{task.language.program}` is not installed", 0.0)
    files = {name: (folder / name).read_bytes() for name in _sources(folder, task.language)}
    files[task.language.test] = (task.folder / task.language.test).read_bytes()  # the real one, whatever was made
    return run_argv(argv, files, cancel, scratch=scratch)


def _sources(folder: Path, language: Language) -> list[str]:
    """The files of `folder` but a task's own (its settings, hidden test, reference) and bytecode."""
    own = {TASK_FILE, language.test, REFERENCE}
    relative = (p.relative_to(folder) for p in folder.rglob("*") if p.is_file())
    return sorted(r.as_posix() for r in relative if r.parts[0] not in own and "__pycache__" not in r.parts)


class _EvalRefactorer(Refactorer):
    """The refactor pipeline on a task's scratch copy: no project checks (the hidden
    test is the check) and no proposal records (the eval sample is the record)."""

    def __init__(self, session: ChatSession, root: Path) -> None:
        super().__init__(session, root)
        self.config = replace(self.config, edits=replace(self.config.edits, lint_cmd="", test_cmd=""))

    def record_outcome(self, proposal: Proposal, outcome: str, change_id: str = "") -> None:
        return None


class Edits:
    """The task set: each task's instruction proposed as a /refactor of its file on a
    scratch copy, applied, and scored by its hidden test."""

    name = TASK_SET
    kind = KIND

    def __init__(self, root: Path = DATA, *, scratch: Path | None = None) -> None:
        self.root = root
        self.scratch = scratch  # where the scratch folders are made (the system's temp folder by default)

    def tasks(self) -> list[EvalTask]:
        return [EvalTask(t.task_id, t.question(), t) for t in edit_tasks(self.root) if t.language.argv() is not None]

    def attempt(self, session: ChatSession, backend: str, task: EvalTask, cancel: threading.Event) -> Attempt:
        edit = task.data
        assert isinstance(edit, EditTask)
        folder = Path(tempfile.mkdtemp(prefix="assistant-eval-edit-", dir=self.scratch))
        try:
            root = folder / "project"
            for name in edit.sources():
                (root / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(edit.folder / name, root / name)
            return self._attempt(session, backend, edit, root, cancel)
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def _attempt(self, session: ChatSession, backend: str, edit: EditTask, root: Path,
                 cancel: threading.Event) -> Attempt:  # fmt: skip
        refactorer = _EvalRefactorer(session, root)
        proposal = refactorer.propose(edit.file, edit.instruction, cancel, forced=backend, forced_by=FORCED_BY)
        said = _figures(proposal)
        last = proposal.result
        if cancel.is_set() or (last is not None and last.outcome in ("cancelled", "interrupted")):
            return replace(said, status="cancelled")
        if last is not None and last.outcome == "error":
            return replace(said, status=f"error: {last.error.message if last.error else 'the backend failed'}")
        try:
            changes = chosen_changes(proposal, None, allow_new=True) if proposal.ok else []
            if changes:
                apply_changes(root, changes, max_bytes=refactorer.config.edits.max_file_bytes)
        except EditError as exc:
            return replace(said, status=_line(f"no edit: {exc}"))
        if not changes:
            return replace(said, status=_line(f"no edit: {proposal.error or 'the proposal changes nothing'}"))
        diff = "".join(unified_diff(c) for c in changes)
        verdict = hidden_test(edit, root, cancel, scratch=self.scratch)
        if cancel.is_set():
            return replace(said, status="cancelled", well_formed=True, completion=diff)
        return replace(said, status=_line(verdict.status), passed=verdict.passed, well_formed=True, completion=diff,
                       check_seconds=verdict.seconds)  # fmt: skip


def _figures(proposal: Proposal) -> Attempt:
    """The model's figures over every turn a proposal took (a retry makes two)."""
    results = proposal.results
    ins = [r.stats.tokens_in for r in results]
    outs = [r.stats.tokens_out for r in results]
    return Attempt("", model=results[-1].model if results else "", tokens_in=_total(ins), tokens_out=_total(outs),
                   cost=proposal.cost, model_seconds=proposal.seconds)  # fmt: skip


def _total(counts: Sequence[int | None]) -> int | None:
    """The sum of the counts a backend reported; None when it reported none."""
    known = [n for n in counts if n is not None]
    return sum(known) if known else None


def _line(text: str) -> str:
    first = text.strip().splitlines()[0] if text.strip() else text
    return first[:STATUS_CHARS]
