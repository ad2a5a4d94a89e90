"""Refactor-this-file: ask the routed model for an edit, check it, show it, apply it.

A proposal is made by one routed, recorded model turn on a prompt that holds
the file and the instruction (SEARCH/REPLACE blocks, or the whole new file for
backends that handle blocks badly). Its text is parsed and planned in memory,
all or nothing. A proposal whose blocks do not apply is sent back to the same
model once with the reasons; if it still fails, nothing is applied and the
user is told why. Applying writes atomically with byte fidelity and commits
with provenance (or keeps a backup outside git), so `/undo` can take it back.

The project's checks (`[edits] lint_cmd`, `test_cmd`; by default what the
project's files show) execute the proposed code, so by default (`checks =
"after_review"`) they wait for the user's yes: the proposal carries its `plan`
and names the checks `pending`, and `check_accepted` runs them on what was
accepted and says whether to apply or to ask again. `before_review` runs them
while proposing, with one repair round by the model.

A proposal writes only what the user named: the file asked about and the
`named` ones (the CLI's other paths, the TUI's /add files). A change to any
other existing file is left out with the reason; a new file nobody named is
kept apart (`unasked`) and written only when the user allows it.
"""

from __future__ import annotations

import contextlib
import difflib
import json
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from assistant.core.accounting.edit_formats import BLOCKS, WHOLE, FormatFigures, chosen_format, format_figures
from assistant.core.conversation import Message
from assistant.core.edits.checks import CheckOutcome, CheckPlan, configured, run_checks
from assistant.core.edits.checks import repair_message as checks_repair_message
from assistant.core.edits.files import apply_changes, read_file
from assistant.core.edits.hunks import diff_line, select, split_lines
from assistant.core.edits.parse import parse_edits
from assistant.core.edits.plan import normalise_path, plan_changes, retry_message
from assistant.core.edits.prompts import refactor_prompt
from assistant.core.edits.syntax import SyntaxProblem, context_lines, introduced
from assistant.core.edits.types import EditError, FileChange
from assistant.core.edits.vcs import Provenance, Workspace
from assistant.core.results import TurnResult
from assistant.core.session.chat import ChatSession, OnEvent
from assistant.core.session.rewind import Rewinder, RewindError, said_undone
from assistant.core.store.ledger import Ledger, LedgerError, ProposalRecord
from assistant.core.words import TurnKind


@dataclass(frozen=True, slots=True)
class Proposal:
    path: str
    instruction: str
    changes: tuple[FileChange, ...] = ()
    error: str | None = None  # one line: why nothing can be applied
    results: tuple[TurnResult, ...] = ()  # every model turn it took (a retry makes two)
    retried: bool = False
    fuzzy: int = field(default=0)  # SEARCH blocks that matched only ignoring whitespace
    refused: tuple[str, ...] = ()  # one line per file left out: changed but not named
    unasked: tuple[str, ...] = ()  # of `changes`, the new files nobody named: written only if allowed
    # Per changed file that does not parse because of the edit (after its repair round): its problems.
    syntax: tuple[tuple[str, tuple[SyntaxProblem, ...]], ...] = ()
    checks: tuple[str, ...] = ()  # the checks it passed: "syntax", then "lint", "tests" (for the trailer)
    outcomes: tuple[CheckOutcome, ...] = ()  # each configured check's outcome, for the review
    pending: tuple[str, ...] = ()  # the checks that run only once the user accepts ("lint", "tests")
    plan: CheckPlan = CheckPlan()  # the checks it gets (what found each, which cannot run here)

    @property
    def checks_pass(self) -> bool:
        """It parses, and every check that ran passed (or failed already before it, or
        could not run here); `pending` ones have not run yet."""
        return self.parses and all(o.passed for o in self.outcomes)

    @property
    def parses(self) -> bool:
        return not self.syntax

    def syntax_lines(self) -> list[str]:
        """`calc.py line 3:7: missing ')'`, one per problem: what the review shows."""
        return [f"{path} {problem}" for path, found in self.syntax for problem in found]

    @property
    def ok(self) -> bool:
        return self.error is None and bool(self.changes)

    @property
    def result(self) -> TurnResult | None:
        return self.results[-1] if self.results else None

    @property
    def cost(self) -> float | None:
        """What every turn of it cost; None when one cost is unknown."""
        costs = [r.cost for r in self.results]
        return None if any(c is None for c in costs) else sum(c for c in costs if c is not None)

    @property
    def seconds(self) -> float:
        return sum(r.stats.elapsed for r in self.results)


Verdict = Literal["apply", "ask again", "cancelled"]


@dataclass(frozen=True, slots=True)
class Checked:
    """What the checks run after the user's yes found: the proposal with their
    outcomes, and what follows. "ask again": one did not pass, and nothing may be
    written without a second yes (never given by --yes); "cancelled": nothing is written."""

    proposal: Proposal
    verdict: Verdict


def chosen_changes(
    proposal: Proposal, accepted: Sequence[str] | Mapping[str, frozenset[int]] | None, *, allow_new: bool
) -> list[FileChange]:
    """What the user accepted: every file when `accepted` is None, the named files, or
    per file the chosen hunks. A new file nobody named counts only when chosen by
    name or when `allow_new`; an `EditError` when nothing is left."""
    if accepted is None:
        changes = list(proposal.changes)
    elif isinstance(accepted, Mapping):
        changes = [select(c, set(accepted[c.path])) for c in proposal.changes if accepted.get(c.path)]
        changes = [c for c in changes if c.after != c.before]
    else:
        changes = [c for c in proposal.changes if c.path in accepted]
    unasked = [c.path for c in changes if c.path in proposal.unasked]
    if accepted is None and unasked and not allow_new:
        raise EditError(f"{unasked[0]} is a new file you did not ask for: allow new files to write it")
    if not changes:
        raise EditError("nothing accepted: no file was changed")
    return changes


def unified_diff(change: FileChange) -> str:
    """The change as `git diff` would print it (what `git apply` and `patch` read back),
    the no-newline marker included."""
    before, after = split_lines(change.before or ""), split_lines(change.after)
    old = f"a/{change.path}" if change.before is not None else "/dev/null"
    return "".join(diff_line(line) for line in difflib.unified_diff(before, after, old, f"b/{change.path}"))


def diff_stats(changes: Sequence[FileChange]) -> tuple[int, int]:
    """(lines added, lines removed) over `changes`."""
    added = removed = 0
    for change in changes:
        for line in unified_diff(change).splitlines():
            if line.startswith("+") and not line.startswith("+++"):
                added += 1
            elif line.startswith("-") and not line.startswith("---"):
                removed += 1
    return added, removed


def syntax_repair_message(broken: Sequence[tuple[str, Sequence[SyntaxProblem]]], texts: Mapping[str, str]) -> str:
    """What the model is told, once, when its edit leaves a file that does not parse:
    each problem with the lines around it, as the file would be after the edit."""
    parts = ["Your edit leaves code that does not parse:"]
    for path, found in broken:
        for problem in found:
            parts.append(f"- {path} {problem}\n{context_lines(texts[path], problem.line)}")
    parts.append("Send all the edits again, corrected, in the same format.")
    return "\n\n".join(parts)


class Refactorer:
    def __init__(self, session: ChatSession, root: Path) -> None:
        self.session = session
        self.root = root
        self.config = session.config
        self._formats: tuple[FormatFigures, ...] | None = None  # read from the ledger on first use

    def _read(self, path: str) -> str | None:
        current = read_file(self.root, path, max_bytes=self.config.edits.max_file_bytes)
        return current.text if current is not None else None

    def whole_file(self, backend: str) -> bool:
        """Whether `backend` is asked for whole files: `[edits] whole_file_backends` to
        start with, then whichever format its model's recorded proposals say works
        better (`accounting.edit_formats`)."""
        configured = WHOLE if backend in self.config.edits.whole_file_backends else BLOCKS
        if self._formats is None:
            ledger = self.session.ledger()
            try:
                self._formats = format_figures(ledger.proposals()) if ledger is not None else ()
            except LedgerError as exc:
                self.session.ledger_used(str(exc))
                self._formats = ()
        model = self.session.backend_named(backend).model_name
        return chosen_format(self._formats, backend, model, configured) == WHOLE

    def propose(
        self,
        path: str,
        instruction: str,
        cancel: threading.Event,
        on_event: OnEvent | None = None,
        *,
        forced: str | None = None,
        forced_by: str = "",
        named: Sequence[str] = (),
        kind: TurnKind = "edit",
    ) -> Proposal:
        """Ask for an edit of `path`; never raises for what the model or the file does.
        `forced`: the backend the user named, and `forced_by` how ("named with
        --backend"; by default `@NAME`); `named`: other files the user named, which the
        edit may change too; `kind`: "batch" for one file of a batch refactor."""
        try:
            content = self._read(path)
        except EditError as exc:
            return Proposal(path, instruction, error=str(exc))
        if content is None:
            return Proposal(path, instruction, error=f"{path}: no such file")

        plan = configured(self.config.edits, self.root)
        prompts = {}

        def messages_for(name: str) -> list[Message]:
            if name not in prompts:
                prompts[name] = refactor_prompt(path, content, instruction, whole_file=self.whole_file(name))
            return prompts[name]

        result = self.session.run_task(
            messages_for, cancel, on_event, kind=kind, files=(path,),
            forced=forced, forced_by=forced_by or (f"@{forced}" if forced else ""),
        )
        results = [result]
        error: EditError | None = None
        for attempt in range(2):
            last = results[-1]
            if last.outcome != "ok":
                reason = last.error.message if last.error else last.outcome
                return Proposal(path, instruction, error=f"the model did not answer: {reason}", results=tuple(results),
                                retried=attempt > 0)
            try:
                edits = parse_edits(last.text, whole_file=self.whole_file(last.routed_to), default_path=path,
                                    known_paths=(path, *named))
                changes = plan_changes(edits, self._read)
            except EditError as exc:
                error = exc
            else:
                changes = tuple(c for c in changes if c.after != c.before)
                kept, refused, unasked = self._scope(changes, (path, *named))
                if not kept:
                    why = f"the proposal changes only files you did not name: {'; '.join(refused)}" if refused \
                        else "the proposal changes nothing"
                    return Proposal(path, instruction, error=why, results=tuple(results), retried=attempt > 0)
                broken = tuple((c.path, found) for c in kept if (found := introduced(c.path, c.before, c.after)))
                later = not broken and self.config.edits.checks == "after_review"
                pending = tuple(c.name for c in plan.runnable) if later else ()
                outcomes = () if broken or later else run_checks(self.root, kept, self.config.edits, cancel, plan=plan)
                if any(o.status == "cancelled" for o in outcomes):
                    return Proposal(path, instruction, error="cancelled while its checks ran; nothing was written",
                                    results=tuple(results), retried=attempt > 0)
                blamed = [o for o in outcomes if o.status in ("failed", "timed out")]
                if not (broken or blamed) or attempt == 1 or cancel.is_set():
                    passed = () if broken else ("syntax", *(o.name for o in outcomes if o.status == "passed"))
                    return Proposal(path, instruction, kept, results=tuple(results), retried=attempt > 0,
                                    fuzzy=sum(c.fuzzy_matches for c in kept), refused=refused, unasked=unasked,
                                    syntax=broken, checks=passed, outcomes=outcomes, pending=pending, plan=plan)
                error = None
                texts = {c.path: c.after for c in kept}
                repair = syntax_repair_message(broken, texts) if broken else checks_repair_message(blamed)
            if attempt == 0 and not cancel.is_set():
                # Once: the same model hears what was wrong and tries again.
                whole = self.whole_file(last.routed_to)
                said = retry_message(error, whole_file=whole) if error is not None else repair
                retry = [*prompts[last.routed_to], Message("assistant", last.text), Message("user", said)]
                results.append(
                    self.session.run_task(lambda name: retry, cancel, on_event, kind=kind, files=(path,),
                                          forced=last.routed_to, forced_by="a retry of its own edit")
                )
        failed = Proposal(path, instruction, error=str(error), results=tuple(results), retried=True)
        self.record_outcome(failed, "failed")
        return failed

    def real_path(self, path: str) -> str:
        """The root-relative file a write to `path` changes (a symlink's target), or
        `path` itself when it cannot be resolved (the write will say why)."""
        try:
            return Workspace(self.root).real_path(normalise_path(path))
        except EditError:
            return path

    def shown(self, path: str) -> str:
        """`path` as the user sees it: "link.py → real/target.py" when it is a symlink."""
        real = self.real_path(path)
        return path if real == path else f"{path} → {real}"

    def _scope(
        self, changes: Sequence[FileChange], named: Sequence[str]
    ) -> tuple[tuple[FileChange, ...], tuple[str, ...], tuple[str, ...]]:
        """(the changes to named files and new files, why each other one is left out,
        the new files nobody named). Names are compared as the real files they reach."""
        wanted = {self.real_path(p) for p in named}
        kept: list[FileChange] = []
        refused: list[str] = []
        unasked: list[str] = []
        for change in changes:
            if self.real_path(change.path) in wanted:
                kept.append(change)
            elif change.before is None:
                kept.append(change)
                unasked.append(change.path)
            else:
                refused.append(f"{change.path}: left as it is, since you did not name it")
        return tuple(kept), tuple(refused), tuple(unasked)

    def record_outcome(self, proposal: Proposal, outcome: str, change_id: str = "") -> None:
        """What became of a proposal ("applied", "rejected", "failed"), for the report's
        quality proxy. A proposal no model made (an unreadable file) is not counted."""
        last = proposal.result
        ledger = self.session.ledger()
        if last is None or ledger is None:
            return
        checks = [{"name": "syntax", "status": "passed" if proposal.parses else "failed", "seconds": None}]
        checks = (checks if proposal.changes else []) + [  # one that did not run here says nothing of the edit
            {"name": o.name, "status": o.status, "seconds": round(o.seconds, 3)} for o in proposal.outcomes
            if o.status != "not run"
        ]
        record = ProposalRecord(
            self.session.session_id, time.time(), last.backend, last.model, proposal.path, outcome,
            edit_format="whole-file" if self.whole_file(last.routed_to) else "search-replace",
            parsed=bool(proposal.changes), fuzzy=proposal.fuzzy, repairs=len(proposal.results) - 1,
            checks=json.dumps(checks), change_id=change_id, turn_id=last.turn_id,
            kind=last.decision.kind if last.decision is not None and last.decision.kind else "edit",
        )
        try:
            ledger.record_proposal(record)
        except LedgerError as exc:
            self.session.ledger_used(str(exc))
            return
        self.session.ledger_used()  # a proposal's outcome is a rating of its answer

    def check_accepted(
        self,
        proposal: Proposal,
        accepted: Sequence[str] | Mapping[str, frozenset[int]] | None,
        cancel: threading.Event,
        *,
        allow_new: bool = False,
    ) -> Checked:
        """After the user's yes: the `pending` checks, run on a scratch copy with what
        was accepted (as `apply` would write it). A proposal with none pending is to
        be applied as it is (its checks, if any, were shown in the review)."""
        if not proposal.pending:
            return Checked(proposal, "apply")
        outcomes = run_checks(self.root, chosen_changes(proposal, accepted, allow_new=allow_new), self.config.edits,
                              cancel, plan=proposal.plan)
        passed = (*proposal.checks, *(o.name for o in outcomes if o.status == "passed"))
        checked = replace(proposal, pending=(), outcomes=outcomes, checks=passed)
        if any(o.status == "cancelled" for o in outcomes):
            return Checked(checked, "cancelled")
        return Checked(checked, "apply" if all(o.passed for o in outcomes) else "ask again")

    def apply(  # noqa: ANN201
        self,
        proposal: Proposal,
        accepted: Sequence[str] | Mapping[str, frozenset[int]] | None = None,
        *,
        allow_new: bool = False,
    ):
        """Write what was accepted (`chosen_changes`) and commit it (a `vcs.Committed`).
        Its pending checks must have run first (`check_accepted`)."""
        if proposal.pending:
            raise EditError(f"its checks have not run yet ({', '.join(proposal.pending)}): nothing was written")
        changes = chosen_changes(proposal, accepted, allow_new=allow_new)
        last = proposal.result
        provenance = Provenance(
            backend=last.backend if last else "",
            model=last.model if last else "",
            cost=proposal.cost,
            instruction=proposal.instruction,
            checks=proposal.checks,
        )
        workspace = Workspace(self.root, dirty=self.config.edits.dirty)  # type: ignore[arg-type]
        max_bytes = self.config.edits.max_file_bytes
        rewinds = self.session.rewinds
        checkpoint = rewinds.before_turn(self.session.session_id, "refactor", proposal.instruction)
        edited, turn_id = [c.path for c in changes], last.turn_id if last else None
        try:
            committed = workspace.apply(changes, provenance, lambda ch: apply_changes(self.root, ch, max_bytes=max_bytes))
        except BaseException:
            if checkpoint is not None:  # what was written, even by an apply that failed after it
                checkpoint.end(edited=edited, turn_id=turn_id)
            raise
        if checkpoint is not None:
            checkpoint.end(edited=edited, turn_id=turn_id, change_id=committed.commit or committed.backup_id or "")
        self.record_outcome(proposal, "applied", committed.commit or committed.backup_id or "")
        return committed

    def undo(self) -> str:
        said = undo_edit(self.root, self.config.edits.dirty, self.session.ledger, self.session.rewinds)
        self.session.ledger_used()  # an undone edit is a bad answer now
        return said


def undo_edit(root: Path, dirty: str, ledger: Callable[[], Ledger | None], rewinds: Rewinder | None = None) -> str:
    """Take back the app's last change: the rewind of the last turn that changed files
    (core/session/rewind.py), or, with no checkpoint of it (checkpoints off, an edit
    from before them), its commit or its backup, the undo recorded against its
    proposal; a ledger that cannot be written does not stop the undo."""
    if rewinds is not None:
        try:
            undone = rewinds.undo()
        except RewindError as exc:
            raise EditError(str(exc)) from exc
        if undone is not None:
            return said_undone(undone)
    workspace = Workspace(root, dirty=dirty)  # type: ignore[arg-type]
    target = workspace.last_edit_id()
    said = workspace.undo()
    if target is not None:
        with contextlib.suppress(LedgerError):
            if (opened := ledger()) is not None:
                opened.mark_undone(target, time.time())
    return said
