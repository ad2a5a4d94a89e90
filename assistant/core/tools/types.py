"""The values every tool shares: the tool itself, what it is given to run, and what
it gives back. A tool is data (its spec, its kind, three functions), so the task
loop, the permission rules and the UI read the same small value.

`Tool.execute` is the one door into a tool: it checks the arguments against the
spec first (core/tools/schema.py) and turns an `EditError` or an `OSError` into a
failed result, so whatever a model writes, the loop gets a `ToolResult`, never a
traceback.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from assistant.core.config import EditsConfig, ToolsConfig
from assistant.core.edits.types import EditError
from assistant.core.text import one_line, shown
from assistant.core.tool_calls import ToolSpec
from assistant.core.tools.schema import ArgumentError, coerced

Kind = Literal["read", "edit", "run"]
KINDS: tuple[Kind, ...] = ("read", "edit", "run")
Args = Mapping[str, Any]
SUMMARY_CHARS = 160  # a summary is one line of the UI


@dataclass(frozen=True, slots=True)
class ToolContext:
    """What a tool runs with, for one task."""

    root: Path  # the project root: every path is relative to it
    tools: ToolsConfig = field(default_factory=ToolsConfig)
    edits: EditsConfig = field(default_factory=EditsConfig)
    cancel: threading.Event = field(default_factory=threading.Event)
    # The project paths (normalised) the model has read in this task: `edit` needs one.
    read: set[str] = field(default_factory=set)
    # Given the process group of a command `run` starts, as soon as it starts.
    on_start: Callable[[int], None] | None = None
    # Called with a project path before an edit first changes it (the task keeps the
    # user's own uncommitted work in it apart: core/edits/vcs.py `Workspace.snapshot`);
    # raising EditError refuses the edit.
    before_write: Callable[[str], None] | None = None
    # A project path the rules deny reading: `list` and `grep` leave it out of what they
    # give (a rule cannot see which files a whole-project search will open).
    hidden: Callable[[str], bool] | None = None


@dataclass(frozen=True, slots=True)
class ToolResult:
    content: str  # what the model is told
    ok: bool
    summary: str  # one line for the UI: "42 lines", "3 matches in 2 files", "refused: …"
    exit_code: int | None = None  # a command's
    changed: tuple[str, ...] = ()  # project paths written
    output: str = ""  # the full text a person sees expanded; left out, it is the content

    def __post_init__(self) -> None:
        if not self.output:
            object.__setattr__(self, "output", self.content)  # frozen: set once, here

    @classmethod
    def refused(cls, why: str) -> ToolResult:
        """A rule said no (a path outside the project, an edit of an unread file)."""
        return cls(why, False, summary_line(f"refused: {why}"))

    @classmethod
    def failed(cls, why: str) -> ToolResult:
        """It could not be done (no such file, a bad regex)."""
        return cls(why, False, summary_line(f"error: {why}"))


@dataclass(frozen=True, slots=True)
class Tool:
    """A tool the model may call."""

    spec: ToolSpec
    kind: Kind
    # What permission rules match (a project path, "" for the whole project, a command).
    subject_of: Callable[[Args], str]
    # One line for a person: `read src/calc.py:10-40`, `run pytest -x`.
    describe_of: Callable[[Args], str]
    # Runs it, given arguments that fit the spec (coerced).
    action: Callable[[Args, ToolContext], ToolResult]
    # What a person approving it should see besides its line (an edit's lines out and
    # in, a new file's first lines); None: the line says it all.
    preview_of: Callable[[Args], str] | None = None

    @property
    def name(self) -> str:
        return self.spec.name

    def subject(self, args: Any) -> str:
        return self.subject_of(_lenient(args))

    def describe(self, args: Any) -> str:
        return summary_line(self.describe_of(_lenient(args)))

    def preview(self, args: Any) -> str:
        return self.preview_of(_lenient(args)) if self.preview_of is not None else ""

    def execute(self, args: Any, ctx: ToolContext) -> ToolResult:
        try:
            value = coerced(self.spec, args)
        except ArgumentError as error:
            return ToolResult(f"{self.name}: {error}", False, summary_line(f"bad arguments: {error}"))
        try:
            return self.action(value, ctx)
        except EditError as error:
            return ToolResult.refused(str(error))
        except OSError as error:
            where = f"{error.filename}: " if error.filename else ""
            return ToolResult.failed(f"{where}{error.strerror or error}")


def summary_line(text: str) -> str:
    """`text` as one UI line: line breaks become spaces, cut at SUMMARY_CHARS."""
    line = one_line(text)
    return line if len(line) <= SUMMARY_CHARS else line[: SUMMARY_CHARS - 1] + "…"


def text_arg(args: Args, name: str) -> str:
    """An argument read as text for `subject` and `describe`, which see unchecked arguments."""
    value = args.get(name)
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**30:
        return "a huge number"  # str() of a few thousand digits raises
    return shown(value) if isinstance(value, (dict, list)) else str(value)


def _lenient(args: Any) -> Args:
    return args if isinstance(args, Mapping) else {}
