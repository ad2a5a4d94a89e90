"""A task in the TUI: the worker that runs it, and the bridge that asks the user
about a tool step from that worker.

A task starts as a turn does (the app's `start_turn`: the same answer widget, a
thread worker in the group "turn", the same Esc), from `/task TEXT` or a message
whose prefixes hold `@task`. The worker runs `ChatSession.act`: the text streams
through the turn's listener (ui/streaming.py); each tool step is scheduled on the
UI thread (`call_later`, thread-safe), and its block is mounted above the answer
(ui/widgets/tool_step.py).
When a model step turns out to have called tools, the answer starts again: what it
wrote were the calls (a small model writes them as JSON), which their blocks now
say, so the answer shows only what the model says last.

The loop asks about a step by calling `approve` in the worker, which schedules the
question and blocks until the user answers in the inline widget. Esc (the
task's cancel event) or the app quitting answers "no" in the user's place: a
worker never waits on a question nobody can answer, and a stopped task stops at
once, however it was waiting.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from assistant.core.events import StepStarted, ToolFinished, ToolStarted
from assistant.core.tools.approval import STOPPED, Approval, ApprovalReply, wait_for
from assistant.core.tools.repair import calls_in_text
from assistant.core.words import TASK
from assistant.ui.messages import TurnFinished
from assistant.ui.widgets.prompt import PromptInput
from assistant.ui.widgets.tool_step import ApprovalPrompt, Narration, ToolStep
from assistant.ui.widgets.transcript import Transcript

if TYPE_CHECKING:
    from textual.widget import Widget

    from assistant.core.events import SessionEvent, StreamEvent
    from assistant.core.results import TaskResult
    from assistant.core.session.chat import ChatSession
    from assistant.core.tools.approval import ApprovalRequest
    from assistant.ui.host import ChatHost
    from assistant.ui.streaming import AnswerStream

TASK_PREFIX = f"@{TASK}"
STATE_CHARS = 40  # of a running step's description, in the status bar
# What each `[tools] mode` lets a task do unasked: said as a task starts.
MODES = {
    "ask": "reading is free; edits and commands ask you first",
    "edits": "reading and edits are free; commands ask you first",
    "read-only": "it may read the project, not edit it or run commands",
    "auto": "edits and commands run without asking",
}


class Tasks:
    """The app's side of tasks: the worker it runs, and what the worker's messages
    show (the step blocks, the question, the answer starting again)."""

    def __init__(self, host: ChatHost, stream: AnswerStream) -> None:
        self.host = host
        self.stream = stream
        self._steps: dict[str, ToolStep] = {}  # the running task's blocks, by call id
        self._asked: dict[ApprovalPrompt, ApprovalReply] = {}  # questions on screen

    def begin(self) -> None:
        """A task starts: what it may do unasked is said (`[tools] mode`; rules may say more)."""
        self._steps.clear()
        mode = self.host.config.tools.mode
        self.host.notify(
            f"Task, mode {mode}: {MODES.get(mode, 'see [tools] mode')} · Esc stops it",
            severity="warning" if mode == "auto" else "information",
            timeout=5,
        )

    # -- the worker (a thread) ------------------------------------------------------

    def run(self, session: ChatSession, text: str, cancel: threading.Event) -> None:
        """The task, in a thread worker; ends with `TurnFinished` (its `task` set). What
        it shows on the way is scheduled on the UI thread (`call_later`, thread-safe)."""
        later, stops = self.host.call_later, (cancel, self.stream.quitting)
        shown = self.stream.listener(cancel)
        step = cleared = 0  # the model step streaming now; the last one taken off the answer

        def calls_begin() -> None:
            """The step's text was its calls: off the answer before their blocks show."""
            nonlocal cleared
            if cleared != step:
                cleared = step
                done = threading.Event()
                later(self.restart, done)
                wait_for(done, stops)  # the next step's text must not reach the buffer before it is emptied

        def on_event(event: StreamEvent | SessionEvent) -> None:
            nonlocal step
            if shown(event):
                return
            if isinstance(event, StepStarted):
                step = event.step
            elif isinstance(event, ToolStarted | ToolFinished):
                calls_begin()
                later(self.show_step, event)

        def approve(request: ApprovalRequest) -> Approval:
            calls_begin()
            reply = ApprovalReply()
            later(self.ask, request, reply)
            return reply.wait(*stops)

        result = session.act(text, cancel, on_event, approve=approve)
        self.host.post_message(TurnFinished(result.last, task=result))

    # -- on the UI thread -----------------------------------------------------------

    async def restart(self, done: threading.Event) -> None:
        """The step's text leaves the answer; what the model said before its calls
        (Claude's "I'll look at the tests first") stays, as a line above them, unless
        it was the calls themselves, written as text."""
        said = self.stream.restart().strip()
        done.set()
        if said and not calls_in_text(said, 0):
            await self._mount(Narration(said))

    async def show_step(self, event: ToolStarted | ToolFinished) -> None:
        """A step's block: mounted when it begins (or ends without running), then updated."""
        block = self._steps.get(event.call_id)
        if block is None:
            block = ToolStep(event.call_id, event.tool, event.description)
            if not await self._mount(block):
                return
            self._steps[event.call_id] = block
        if isinstance(event, ToolStarted):
            block.began(event.description)
            said = event.description
            self.host.state = said if len(said) <= STATE_CHARS else f"{said[: STATE_CHARS - 1]}…"
        else:
            await block.finished(event)
            self.host.state = "starting"
        self.host.refresh_status()

    async def ask(self, request: ApprovalRequest, reply: ApprovalReply) -> None:
        """The question, above the answer, with the focus (the keys go to it)."""
        if reply.answer is not None:  # the task stopped before it was shown
            return
        prompt = ApprovalPrompt(request, self.answered)
        if not await self._mount(prompt):
            reply.give(STOPPED)
            return
        self._asked[prompt] = reply
        prompt.focus()
        self.host.state = "waiting for you"
        self.host.refresh_status()

    async def answered(self, prompt: ApprovalPrompt, approval: Approval) -> None:
        reply = self._asked.pop(prompt, None)
        if reply is not None:
            reply.give(approval)
        await self._take_away(prompt)

    async def ended(self) -> None:
        """The task is over: a question still on screen is answered "no" and taken away."""
        for prompt, reply in list(self._asked.items()):
            reply.give(STOPPED)
            await self._take_away(prompt)
        self._asked.clear()
        self._steps.clear()

    async def _take_away(self, prompt: ApprovalPrompt) -> None:
        had_focus = prompt.has_focus_within
        await prompt.remove()
        if had_focus:
            self.host.query_one(PromptInput).focus()

    async def _mount(self, widget: Widget) -> bool:
        """Mount `widget` above the answer streaming now; False when there is none."""
        answer = self.stream.answer
        if answer is None or not answer.is_mounted:
            return False
        await self.host.query_one(Transcript).mount(widget, before=answer)
        return True
