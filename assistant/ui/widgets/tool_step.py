"""A task's tool steps in the transcript: the compact block of each step, and the
inline question when a step needs the user's approval.

Both sit above the streaming answer while the task runs. A step is one line (what
it does, then how it ended and how long it took, as `tool_line` says it) with the
output folded away under it: a task of twenty steps stays twenty lines until the
user opens one. The question is answered with one key where the eyes already are,
not in a modal screen that would hide the steps that led to it.

What a model wrote (a command, a path, its output) is shown as text, never read as
markup. What only some steps need (the `Collapsible`, the `Input`, the approval's
values) loads when first used.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Collapsible, Input, Static

from assistant.core.tools.approval import Approval
from assistant.render.format import tool_line

if TYPE_CHECKING:
    from assistant.core.events import ToolFinished
    from assistant.core.tools.approval import Answer, ApprovalRequest

RUNNING = "running…"
# The output a block shows expanded, at most: its start and its end (a test run's
# failures are at the end). Rich wraps it on the UI thread.
OUTPUT_HEAD_CHARS = 8_000
OUTPUT_TAIL_CHARS = 12_000


def shown_output(output: str) -> str:
    """`output`, or its start and end with what was left out between them said."""
    if len(output) <= OUTPUT_HEAD_CHARS + OUTPUT_TAIL_CHARS:
        return output
    left_out = len(output) - OUTPUT_HEAD_CHARS - OUTPUT_TAIL_CHARS
    return f"{output[:OUTPUT_HEAD_CHARS]}\n… {left_out:,} characters not shown …\n{output[-OUTPUT_TAIL_CHARS:]}"


class ToolStep(Vertical):
    """One tool step: `▸ run pytest -x · running…`, then its summary and time; once it
    ran, its output under a collapsed `Collapsible`. A step that never ran (refused,
    or a call that could not be read) says so in its line, in the error colour. Once
    the task is over, the history keeps its line (Transcript.settle)."""

    DEFAULT_CSS = """
    ToolStep { height: auto; padding: 0 1; }
    ToolStep:first-of-type { margin-top: 1; }
    ToolStep > .line { color: $text-muted; }
    ToolStep.-refused > .line { color: $error; }
    ToolStep.-failed > .line { color: $warning; }
    ToolStep > Collapsible { background: transparent; border-top: none; padding: 0 0 0 2; }
    ToolStep CollapsibleTitle { padding: 0; }
    ToolStep Collapsible Contents { padding: 0 0 0 2; color: $text-muted; }
    """

    def __init__(self, call_id: str, tool: str, description: str) -> None:
        super().__init__()
        self.call_id = call_id
        self.tool = tool
        self.description = description
        self.started = False  # set when the tool began to run (a refused step never does)
        self.line = tool_line(tool, description, RUNNING, None)
        self.output = ""
        self.refused = False

    def compose(self) -> ComposeResult:
        yield Static(Text(self.line), classes="line")

    def began(self, description: str) -> None:
        """It runs now (as `description`: an edited command says what runs)."""
        self.started = True
        self.description = description
        self._show(tool_line(self.tool, description, RUNNING, None))

    async def finished(self, event: ToolFinished) -> None:
        """It ended, or never ran: its line, and its output when it ran."""
        self.description = event.description
        self.refused = not self.started
        self.set_class(self.refused, "-refused")
        self.set_class(self.started and not event.ok, "-failed")
        self._show(tool_line(event.tool, event.description, event.summary, event.seconds if self.started else None))
        if self.started and event.output:
            self.output = event.output
            lines = event.output.count("\n") + 1
            title = f"output · {lines:,} line{'s' if lines != 1 else ''}"
            await self.mount(Collapsible(Static(Text(shown_output(event.output))), title=title, collapsed=True))

    def _show(self, line: str) -> None:
        self.line = line
        self.query_one(".line", Static).update(Text(line))


def _runs(preview: str) -> list[tuple[str, list[str]]]:
    """A preview's lines in runs of the same sign (`-` out, `+` in, else " ")."""
    runs: list[tuple[str, list[str]]] = []
    for line in preview.split("\n") if preview else []:
        sign = line[:1] if line[:2] in ("- ", "+ ") else " "
        if runs and runs[-1][0] == sign:
            runs[-1][1].append(line)
        else:
            runs.append((sign, [line]))
    return runs


class Narration(Static):
    """What the model said before a step's tool calls, above their blocks; once the task
    is over, the history keeps it as a line (Transcript.settle), as a step's."""

    DEFAULT_CSS = """
    Narration { height: auto; padding: 0 1; margin-top: 1; text-style: italic; }
    """

    def __init__(self, text: str) -> None:
        super().__init__(Text(text))
        self.line = text


class ApprovalPrompt(Vertical, can_focus=True):
    """A tool step that waits for the user: what it would do, what in it asks and why,
    and the keys: y yes, n no, a always (the rules it saves are named), p always in
    this project, e to edit a command before it runs (Enter runs the edited one). Esc
    is the app's: it stops the task, which answers no."""

    DEFAULT_CSS = """
    ApprovalPrompt { height: auto; margin: 1 0 0 0; padding: 0 1; border: round $warning; }
    ApprovalPrompt:focus-within { border: round $accent; }
    ApprovalPrompt > .description { text-style: bold; }
    ApprovalPrompt > .removed { color: $error; }
    ApprovalPrompt > .added { color: $success; }
    ApprovalPrompt > .why, ApprovalPrompt > .keys { color: $text-muted; }
    ApprovalPrompt > Input { display: none; margin-top: 1; }
    ApprovalPrompt.-editing > Input { display: block; }
    """
    BINDINGS = [
        Binding("y", "answer('yes')", "Yes", show=False),
        Binding("n", "answer('no')", "No", show=False),
        Binding("a", "answer('always')", "Always", show=False),
        Binding("p", "answer('project')", "Always, in this project", show=False),
        Binding("e", "edit", "Edit the command", show=False),
    ]

    def __init__(self, request: ApprovalRequest, answered: Callable[[ApprovalPrompt, Approval], Awaitable[None]]) -> None:
        """`answered(prompt, approval)` is called (on the UI thread) with the first answer."""
        super().__init__()
        self.request = request
        self._answered = answered
        self.editable = request.tool == "run"  # only a command is edited before it runs
        self.answer: Approval | None = None

    def compose(self) -> ComposeResult:
        request = self.request
        self.border_title = "approve this step?"
        yield Static(Text(request.description), classes="description")
        for sign, lines in _runs(request.preview):  # an edit's lines out and in, a new file's first lines
            yield Static(Text("\n".join(lines)), classes={"-": "removed", "+": "added"}.get(sign, "why"))
        if request.parts and request.parts != (request.subject,):
            yield Static(Text(f"needs approval: {'; '.join(request.parts)}"), classes="why")
        if request.reason:
            yield Static(Text(f"why: {request.reason}"), classes="why")
        yield Static(Text(self.keys()), classes="keys")
        if self.editable:
            yield Input(request.subject, classes="command")

    def keys(self) -> str:
        """The keys line: what each key does, and the rules an "always" saves."""
        saves = f" (saves {', '.join(self.request.always)})" if self.request.always else ""
        edit = " · e edit the command" if self.editable else ""
        return f"y yes · n no · a always{saves} · p always in this project{edit} · Esc stop the task"

    def action_answer(self, answer: Answer) -> None:
        self._give(Approval(answer))

    def action_edit(self) -> None:
        if not self.editable:
            return
        self.add_class("-editing")
        field = self.query_one(".command", Input)
        field.focus()
        field.cursor_position = len(field.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter in the edited command: it runs instead of the model's."""
        event.stop()
        command = event.value.strip()
        if not command:
            self.app.bell()
            return
        self._give(Approval("yes", command=command))

    def _give(self, approval: Approval) -> None:
        if self.answer is None:  # the first answer counts: a second key press changes nothing
            self.answer = approval
            self.call_later(self._answered, self, approval)
