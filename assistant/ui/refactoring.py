"""`/refactor` and `/undo` in the TUI.

A refactor is one worker that reads top to bottom: the model's proposal, the
review screen, the checks left for after the yes, the edit applied and
committed. The blocking steps run in threads (Esc stops the model's turn and
the checks); what each step ends with is a `Note` in the transcript.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from assistant.core import edits, workflows
from assistant.core.edits.types import EditError
from assistant.render import format as fmt
from assistant.ui import screens
from assistant.ui.messages import Note

if TYPE_CHECKING:
    from assistant.core.workflows.refactor import Proposal, Refactorer
    from assistant.ui.host import ChatHost


class Refactoring:
    def __init__(self, host: ChatHost) -> None:
        self.host = host
        self._refactorer: Refactorer | None = None  # made on the first /refactor or /undo

    def refactorer(self) -> Refactorer:
        if self._refactorer is None:
            self._refactorer = workflows.Refactorer(self.host.session, self.host.project_root)
        return self._refactorer

    def start(self, path: str, instruction: str) -> None:
        """Ask for an edit of `path` (relative to the project root)."""
        self.host.run_worker(self._refactor(path, instruction), name="refactor", group="turn", exit_on_error=False)

    def undo(self) -> None:
        """Take back the last applied edit."""
        self.host.run_worker(self._undo, name="undo_edit", group="turn", thread=True, exit_on_error=False)

    async def _refactor(self, path: str, instruction: str) -> None:
        host, say = self.host, self.host.post_message
        proposal = await asyncio.to_thread(self._propose, path, instruction)
        if proposal is None:
            return
        host.refresh_status()  # the session's cost includes the proposal
        if not proposal.ok:
            say(Note(f"Refactor of {proposal.path}: nothing applied: {proposal.error}", error=True))
            return
        chosen = await host.push_screen_wait(screens.ReviewScreen(proposal, self.refactorer().shown))
        if not chosen:
            self._rejected(proposal, "rejected; nothing was written.")
            return
        cancel = host.cancels.fresh()  # Esc stops the checks
        if proposal.pending:
            labels = [c.label() for c in proposal.plan.checks if c.name in proposal.pending]
            say(Note(f"Running {'; '.join(labels)} on a scratch copy of the edit you accepted…"))
        try:
            checked = await asyncio.to_thread(self.refactorer().check_accepted, proposal, chosen, cancel)
        except EditError as exc:
            say(Note(f"Not applied: {exc}", error=True))
            return
        proposal = checked.proposal  # with its checks' outcomes
        if checked.verdict == "cancelled":
            say(Note(f"Refactor of {proposal.path}: cancelled while its checks ran; nothing was written."))
            return
        if checked.verdict != "apply" and not await host.push_screen_wait(screens.ChecksFailedScreen(proposal)):
            self._rejected(proposal, "its checks do not pass; nothing was written.")
            return
        try:
            committed = await asyncio.to_thread(self.refactorer().apply, proposal, chosen)
        except EditError as exc:
            say(Note(f"Not applied: {exc}", error=True))
            return
        where = f"commit {committed.commit[:10]}" if committed.commit else f"backup {committed.backup_id}"
        last = proposal.result
        who = f"{last.backend} · {last.model} · {fmt.cost(proposal.cost)}" if last else ""
        passed = f" · checks passed: {', '.join(proposal.checks)}" if proposal.checks else ""
        say(Note(f"Applied to {', '.join(chosen)} · {where} ({who}){passed}. /undo takes it back."))

    def _propose(self, path: str, instruction: str) -> Proposal | None:
        """The model's proposal (in a thread); None when the repository cannot take
        the commit, refused before any model is paid."""
        host = self.host
        cancel = host.cancels.fresh()  # Esc stops the model's turn
        try:
            for note in edits.Workspace(host.project_root).ready([path]):
                host.post_message(Note(note))
        except EditError as exc:
            host.post_message(Note(f"Refactor of {path}: not asked: {exc}", error=True))
            return None
        return self.refactorer().propose(path, instruction, cancel, named=host.session.pinned_files())

    def _rejected(self, proposal: Proposal, why: str) -> None:
        self.refactorer().record_outcome(proposal, "rejected")
        self.host.post_message(Note(f"Refactor of {proposal.path}: {why}"))

    def _undo(self) -> None:
        try:
            said = self.refactorer().undo()
        except EditError as exc:
            self.host.post_message(Note(f"Nothing undone: {exc}", error=True))
            return
        self.host.post_message(Note(said))
