"""Every turn can be taken back: checkpoints around the turns that may change files,
the session's list of points to go back to, rewinds of files, chat or both, /redo,
and undo as the rewind of the last turn that changed files.

A task or an applied edit is wrapped by `before_turn` (a checkpoint of the project's
files, core/checkpoints/) and its `Checkpointing.end` (one more, and what changed
between: by an edit, or by a command). The session's points are its stored
exchanges in order, each task's checkpoint beside its exchange, an edit applied
between two exchanges as a point of its own.

Rewinding to point N goes back to before it: the files as the first checkpoint at
or after N holds them, each change the user made since kept unless they say
otherwise (core/checkpoints/restore.py), and the stored exchanges from N on moved
out of the chat (kept in the ledger as rewound). The files just before a rewind are
a checkpoint too, so `/redo` puts back the files and the exchanges of the last
rewind, as long as nothing newer was added since.

In a git work tree, when the turns taken back made commits (`[edits] commit`), the
files put back are committed as one `undo:` commit naming each (`Assistant-Undo`),
so the history says what happened and `git status` stays clean; a redo commits
them again (`redo:`). History is never rewritten.

A rewind first writes its row (`started`), then restores the files with a journal,
then finishes the ledger's part in one transaction, and only then drops the
journal: a process killed anywhere leaves the next start (`finish_interrupted`)
what it needs to complete it, or to say that nothing had changed yet.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from assistant.core import store
from assistant.core.checkpoints import (
    CheckpointError,
    Kept,
    Plan,
    Restored,
    Snapshots,
    finish_interrupted,
    interrupted,
    plan,
    restore,
)
from assistant.core.config import Config
from assistant.core.edits.types import EditError
from assistant.core.edits.vcs import Workspace
from assistant.core.paths import Paths
from assistant.core.store.records import CheckpointRecord, RewindRecord

log = logging.getLogger(__name__)
What = Literal["files", "chat", "both"]
DAY_S = 86_400.0
PRUNE_BATCH = 20  # checkpoints a prune waits for: each walks every object of the store once


class RewindError(Exception):
    """A rewind or redo that cannot be done; one line a person can act on."""


@dataclass(frozen=True, slots=True)
class FileChanged:
    path: str
    change: str  # added | changed | deleted
    by: str  # edit | command


@dataclass(frozen=True, slots=True)
class Point:
    """One entry of a session's rewind list: an exchange, a task, an applied edit."""

    number: int  # from 1
    kind: str  # "chat" | "task" | "refactor"
    text: str  # the question or instruction
    exchange: int | None  # its place in the stored chat (None: an edit between exchanges)
    checkpoint: CheckpointRecord | None
    in_conversation: bool = True  # False: shown in the chat, no longer sent (/retry, /compact)

    @property
    def changes(self) -> tuple[FileChanged, ...]:
        if self.checkpoint is None:
            return ()
        try:
            return tuple(FileChanged(*c) for c in json.loads(self.checkpoint.changes))
        except (ValueError, TypeError):
            return ()

    @property
    def chat_at(self) -> int:
        """The stored exchanges before this point."""
        if self.exchange is not None:
            return self.exchange
        return self.checkpoint.chat_at if self.checkpoint is not None else 0


@dataclass(frozen=True, slots=True)
class Preview:
    """What a rewind to before `point` would do, before anything is done."""

    session_id: str
    point: Point
    what: What
    plan: Plan | None  # None: no file to put back (chat only, or no turn since changed files)
    taken_back: tuple[CheckpointRecord, ...]  # the turns whose files go back
    chat_leaving: int  # stored exchanges that leave the chat
    chat_cut: int | None  # None: the chat stays as it is
    labels: dict[int, str]  # checkpoint index in `taken_back` → "turn N", for what was kept
    large: tuple[str, ...] = ()  # files left out of checkpoints for their size: left as they are

    @property
    def empty(self) -> bool:
        return (self.plan is None or self.plan.empty) and not self.chat_leaving


@dataclass(frozen=True, slots=True)
class Rewound:
    """What a rewind, redo or undo did."""

    rewind_id: int | None
    restored: tuple[str, ...]
    kept: tuple[Kept, ...] = ()
    skipped: tuple[tuple[str, str], ...] = ()
    chat_moved: int = 0  # exchanges taken out of the chat (a redo: put back)
    commit: str | None = None
    notes: tuple[str, ...] = ()


class Checkpointing:
    """A turn under way between its checkpoint and the next (`Rewinder.before_turn`)."""

    def __init__(self, rewinder: Rewinder, checkpoint_id: int, before: str) -> None:
        self._rewinder = rewinder
        self.checkpoint_id = checkpoint_id
        self.before = before

    def end(self, *, edited: Iterable[str] = (), turn_id: int | None = None, change_id: str = "") -> None:
        """The turn ended: the files now, and what it changed (`edited`: by its edits; any
        other file that changed, by a command). Never raises: a checkpoint that cannot
        be taken is logged, and the turn stands."""
        self._rewinder.end_turn(self, set(edited), turn_id, change_id)


class Rewinder:
    """Checkpoints, rewinds and redo in the project at `root`. `ledger` gives the
    ledger (None: off); `reload(session_id)` is called after the stored chat of a
    session changed (the TUI's session takes it back)."""

    def __init__(self, root: Path, config: Config, ledger: Callable[[], store.Ledger | None], *,
                 paths: Paths | None = None, reload: Callable[[str], None] | None = None) -> None:  # fmt: skip
        self.root = Path(os.path.realpath(root))
        self.config = config
        self._ledger = ledger
        self._paths = paths
        self._reload = reload
        self._snapshots: Snapshots | None = None
        # Why the last checkpoint could not be taken (said once to the user), or None.
        self.problem: str | None = None

    @property
    def snapshots(self) -> Snapshots:
        if self._snapshots is None:
            settings = self.config.checkpoints
            self._snapshots = Snapshots(self.root, self._paths, max_file_bytes=settings.max_file_mib * 2**20 or None,
                                        max_files=settings.max_files or None)  # fmt: skip
        return self._snapshots

    # -- around a turn ----------------------------------------------------------

    def before_turn(self, session_id: str, kind: str, label: str) -> Checkpointing | None:
        """A checkpoint before a turn that may change files; None when checkpoints are
        off, there is no ledger, or it could not be taken (logged: the turn goes on)."""
        ledger = self._ledger()
        if not self.config.checkpoints.enabled or ledger is None:
            return None
        try:
            if said := self._finish_first(ledger):  # a rewind a killed run left, finished before anything new
                log.warning("%s", said)
            tree = self.snapshots.take()
            record = CheckpointRecord(session_id, str(self.root), time.time(), kind, " ".join(label.split())[:200],
                                      tree, chat_at=self._stored_count(ledger, session_id))  # fmt: skip
            return Checkpointing(self, store.rewinds.add_checkpoint(ledger, record), tree)
        except (CheckpointError, RewindError, store.LedgerError) as exc:
            log.warning("no checkpoint before the %s: %s", kind, exc)
            self.problem = str(exc)
            return None

    def end_turn(self, turn: Checkpointing, edited: set[str], turn_id: int | None, change_id: str) -> None:
        ledger = self._ledger()
        if ledger is None:
            return
        try:
            after = self.snapshots.take()
            changes = [(d.path, d.change, "edit" if d.path in edited else "command")
                       for d in self.snapshots.differences(turn.before, after)]  # fmt: skip
            store.rewinds.end_checkpoint(ledger, turn.checkpoint_id, after_tree=after, changes=changes,
                                         turn_id=turn_id, change_id=change_id or "")  # fmt: skip
            self._prune(ledger)
        except (CheckpointError, store.LedgerError) as exc:
            log.warning("the checkpoint after the turn was not taken: %s", exc)

    def _prune(self, ledger: store.Ledger) -> None:
        """The ledger says which checkpoints are kept: the project's newest `keep` turns
        younger than `max_age_days`, and what the last rewind of each session needs for
        /redo; the store drops every other (never its newest few)."""
        settings = self.config.checkpoints
        oldest = time.time() - settings.max_age_days * DAY_S if settings.max_age_days else 0.0
        turns = store.rewinds.checkpoints(ledger, project=str(self.root), live=False)[-settings.keep:]
        keep = {t for c in turns if c.at >= oldest for t in (c.before_tree, c.after_tree)}
        last: dict[str, RewindRecord] = {}
        for r in store.rewinds.rewinds(ledger, project=str(self.root), state="done"):
            last[r.session_id] = r
        keep |= {t for r in last.values() for t in (r.before_tree, r.after_tree)}
        self.snapshots.prune(sorted(t for t in keep if t), count=0, max_age_s=None, batch=PRUNE_BATCH)

    # -- the list ---------------------------------------------------------------

    def points(self, session_id: str) -> list[Point]:
        """The session's points in order: its stored exchanges, each with its task's
        checkpoint, and each applied edit between them."""
        ledger = self._need_ledger()
        rows = ledger.query("cannot read the session",
                            "SELECT seq, question, figures, in_conversation FROM session_exchanges"
                            " WHERE session_id = ? ORDER BY seq", [session_id])  # fmt: skip
        checkpoints = [c for c in store.rewinds.checkpoints(ledger, session_id=session_id) if c.project == str(self.root)]
        by_turn = {c.turn_id: c for c in checkpoints if c.kind == "task" and c.turn_id is not None}
        linked: set[int | None] = set()
        found: list[tuple[str, str, int | None, CheckpointRecord | None, bool]] = []
        for seq, question, figures, in_conversation in rows:
            turn_id = _turn_id(figures)
            # The edits (and the tasks that left no exchange) made before this exchange.
            before = [c for c in checkpoints if c.id not in linked and c.chat_at <= seq
                      and not (c.kind == "task" and c.turn_id is not None and c.turn_id == turn_id)]  # fmt: skip
            for c in before:
                linked.add(c.id)
                found.append((c.kind, c.label, None, c, True))
            mine = by_turn.get(turn_id) if turn_id is not None else None
            if mine is not None:
                linked.add(mine.id)
            found.append(("task" if mine else "chat", question, seq, mine, bool(in_conversation)))
        for c in checkpoints:
            if c.id not in linked:
                found.append((c.kind, c.label, None, c, True))
        return [Point(n, kind, text, seq, c, live) for n, (kind, text, seq, c, live) in enumerate(found, 1)]

    def preview(self, session_id: str, number: int, what: What = "both", *, keep_mine: bool = True) -> Preview:
        """What rewinding the session to before its point `number` would do."""
        points = self.points(session_id)
        if not points:
            raise RewindError("this session has no turn to rewind to yet")
        if not 1 <= number <= len(points):
            raise RewindError(f"there is no point {number}: this session's points are 1 to {len(points)}")
        point = points[number - 1]
        later = [p.checkpoint for p in points[number - 1 :] if p.checkpoint is not None]
        taken_back = tuple(later) if what != "chat" else ()
        chosen = None
        if taken_back:
            chosen = self._plan(taken_back, keep_mine)
        leaving = sum(1 for p in points[number - 1 :] if p.exchange is not None) if what != "files" else 0
        labels = {i: f"point {next(p.number for p in points if p.checkpoint is c)}" for i, c in enumerate(taken_back)}
        large = tuple(self.snapshots.large_files()) if taken_back else ()
        return Preview(session_id, point, what, chosen, taken_back, leaving,
                       point.chat_at if what != "files" else None, labels, large)  # fmt: skip

    def _plan(self, taken_back: Sequence[CheckpointRecord], keep_mine: bool) -> Plan:
        now = self.snapshots.take()
        spans = []
        for i, c in enumerate(taken_back):  # a turn killed before its end: up to the next one's start
            after = c.after_tree or (taken_back[i + 1].before_tree if i + 1 < len(taken_back) else now)
            spans.append((c.before_tree, after))
        missing = [t for span in spans for t in span if not self.snapshots.exists(t)]
        if missing:
            raise RewindError("the checkpoint of that turn was pruned ([checkpoints] keep, max_age_days): "
                              "its files can no longer be put back")  # fmt: skip
        return plan(self.snapshots, taken_back[0].before_tree, now, spans, keep_mine=keep_mine)

    # -- doing it ---------------------------------------------------------------

    def rewind(self, preview: Preview) -> Rewound:
        """Carry out `preview` (made just before: a file changed since is left and said)."""
        ledger = self._need_ledger()
        self._finish_first(ledger)
        chosen = preview.plan
        record = RewindRecord(preview.session_id, str(self.root), time.time(), preview.point.number, preview.what,
                              target_tree=chosen.target if chosen else "", before_tree=chosen.now if chosen else "",
                              chat_cut=preview.chat_cut if preview.chat_leaving else None)  # fmt: skip
        record = replace(record, id=store.rewinds.start_rewind(ledger, record))
        return self._carry_out(ledger, record, chosen, preview.taken_back)

    def _carry_out(self, ledger: store.Ledger, record: RewindRecord, chosen: Plan | None,
                   taken_back: Sequence[CheckpointRecord]) -> Rewound:  # fmt: skip
        files = record.what != "chat"
        if chosen is None or chosen.empty:
            done = Restored(())
            record = self._finished(ledger, record, done, chosen, taken_back, files)
        else:
            holder: dict[str, RewindRecord] = {}

            def then(restored: Restored) -> None:
                holder["record"] = self._finished(ledger, record, restored, chosen, taken_back, files)

            try:
                extra = {"rewind": record.id, "checkpoints": [c.id for c in taken_back]}
                done = restore(self.snapshots, chosen, extra, then=then)
            except CheckpointError as exc:
                raise RewindError(str(exc)) from exc
            record = holder["record"]
        self._after_chat_change(record.session_id, record.chat_cut)
        return Rewound(record.id, done.done, chosen.kept if chosen else (), done.skipped,
                       self._moved(record), record.commit_id or None)  # fmt: skip

    def _finished(self, ledger: store.Ledger, record: RewindRecord, restored: Restored, chosen: Plan | None,
                  taken_back: Sequence[CheckpointRecord], files: bool) -> RewindRecord:  # fmt: skip
        """The ledger's part of a rewind whose files are back: its commit, its row done."""
        commit = self._commit_undo(restored.done, taken_back) if files and restored.done else None
        if files:  # outside git, an edit's backup is taken back with it (undo must not find it again)
            for checkpoint in taken_back:
                Workspace(self.root).forget_backup(checkpoint.change_id)
        # The files after it (what /redo takes back from); a chat-only rewind or an empty plan changed none.
        changed = files and record.before_tree and (chosen is None or not chosen.empty)
        after = self.snapshots.take() if changed else record.before_tree
        record = replace(record, after_tree=after, restored=json.dumps(list(restored.done)),
                         kept=json.dumps([k.path for k in chosen.kept] if chosen else []), commit_id=commit or "")  # fmt: skip
        store.rewinds.finish_rewind(ledger, record, taken_back, files=files)
        return record

    def _commit_undo(self, paths: Sequence[str], taken_back: Sequence[CheckpointRecord]) -> str | None:
        commits = [c.change_id for c in taken_back if c.change_id and len(c.change_id) == 40]
        workspace = Workspace(self.root, dirty=self.config.edits.dirty)  # type: ignore[arg-type]
        if not commits or not workspace.is_git or not self.config.edits.commit:
            return None
        try:
            return workspace.commit_restored(paths, undone=commits)
        except EditError as exc:
            log.warning("the rewind's files were not committed: %s", exc)
            return None

    def redo(self, session_id: str) -> Rewound:
        """Take back the session's last rewind: its files and its exchanges, as they were."""
        ledger = self._need_ledger()
        self._finish_first(ledger)
        ended = [r for r in store.rewinds.rewinds(ledger, session_id=session_id, project=str(self.root))
                 if r.state in ("done", "redone")]  # fmt: skip
        if not ended or ended[-1].state != "done":
            raise RewindError("there is no rewind to redo in this session")
        record = ended[-1]
        newer = [c for c in store.rewinds.checkpoints(ledger, session_id=session_id) if c.at > record.at]
        if newer or (record.chat_cut is not None and self._stored_count(ledger, session_id) != record.chat_cut):
            raise RewindError("the session went on since the rewind: /redo would mix two histories")
        moved = self._moved(record)
        if record.what == "chat" or not record.before_tree or record.before_tree == record.after_tree:
            self._redone(ledger, record, ())
            return Rewound(record.id, (), chat_moved=moved)
        # The rewind's own change is the one taken back; what the user did since stays.
        chosen = plan(self.snapshots, record.before_tree, self.snapshots.take(), [(record.before_tree, record.after_tree)])
        commit: list[str] = []
        try:
            result = restore(self.snapshots, chosen, {"redo": record.id},
                             then=lambda done: commit.extend(self._redone(ledger, record, done.done)))  # fmt: skip
        except CheckpointError as exc:
            raise RewindError(str(exc)) from exc
        return Rewound(record.id, result.done, chosen.kept, result.skipped, moved, commit[0] if commit else None)

    def _redone(self, ledger: store.Ledger, record: RewindRecord, restored: Sequence[str]) -> list[str]:
        """The ledger's part of a redo (and its commit); the commit made, if any."""
        commit = self._commit_redo(restored, record.commit_id) if record.commit_id and restored else None
        store.rewinds.redo(ledger, record, time.time(), commit_id=commit or "")
        self._after_chat_change(record.session_id, record.chat_cut)
        return [commit] if commit else []

    def _commit_redo(self, paths: Sequence[str], undo_commit: str) -> str | None:
        try:
            return Workspace(self.root, dirty=self.config.edits.dirty).commit_restored(  # type: ignore[arg-type]
                paths, redo_of=undo_commit)
        except EditError as exc:
            log.warning("the redo's files were not committed: %s", exc)
            return None

    def undo(self) -> Rewound | None:
        """Take back the last turn in this project that changed files (any session): its
        rewind, files only. None when no checkpoint is there to do it (checkpoints off,
        or an edit from before them): the history's own undo is left to do it."""
        ledger = self._ledger()
        if ledger is None or not self.config.checkpoints.enabled:
            return None
        self._finish_first(ledger)
        live = [c for c in store.rewinds.checkpoints(ledger, project=str(self.root)) if c.changes != "[]" and c.after_tree]
        if not live:
            return None
        last = live[-1]
        if last.change_id and self._history_newer(last.change_id):
            return None
        chosen = self._plan([last], keep_mine=True)
        record = RewindRecord(last.session_id, str(self.root), time.time(), 0, "files", chosen.target, chosen.now)
        record = replace(record, id=store.rewinds.start_rewind(ledger, record))
        return self._carry_out(ledger, record, chosen, [last])

    def _history_newer(self, change_id: str) -> bool:
        """An edit the history holds, newer than the last checkpointed one (made with checkpoints off)."""
        last = Workspace(self.root).last_edit_id()
        return last is not None and last != change_id

    # -- the chat ---------------------------------------------------------------

    def _after_chat_change(self, session_id: str, cut: int | None) -> None:
        if cut is not None and self._reload is not None:
            try:
                self._reload(session_id)
            except store.LedgerError as exc:  # the stored chat is right; the window catches up on resume
                log.warning("the chat was not reloaded after the rewind: %s", exc)

    def _moved(self, record: RewindRecord) -> int:
        """The exchanges the rewind `record` holds out of its chat (read before a redo puts them back)."""
        if record.chat_cut is None:
            return 0
        rows = self._need_ledger().query("cannot read the rewind",
                                         "SELECT COUNT(*) FROM rewound_exchanges WHERE rewind_id = ?", [record.id])  # fmt: skip
        return int(rows[0][0])

    @staticmethod
    def _stored_count(ledger: store.Ledger, session_id: str) -> int:
        rows = ledger.query("cannot read the session", "SELECT COUNT(*) FROM session_exchanges WHERE session_id = ?",
                            [session_id])  # fmt: skip
        return int(rows[0][0])

    # -- after a crash ----------------------------------------------------------

    def finish_interrupted(self) -> str | None:
        """At start: a rewind a killed process left, finished (or said to have changed
        nothing); one line saying so, or None."""
        ledger = self._ledger()
        if ledger is None:
            return None
        try:
            return self._finish_first(ledger)
        except (RewindError, CheckpointError, store.LedgerError) as exc:
            return f"an interrupted rewind could not be finished: {exc}"

    def _finish_first(self, ledger: store.Ledger) -> str | None:
        """What a killed rewind (or redo) left: its files finished from the journal, then
        its ledger part; a rewind begun with no journal changed nothing, and says so."""
        started = store.rewinds.rewinds(ledger, project=str(self.root), state="started")
        if not started and not interrupted(self.snapshots):
            return None

        def then(restored: Restored) -> None:
            rewind_id, redo_id = restored.extra.get("rewind"), restored.extra.get("redo")
            if isinstance(rewind_id, int) and (record := store.rewinds.rewind(ledger, rewind_id)) is not None:
                if record.state == "started":
                    ids = set(restored.extra.get("checkpoints") or ())
                    taken_back = [c for c in store.rewinds.checkpoints(ledger, project=str(self.root)) if c.id in ids]
                    self._finished(ledger, record, restored, None, taken_back, record.what != "chat")
                    self._after_chat_change(record.session_id, record.chat_cut)
            elif isinstance(redo_id, int) and (record := store.rewinds.rewind(ledger, redo_id)) is not None:
                if record.state == "done":
                    self._redone(ledger, record, restored.done)

        said: list[str] = []
        try:
            restored = finish_interrupted(self.snapshots, then=then)
        except CheckpointError as exc:
            raise RewindError(str(exc)) from exc
        if restored is not None:
            left = f"; not put back: {', '.join(p for p, _ in restored.skipped)}" if restored.skipped else ""
            said.append(f"an interrupted rewind was finished: {len(restored.done)} file(s) as they should be{left}")
        for record in store.rewinds.rewinds(ledger, project=str(self.root), state="started"):
            if record.id is not None:  # no journal: killed before any file changed
                store.rewinds.abandon_rewind(ledger, record.id)
                said.append("an interrupted rewind had changed nothing yet; run it again")
        return "; ".join(said) or None

    def _need_ledger(self) -> store.Ledger:
        ledger = self._ledger()
        if ledger is None:
            raise RewindError("rewinding needs the cost ledger, which is off or could not be opened")
        return ledger


def said_undone(undone: Rewound) -> str:
    """One line: what an undo put back, and what it kept (the user's changes since)."""
    parts = [f"put back {', '.join(undone.restored)}" if undone.restored else "no file needed putting back"]
    if touched := [k.path for k in undone.kept if k.touched]:
        parts.append(f"kept {', '.join(touched)} (changed since, by you)")
    if undone.skipped:
        parts.append("not put back: " + ", ".join(f"{path} ({why})" for path, why in undone.skipped))
    if undone.commit:
        parts.append(f"committed {undone.commit[:7]}")
    return "undid the last change: " + "; ".join(parts)


def reloaded(ledger: store.Ledger | None, session_id: str) -> store.saved_sessions.StoredSession:
    """The stored chat of `session_id` after a rewind or redo changed it, each window
    starting no later than the exchanges it still holds."""
    if ledger is None:
        raise store.LedgerError("the cost ledger is off")
    stored = store.saved_sessions.load(ledger, session_id)
    held = len(stored.conversation)
    return replace(stored, window_starts={name: min(start, held) for name, start in stored.window_starts.items()})


def _turn_id(figures: object) -> int | None:
    if not isinstance(figures, str):
        return None
    try:
        turn = json.loads(figures).get("turn") or {}
    except (ValueError, AttributeError):
        return None
    value = turn.get("turn_id") if isinstance(turn, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None
