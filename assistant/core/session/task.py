"""The task loop: the model acts, step by step, until it answers.

A task is one routed turn made of model steps and tool steps. Each model step is
the runner's (`TurnRunner.model_step`: measured, costed, recorded as a turn of kind
`task`); the calls it makes are read by the one repair layer (core/tools/repair.py),
decided by the permission rules (core/tools/permissions.py: the program decides,
never the model), asked about through `Approve` when the rules say so, and run
(core/tools). Their results go back to the model as `tool` messages, on whichever
backend takes the next step: a backend that fails before any output is replaced by
the next candidate, which continues the same transcript.

It ends when the model answers without a call, the user stops it (`cancel`: a
running command's process group is killed by the sandbox), or a cap is reached
(`[tools] max_steps`, `max_tokens`; dollars through the budget router, which
decided the route). Whatever ended it, the result says so in one line.

The window under tool output: each step is sent the task's prompt (the window the
route fitted) and the transcript so far. When the transcript outgrows the room the
window leaves, the oldest tool results are cut to a marker that keeps the call and
says the size (never the last step's), so the prompt before them stays a cached
prefix for as long as it can.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from assistant.core.backends.protocol import Backend
from assistant.core.conversation import Message
from assistant.core.events import (
    BackendError,
    FallbackStarted,
    Notice,
    SessionEvent,
    StepStarted,
    StreamEvent,
    ToolFinished,
    ToolStarted,
    ToolUse,
)
from assistant.core.results import TaskEnd, TaskResult, TurnResult
from assistant.core.session.runner import Turn, TurnRunner
from assistant.core.session.turns import unavailable_reason
from assistant.core.tool_calls import ToolCall, ToolSpec
from assistant.core.tools.approval import Approval, ApprovalRequest, Approve
from assistant.core.tools.permissions import Permissions
from assistant.core.tools.repair import calls_in_text, prompt_for, repair, tool_name
from assistant.core.tools.schema import check_arguments
from assistant.core.tools.types import Tool, ToolContext, ToolResult
from assistant.core.window.sliding import Assembly

log = logging.getLogger(__name__)
TaskEvents = Generator[StreamEvent | SessionEvent, None, TaskResult]
UNREADABLE = "not run: the call could not be read"
CUT = "not run: the call was cut at max_tokens"
# The routers whose decision moves a task's next steps to this machine, and how a task
# ends when nothing here can take them.
KEEPS_HERE: dict[str, TaskEnd] = {"privacy": "error", "budget": "budget"}
CHARS_PER_TOKEN = 3  # a cautious guess for text not yet counted (tool output): never fewer tokens than this
ELIDED = "[{tool} output elided to keep the window: {size:,} characters. Call the tool again if you need it.]"
ELIDED_END = "if you need it.]"


@dataclass
class _Totals:
    steps: int = 0
    tool_steps: int = 0
    model_seconds: float = 0.0
    tool_seconds: float = 0.0
    tokens_in: int = 0
    tokens_out: int = 0
    generation_seconds: float = 0.0
    cost: float | None = 0.0
    changed: list[str] = field(default_factory=list)
    used: dict[str, int] = field(default_factory=dict)  # tool → times it ran

    def add_step(self, result: TurnResult) -> None:
        stats = result.stats
        self.steps += 1
        self.model_seconds += stats.elapsed
        self.tokens_in += stats.tokens_in or 0
        self.tokens_out += stats.tokens_out
        if stats.generation_tps and stats.tokens_out:  # the engine's own rate when it has one
            self.generation_seconds += stats.tokens_out / stats.generation_tps
        elif stats.generation_seconds:
            self.generation_seconds += stats.generation_seconds
        self.cost = None if self.cost is None or result.cost is None else self.cost + result.cost


@dataclass(frozen=True, slots=True)
class _Stop:
    """Why a task ends before its next step, and how that end is named."""

    end: TaskEnd
    reason: str


@dataclass(frozen=True, slots=True)
class _Outcome:
    """One tool step: its answer to the model, its end as said, and what the tool gave
    (None when it did not run: refused, or the call could not be read)."""

    message: Message
    said: ToolFinished
    result: ToolResult | None = None
    read: str = ""  # the project path a `read` that worked gave the model


class TaskLoop:
    """Runs one task; see the module docstring. `record(result, started, name, step)`
    writes a model step to the ledger and gives back its turn id; `record_tool(step,
    said)` a tool step."""

    def __init__(
        self,
        runner: TurnRunner,
        tools: Sequence[Tool],
        permissions: Permissions,
        approve: Approve,
        context: ToolContext,
        *,
        max_steps: int,
        max_tokens: int = 0,
        record: Callable[[TurnResult, float, str, int], int | None] = lambda result, started, name, step: None,
        record_tool: Callable[[int, ToolFinished], None] = lambda step, finished: None,
        reroute: Callable[[tuple[str, ...]], Turn | None] | None = None,
    ) -> None:
        self.runner = runner
        self.tools = {t.name: t for t in tools}
        self.specs: tuple[ToolSpec, ...] = tuple(t.spec for t in tools)
        self.permissions = permissions
        self.approve = approve
        self.context = context
        self.max_steps = max_steps
        self.max_tokens = max_tokens
        self.record = record
        self.record_tool = record_tool
        # Given the files read so far: the task routed again when the privacy rules keep
        # it on this machine now (a secret file was read), else None.
        self.reroute = reroute
        self.saved_rules: list[str] = []  # "always" answers of this task, for the session to keep
        self.project_rules: list[str] = []  # "always, in this project" answers, for the project to keep

    def run(self, turn: Turn, cancel: threading.Event) -> TaskEvents:
        order = self._order(turn)
        if not order:
            window = turn.windows.get(turn.decision.backend)
            error = BackendError(str(window) if window is not None else "no backend can take this task", kind="context")
            return _ended(_Totals(), "error", error=error, reason=error.message)
        name = order[0]
        transcript: list[Message] = []
        read: list[str] = []
        totals = _Totals()
        last: TurnResult | None = None
        while True:
            if cancel.is_set():
                return _ended(totals, "cancelled", last, reason="stopped by you")
            if totals.steps >= self.max_steps:
                return _ended(totals, "steps", last,
                              reason=f"stopped after {totals.steps} steps ([tools] max_steps)")  # fmt: skip
            if self.max_tokens and totals.tokens_in + totals.tokens_out >= self.max_tokens:
                return _ended(totals, "tokens", last, reason=f"stopped at {totals.tokens_in + totals.tokens_out:,} "
                              "tokens ([tools] max_tokens)")  # fmt: skip
            if totals.steps:  # what was read and spent so far may send the rest elsewhere
                moved = self._routed_again(read, name)
                if isinstance(moved, _Stop):
                    return _ended(totals, moved.end, last, reason=moved.reason)
                if moved is not None:
                    turn, name, note = moved
                    order = self._order(turn)
                    yield Notice(note)
            window = turn.windows[name]
            assert isinstance(window, Assembly)
            backend = self.runner.pool.get(name)
            yield StepStarted(totals.steps + 1, backend.name)
            messages = _fitted(window, transcript, last)
            started = self.runner.wall_clock()
            step, calls = yield from self._model_step(name, backend, messages, cancel, totals.steps + 1)
            totals.add_step(step)
            step = replace(step, turn_id=self.record(step, started, name, totals.steps), decision=turn.decision)
            last = step
            if step.outcome == "error" and not step.text and not calls:
                fallback = self._fallback(order, name, turn, cancel)
                if fallback is None:
                    return _ended(totals, "error", last, error=step.error, reason=step.error.message if step.error else "")
                other = self.runner.pool.get(fallback)
                yield FallbackStarted(backend.name, other.name, other.model_name, step.error.message if step.error else "")
                name = fallback  # the same transcript goes on there
                continue
            if step.outcome == "cancelled" or cancel.is_set():
                return _ended(totals, "cancelled", last, reason="stopped by you")
            if not calls:
                return _ended(totals, "answered", last)
            # Kept under the names of the tools they meant (the ids as the model gave them), so the
            # next step, on this backend or another, reads a transcript of real tools.
            named = tuple(replace(c, name=tool_name(c.name, list(self.tools)) or c.name) for c in calls)
            transcript.append(Message("assistant", step.text, tool_calls=named))
            for call in calls:
                outcome = yield from self._tool_step(totals.steps, call, cut=step.stop_reason == "max_tokens")
                self.record_tool(totals.steps, outcome.said)
                if outcome.result is not None:
                    totals.tool_steps += 1
                    totals.used[outcome.said.tool] = totals.used.get(outcome.said.tool, 0) + 1
                    totals.tool_seconds += outcome.said.seconds
                    totals.changed.extend(p for p in outcome.result.changed if p not in totals.changed)
                transcript.append(outcome.message)
                if outcome.read and outcome.read not in read:
                    read.append(outcome.read)
                if cancel.is_set():
                    break

    def _order(self, turn: Turn) -> list[str]:
        """The backends that may take the task's steps, in order: those its prompt fits."""
        return [n for n in self.runner.order(turn.decision, turn.windows) if isinstance(turn.windows.get(n), Assembly)]

    # -- a model step ------------------------------------------------------------------

    def _model_step(
        self, name: str, backend: Backend, messages: Sequence[Message], cancel: threading.Event, step: int
    ) -> Generator[StreamEvent, None, tuple[TurnResult, list[ToolCall]]]:
        native = backend.capabilities.tool_calls
        # The window counted the tools as the system prompt's last part (`task_system_prompt`):
        # a backend that takes them natively is given them that way instead.
        messages = _without_described(messages, self.specs) if native else _prompted(messages, self.specs)
        calls: list[ToolCall] = []
        steps = self.runner.model_step(name, backend, messages, cancel, tools=self.specs if native else ())
        while True:
            try:
                event = next(steps)
            except StopIteration as done:
                result: TurnResult = done.value
                break
            if isinstance(event, ToolUse):
                calls.append(event.call)
                continue  # the loop says it as a tool step
            yield event
        if not native and result.outcome == "ok":
            calls = calls_in_text(result.text, step)
        return result, calls

    def _routed_again(self, read: list[str], name: str) -> tuple[Turn, str, str] | _Stop | None:
        """Before a step off this machine: when the privacy rules (a secret file was read)
        or the budget (its cap is near) now keep the task here, the task routed again
        (its next steps go there), the backend's pool name and the note that says so;
        when no backend here can take it, how and why the task ends (what was read never
        leaves, nothing more is spent); None when it goes on where it is."""
        if self.reroute is None or _private(self.runner.pool.get(name)):
            return None
        turn = self.reroute(tuple(read))
        why = turn.decision.decided_by if turn is not None else ""
        if turn is None or why not in KEEPS_HERE:
            return None
        chosen = turn.decision.backend
        if chosen != name and isinstance(turn.windows.get(chosen), Assembly) and _private(self.runner.pool.get(chosen)):
            return turn, chosen, f"{turn.decision.reason}: the rest of the task goes there"
        return _Stop(KEEPS_HERE[why], f"{turn.decision.reason}; no backend on this machine can take the rest, so the "
                     "task ends here")  # fmt: skip

    def _fallback(self, order: list[str], failed: str, turn: Turn, cancel: threading.Event) -> str | None:
        """The next candidate that can take the task's next step, by its pool name."""
        if cancel.is_set() or not self.runner.falls_back(turn.mode):
            return None
        for other in order[order.index(failed) + 1 :]:
            backend = self.runner.pool.get(other)
            if not unavailable_reason(backend) and self.runner.may_fall_back(backend):
                return other
        return None

    # -- a tool step ---------------------------------------------------------------------

    def _tool_step(self, step: int, call: ToolCall, *, cut: bool = False) -> Generator[SessionEvent, None, _Outcome]:
        """One call: read (repaired), decided by the rules, asked about when they say
        so, run. Whatever happens, the model is answered and the step's end is said."""
        read = repair(call, self.specs, check_arguments)
        if read.complaint:
            # A call the answer's token limit cut is never completed by guessing (a command cut
            # short is another command): the model is told, and calls again. Its arguments are
            # not JSON because of the cut (a grammar, or the API, kept what came before it valid).
            unfinished = cut and not _parses(call.arguments)
            said_to_model = (f"`{read.call.name}`: the call was cut at the answer's token limit before its arguments "
                             "ended; call it again with shorter arguments." if unfinished else read.complaint)  # fmt: skip
            how = CUT if unfinished else UNREADABLE
            said = ToolFinished(step, call.id, call.name, call.name, False, said_to_model, said_to_model, 0.0,
                                permission=how)  # fmt: skip
            yield said
            return _Outcome(Message("tool", said_to_model, tool_call_id=call.id, is_error=True), said)
        if read.repairs:  # what small models get wrong, kept for whoever tunes the prompts
            log.info("call %s repaired: %s", call.id, "; ".join(read.repairs))
        tool = self.tools[read.call.name]
        arguments = dict(read.arguments)
        subject, description = tool.subject(arguments), tool.describe(arguments)
        decision = self.permissions.decide(tool.name, subject)
        permission = f"allowed: {decision.reason}"
        refused = ""
        if decision.action == "ask":
            answer = self._ask(tool, arguments, subject, description, decision.parts, decision.reason)
            if answer.answer == "no":
                refused = answer.note or "denied by you"
            elif answer.command and tool.kind == "run":
                arguments["command"] = answer.command
                description = tool.describe(arguments)
                permission = "run as you edited it"
            else:
                permission = {"yes": "approved", "always": "approved always", "project": "approved always, in this project"}[
                    answer.answer]  # fmt: skip
        elif decision.action == "deny":
            refused = f"refused: {decision.reason}"
        if refused:
            said = ToolFinished(step, call.id, tool.name, description, False, refused if refused.startswith("refused")
                                else f"refused: {refused}", refused, 0.0, permission=refused)  # fmt: skip
            yield said
            return _Outcome(Message("tool", f"Not run: {refused}.", tool_call_id=call.id, is_error=True), said)
        yield ToolStarted(step, call.id, tool.name, description)
        began = time.monotonic()
        result = tool.execute(arguments, self.context)
        seconds = time.monotonic() - began
        said = ToolFinished(step, call.id, tool.name, description, result.ok, result.summary, result.output, seconds,
                            result.exit_code, permission)  # fmt: skip
        yield said
        read = subject if tool.name == "read" and result.ok else ""
        return _Outcome(Message("tool", result.content, tool_call_id=call.id, is_error=not result.ok), said, result, read)

    def _ask(self, tool: Tool, arguments: dict[str, object], subject: str, description: str, parts: tuple[str, ...],
             reason: str) -> Approval:  # fmt: skip
        always = self.permissions.narrowest_rule(tool.name, subject)
        request = ApprovalRequest(tool.name, description, subject, parts, reason, always, tool.preview(arguments))
        answer = self.approve(request)
        if answer.answer in ("always", "project"):
            self.saved_rules.extend(r for r in always if r not in self.saved_rules)
            if answer.answer == "project":
                self.project_rules.extend(r for r in always if r not in self.project_rules)
            self.permissions = self.permissions.allowing(always)
        return answer


def _parses(arguments: str) -> bool:
    try:
        json.loads(arguments)
    except ValueError:
        return False
    return True


def _private(backend: Backend) -> bool:
    caps = backend.capabilities
    return caps.local or caps.private


def _ended(totals: _Totals, end: TaskEnd, last: TurnResult | None = None, *, error: BackendError | None = None,
           reason: str = "") -> TaskResult:  # fmt: skip
    return TaskResult(
        last.text if last is not None else "",
        end, totals.steps, totals.tool_steps, totals.model_seconds, totals.tool_seconds, totals.tokens_in,
        totals.tokens_out, totals.generation_seconds, totals.cost, tuple(totals.changed), last, error, reason,
        tools_used=tuple(totals.used.items()),
    )  # fmt: skip


def _prompted(messages: Sequence[Message], specs: Sequence[ToolSpec]) -> list[Message]:
    """A task's messages for a backend that cannot call tools: the tools described in
    the system prompt, each call as the text the model wrote, each result a user message."""
    described = prompt_for(specs)
    plain: list[Message] = []
    names = {c.id: c.name for m in messages for c in m.tool_calls}
    for m in messages:
        if m.role == "tool":
            plain.append(Message("user", f"Result of {names.get(m.tool_call_id, 'the tool')}:\n{m.content}"))
        elif m.tool_calls and not m.content.strip():
            plain.append(Message("assistant", "\n".join(f'{{"tool": "{c.name}", "arguments": {c.arguments}}}'
                                                        for c in m.tool_calls)))  # fmt: skip
        else:
            plain.append(Message(m.role, m.content))
    if not plain or plain[0].role != "system":
        plain.insert(0, Message("system", described))
    elif not plain[0].content.endswith(described):
        plain[0] = Message("system", f"{plain[0].content}\n\n{described}")
    return plain


def _without_described(messages: Sequence[Message], specs: Sequence[ToolSpec]) -> list[Message]:
    """The messages with the tools' description taken off the system prompt's end."""
    described = f"\n\n{prompt_for(specs)}"
    first = messages[0] if messages else None
    if first is None or first.role != "system" or not first.content.endswith(described):
        return list(messages)
    return [replace(first, content=first.content.removesuffix(described)), *messages[1:]]


def _fitted(window: Assembly, transcript: list[Message], last: TurnResult | None) -> list[Message]:
    """The step's prompt: the window's, then the transcript, its oldest tool results cut
    to a marker while the whole would outgrow the window's budget."""
    if not transcript:
        return list(window.messages)
    known = last.stats.tokens_in if last is not None and last.stats.tokens_in else window.tokens
    counted = known + (last.stats.tokens_out if last is not None else 0)
    # What the last step's prompt did not hold yet: its answer's calls and their results.
    since = _since_last_prompt(transcript)
    estimate = counted + sum(len(m.content) for m in since) // CHARS_PER_TOKEN
    if estimate <= window.budget:
        return [*window.messages, *transcript]
    kept = list(transcript)
    names = {c.id: c.name for m in kept for c in m.tool_calls}
    last_results = {id(m) for m in since}
    for index, message in enumerate(kept):
        if estimate <= window.budget:
            break
        if message.role != "tool" or id(message) in last_results or message.content.endswith(ELIDED_END):
            continue
        marker = ELIDED.format(tool=names.get(message.tool_call_id, "tool"), size=len(message.content))
        estimate -= max(len(message.content) - len(marker), 0) // CHARS_PER_TOKEN
        kept[index] = replace(message, content=marker)
    transcript[:] = kept  # elided once, elided for good: the prefix stays the same from here on
    return [*window.messages, *kept]


def _since_last_prompt(transcript: Sequence[Message]) -> list[Message]:
    """The transcript's last assistant message and the tool results after it."""
    for index in range(len(transcript) - 1, -1, -1):
        if transcript[index].role == "assistant":
            return list(transcript[index:])
    return list(transcript)


MEMORY_FILES = ("AGENTS.md", "CLAUDE.md")
MEMORY_MAX_BYTES = 40_000


def memory_file(root: Path) -> tuple[str, str] | None:
    """The project's memory file (AGENTS.md, else CLAUDE.md, at the root): its name and
    text, which join a task's system prompt (and are counted in its window). One too big,
    not UTF-8 or unreadable is left out (None)."""
    for name in MEMORY_FILES:
        path = root / name
        try:
            if not path.is_file() or path.stat().st_size > MEMORY_MAX_BYTES:
                continue
            return name, path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
    return None


TASK_PROMPT = (
    "You are working in the user's project through tools: read files, list and grep the project, edit files "
    "(exact search and replace, after reading them), write new files, and run commands in the project root. "
    "Look before you change anything; make the smallest change that does what is asked; after changing code, "
    "run the project's tests and read what fails. When you are done, answer with a short account of what you "
    "did and what you found, without calling a tool."
)


def task_system_prompt(system_prompt: str, root: Path, specs: Sequence[ToolSpec]) -> str:
    """A task's system prompt: the session's, how to work with the tools, the project's
    memory file (AGENTS.md, else CLAUDE.md) when it has one, and last the tools
    described, so that every window counts them in its own tokens (a backend that takes
    tools natively gets them that way instead: the loop takes the description off)."""
    parts = [p for p in (system_prompt, TASK_PROMPT) if p]
    if (memory := memory_file(root)) is not None:
        name, text = memory
        parts.append(f"The project's {name}:\n{text.strip()}")
    parts.append(prompt_for(specs))
    return "\n\n".join(parts)
