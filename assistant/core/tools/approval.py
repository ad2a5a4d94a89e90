"""Asking the user about a tool step: what is asked, and the answers a person (or a
flag, in a run nobody watches) can give.

The task loop asks through an `Approve` callable from its worker thread and waits
for the answer: the TUI answers inline (y / n / always / an edited command), `ask`
answers from `--mode` and `--allow`, and refuses what they do not cover with one
line that says which flag would allow it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

# "always": for this session; "project": always, in this project (core/tools/project_rules.py).
Answer = Literal["yes", "no", "always", "project"]


@dataclass(frozen=True, slots=True)
class ApprovalRequest:
    tool: str
    description: str  # the step in one line: "run git status && rm -rf x"
    subject: str  # the command or the project path the rules saw
    parts: tuple[str, ...]  # what needs the approval (of a command: each part that asked)
    reason: str  # why it asks: the rule or the mode
    # The rules an "always" answer saves: the narrowest that cover what is shown.
    always: tuple[str, ...]
    # What it would change, for a person to read first (an edit's lines out and in).
    preview: str = ""


@dataclass(frozen=True, slots=True)
class Approval:
    answer: Answer
    # A command the user edited: it runs instead of the model's (the user wrote it).
    command: str = ""
    # Why, when refused: told to the model ("denied by you", "needs --allow 'run: rm *'").
    note: str = ""


Approve = Callable[[ApprovalRequest], Approval]


STOPPED = Approval("no", note="stopped by you")
POLL_SECONDS = 0.05  # how often a waiting worker looks at the events that stop it


class ApprovalReply:
    """One question's answer, handed from the thread that asks a person (a UI's) to the
    worker that waits for it. The first answer given counts (the person's, or "no"
    when the task stops)."""

    def __init__(self) -> None:
        self._given = threading.Event()
        self._lock = threading.Lock()
        self.answer: Approval | None = None

    def give(self, answer: Approval) -> bool:
        """Answer; False when it was answered already."""
        with self._lock:
            if self.answer is not None:
                return False
            self.answer = answer
        self._given.set()
        return True

    def wait(self, *stops: threading.Event) -> Approval:
        """The answer, once given; "no" as soon as one of `stops` is set (a stop wins
        over an answer given in the same instant: the task is stopping)."""
        wait_for(self._given, stops)
        if any(stop.is_set() for stop in stops):
            self.give(STOPPED)
            return STOPPED
        assert self.answer is not None
        return self.answer


def wait_for(done: threading.Event, stops: tuple[threading.Event, ...]) -> None:
    """Wait until `done` is set, or one of `stops` is."""
    while not done.wait(POLL_SECONDS) and not any(stop.is_set() for stop in stops):
        pass


def refuse_unwatched(request: ApprovalRequest) -> Approval:
    """The answer when nobody can be asked (`ask` without a terminal, a batch): no,
    naming what would have allowed it."""
    flags = " ".join(f"--allow '{rule}'" for rule in request.always) or "--mode auto"
    return Approval("no", note=f"needs approval ({request.reason}); run again with {flags}")
