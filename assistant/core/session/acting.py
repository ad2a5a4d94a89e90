"""What a session does around a task's loop (core/session/task.py): the loop made
for the task (its tools, the permission rules, the approvals), every step written to
the ledger under the task, the user's own uncommitted work kept apart before the
task first edits a file, and the task's changes committed once at its end."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from assistant.core import store
from assistant.core.config import Config, ToolsConfig
from assistant.core.decisions import RouteDecision
from assistant.core.edits.checks import CheckOutcome, check_in_place
from assistant.core.edits.types import EditError
from assistant.core.edits.vcs import Provenance, Workspace
from assistant.core.events import Notice, ToolFinished
from assistant.core.results import TaskResult, TurnResult
from assistant.core.session.recorder import TurnRecorder
from assistant.core.session.runner import OnEvent, Turn, TurnRunner, forward
from assistant.core.session.task import TaskLoop
from assistant.core.tools.approval import Approve
from assistant.core.tools.catalog import TOOLS
from assistant.core.tools.permissions import Permissions
from assistant.core.tools.project_rules import save_rules
from assistant.core.tools.types import ToolContext
from assistant.core.window.sliding import Assembly, ContextTooLarge


@dataclass(frozen=True, slots=True)
class TaskOrder:
    """One task, as the session routed it."""

    session_id: str
    mode: str  # the session's (auto: the router's fallbacks apply)
    instruction: str  # the user's text, prefixes read
    decision: RouteDecision
    windows: Mapping[str, Assembly | ContextTooLarge]
    settings: ToolsConfig  # [tools], with the run's --mode
    permissions: Permissions
    # The task routed again with the files read so far (the privacy rules see them).
    reroute: Callable[[tuple[str, ...]], tuple[RouteDecision, Mapping[str, Assembly | ContextTooLarge]]] | None = None


class Acting:
    def __init__(self, config: Config, runner: TurnRunner, recorder: TurnRecorder, root: Path) -> None:
        self.config = config
        self.runner = runner
        self.recorder = recorder
        self.root = root
        # Rules the user's "always" answers saved for this session (`TOOL: PATTERN`).
        self.allowed: list[str] = []

    def run(self, order: TaskOrder, approve: Approve, cancel: threading.Event, emit: OnEvent) -> TaskResult:
        task_id, started = uuid.uuid4().hex[:16], time.time()
        context = ToolContext(self.root, order.settings, self.config.edits, cancel,
                              before_write=self._keeps_users_work(order.instruction),
                              hidden=lambda path: order.permissions.decide("read", path).action == "deny")  # fmt: skip
        loop = TaskLoop(
            self.runner, TOOLS, order.permissions, approve, context, max_steps=order.settings.max_steps,
            max_tokens=order.settings.max_tokens,
            record=lambda result, at, name, step: self._record_step(order, task_id, result, at, name, step),
            record_tool=lambda step, said: self._record_tool(order.session_id, task_id, step, said),
            reroute=None if order.reroute is None else lambda read: Turn(order.session_id, order.mode,
                                                                         *order.reroute(read)),
        )  # fmt: skip
        turn = Turn(order.session_id, order.mode, order.decision, order.windows)
        result = forward(loop.run(turn, cancel), emit)
        self.allowed.extend(r for r in loop.saved_rules if r not in self.allowed)
        if loop.project_rules:
            try:
                save_rules(self.root, loop.project_rules)
            except OSError as exc:
                emit(Notice(f"the rules for this project were not saved ({exc.strerror or exc}); they hold for this session"))
        checks = self._checks(result, cancel, emit)
        passed = tuple(c.name for c in checks if c.status == "passed")
        result = replace(self._commit(result, order.instruction, passed), task_id=task_id)
        shown = [{"name": c.name, "status": c.status, "seconds": round(c.seconds, 3)} for c in checks]
        record = store.TaskRecord(task_id, order.session_id, started, order.instruction, result.end, result.steps,
                                  result.tool_steps, result.model_seconds, result.tool_seconds, result.tokens_in,
                                  result.tokens_out, result.cost, json.dumps(list(result.changed)),
                                  result.commit or "", result.reason, json.dumps(shown))  # fmt: skip
        self.recorder.write("the task", lambda ledger: ledger.record_task(record))
        ran = [c for c in checks if c.status not in ("not run", "could not run", "cancelled")]
        if ran and result.last is not None:  # what the task was worth
            self.recorder.rate_quietly(result.last, "good" if all(c.passed for c in ran) else "bad", "checks")
        return result

    def _checks(self, result: TaskResult, cancel: threading.Event, emit: OnEvent) -> tuple[CheckOutcome, ...]:
        """The project's checks ([edits] lint_cmd, test_cmd) at the end of a task that
        changed files (not one the user stopped), each said as it ends."""
        if not result.changed or result.end == "cancelled" or cancel.is_set():
            return ()
        outcomes = check_in_place(self.root, result.changed, self.config.edits, cancel)
        for outcome in outcomes:
            emit(Notice(f"after the task: {outcome.line()}"))
        return outcomes

    def _record_step(self, order: TaskOrder, task_id: str, result: TurnResult, started: float, name: str,
                     step: int) -> int | None:  # fmt: skip
        """A task's model step: a turn of kind `task` that names its task and step."""
        decision = order.decision
        return self.recorder.record(order.session_id, result, started, decision.reason, decision.decided_by,
                                    decision.estimate_for(name), kind="task", explored=decision.explored,
                                    task_id=task_id, step=step)  # fmt: skip

    def _record_tool(self, session_id: str, task_id: str, step: int, said: ToolFinished) -> None:
        record = store.ToolStepRecord(task_id, session_id, step, time.time(), said.tool, said.description, said.ok,
                                      said.summary, said.seconds, said.exit_code, said.permission)  # fmt: skip
        self.recorder.write("a tool step", lambda ledger: ledger.record_tool_step(record))

    def _keeps_users_work(self, instruction: str) -> Callable[[str], None] | None:
        """Before a task first edits a file: the user's uncommitted changes in it are
        committed apart (a snapshot), so the task's commit, and undo, hold only the task's."""
        if not self.config.edits.commit:
            return None
        workspace, seen = Workspace(self.root, dirty=self.config.edits.dirty), set[str]()

        def before_write(path: str) -> None:
            if path not in seen:
                seen.add(path)
                backend = self.runner.current_backend
                workspace.snapshot([path], Provenance(backend.name if backend else "",
                                                      backend.model_name if backend else "", None, instruction))  # fmt: skip

        return before_write

    def _commit(self, result: TaskResult, instruction: str, checks: tuple[str, ...] = ()) -> TaskResult:
        """The task's changed files, committed once with its provenance (or left as they
        are with `[edits] commit = false`, or outside git)."""
        if not result.changed or not self.config.edits.commit:
            return result
        last = result.last
        tools = tuple(f"{tool} ×{n}" if n > 1 else tool for tool, n in result.tools_used)
        provenance = Provenance(last.backend if last else "", last.model if last else "", result.cost, instruction,
                                checks, tools)  # fmt: skip
        try:
            committed = Workspace(self.root, dirty=self.config.edits.dirty).commit_task(result.changed, provenance)
        except EditError as exc:
            return replace(result, reason=f"{result.reason + '; ' if result.reason else ''}not committed: {exc}")
        return replace(result, commit=committed)
