"""What every task set of `assistant eval` is: its tasks, and how one is attempted and
scored. The runner (core/evals/runner.py) asks, records and paces; a task set says
what to ask and how to check the answer, by running it (core/evals/execute.py)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from assistant.core.session.chat import ChatSession


class DataMissing(Exception):
    """A task set's data cannot be read; one line saying what to do."""


def task_folders(root: Path, what: str) -> list[Path]:
    """The folders under `root` that each hold one task (hidden ones and `_…` left out), in order."""
    try:
        return sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))
    except OSError as exc:
        raise DataMissing(f"{what} cannot be read ({root}: {exc.strerror or exc}): reinstall assistant") from None


@dataclass(frozen=True, slots=True)
class EvalTask:
    task_id: str  # unique in its set: what a resumed run skips
    question: str  # what the model is asked (the budget's check routes it)
    data: object = None  # the set's own (a HumanEval problem, an edit task's folder)


@dataclass(frozen=True, slots=True)
class Attempt:
    """What came of one task: the answer's figures and its score."""

    status: str  # "passed", "failed: …", "timed out", "no code", "error: …", "cancelled"
    passed: bool = False
    well_formed: bool = False  # the answer held what was asked for (code, an edit that parsed and applied)
    completion: str = ""  # what was run, for review and export
    model: str = ""  # as the backend named it in its answer
    tokens_in: int | None = None
    tokens_out: int | None = None
    cost: float | None = None
    model_seconds: float = 0.0
    check_seconds: float = 0.0


class TaskSet(Protocol):
    name: str  # stored with each sample: "humaneval", "edits", "repos"
    kind: str  # the turn kind it measures: "code", "edit", "task"

    def tasks(self) -> Sequence[EvalTask]: ...

    def attempt(self, session: ChatSession, backend: str, task: EvalTask, cancel: threading.Event) -> Attempt:
        """Ask `backend` (forced) through `session`, and score the answer; never raises
        for a model's or a candidate's failure (that is a status)."""
        ...
