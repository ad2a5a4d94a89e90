"""Asking the user about a tool step: what is asked, and the answers a person (or a
flag, in a run nobody watches) can give.

The task loop asks through an `Approve` callable from its worker thread and waits
for the answer: the TUI answers inline (y / n / always / an edited command), `ask`
answers from `--mode` and `--allow`, and refuses what they do not cover with one
line that says which flag would allow it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

Answer = Literal["yes", "no", "always"]


@dataclass(frozen=True, slots=True)
class ApprovalRequest:
    tool: str
    description: str  # the step in one line: "run git status && rm -rf x"
    subject: str  # the command or the project path the rules saw
    parts: tuple[str, ...]  # what needs the approval (of a command: each part that asked)
    reason: str  # why it asks: the rule or the mode
    # The rules an "always" answer saves: the narrowest that cover what is shown.
    always: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Approval:
    answer: Answer
    # A command the user edited: it runs instead of the model's (the user wrote it).
    command: str = ""
    # Why, when refused: told to the model ("denied by you", "needs --allow 'run: rm *'").
    note: str = ""


Approve = Callable[[ApprovalRequest], Approval]


def refuse_unwatched(request: ApprovalRequest) -> Approval:
    """The answer when nobody can be asked (`ask` without a terminal, a batch): no,
    naming what would have allowed it."""
    flags = " ".join(f"--allow '{rule}'" for rule in request.always) or "--mode auto"
    return Approval("no", note=f"needs approval ({request.reason}); run again with {flags}")
