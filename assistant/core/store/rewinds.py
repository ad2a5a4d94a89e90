"""Checkpoints and rewinds in the ledger (migration 13).

A `checkpoints` row is a turn that may change files, between the project's private
checkpoints before and after it (core/checkpoints/). A `rewinds` row is one rewind,
written `started` before anything changes and `done` in the one transaction that
takes the chat's later exchanges out of the stored chat (into `rewound_exchanges`,
never deleted), marks the checkpoints it took back, rates their answers bad (source
`rewind`: a rewound task was not kept) and records their commits as undone. `/redo`
puts each of those back in one transaction, the ratings included (each turn's
verdict before the rewind appended again).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import fields, replace

from assistant.core.store.ledger import Ledger, Writer
from assistant.core.store.records import CheckpointRecord, RewindRecord
from assistant.core.typed_secrets import mask_secrets

_CHECKPOINT = tuple(f.name for f in fields(CheckpointRecord))
_REWIND = tuple(f.name for f in fields(RewindRecord))


def _insert(table: str, record: CheckpointRecord | RewindRecord) -> tuple[str, list[object]]:
    names = [f.name for f in fields(record) if f.name != "id"]
    return (f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
            [getattr(record, name) for name in names])  # fmt: skip


def add_checkpoint(ledger: Ledger, record: CheckpointRecord) -> int:
    """The checkpoint row of a turn that begins; its id."""
    sql, args = _insert("checkpoints", replace(record, label=mask_secrets(record.label)))
    return ledger.transaction("cannot record the checkpoint", lambda conn: conn.execute(sql, args).lastrowid)


def end_checkpoint(ledger: Ledger, checkpoint_id: int, *, after_tree: str, changes: Sequence[tuple[str, str, str]],
                   turn_id: int | None, change_id: str) -> None:  # fmt: skip
    """The turn ended: the files after it, what it changed ([path, change, by]), its answer and commit."""
    ledger.transaction("cannot record the checkpoint", lambda conn: conn.execute(
        "UPDATE checkpoints SET after_tree = ?, changes = ?, turn_id = ?, change_id = ? WHERE id = ?",
        (after_tree, json.dumps([list(c) for c in changes]), turn_id, change_id, checkpoint_id)))  # fmt: skip


def checkpoints(ledger: Ledger, *, session_id: str | None = None, project: str | None = None,
                live: bool = True) -> list[CheckpointRecord]:  # fmt: skip
    """Checkpoint rows, oldest first, of a session or of a project; `live`: not rewound."""
    return ledger.select("cannot read checkpoints", CheckpointRecord, "checkpoints", _CHECKPOINT,
                         [("session_id = ?", session_id), ("project = ?", project)],
                         also=["rewound_by IS NULL"] if live else [])  # fmt: skip


def start_rewind(ledger: Ledger, record: RewindRecord) -> int:
    sql, args = _insert("rewinds", record)
    return ledger.transaction("cannot record the rewind", lambda conn: conn.execute(sql, args).lastrowid)


def rewinds(ledger: Ledger, *, session_id: str | None = None, project: str | None = None,
            state: str | None = None) -> list[RewindRecord]:  # fmt: skip
    """Rewind rows, oldest first."""
    return ledger.select("cannot read rewinds", RewindRecord, "rewinds", _REWIND,
                         [("session_id = ?", session_id), ("project = ?", project), ("state = ?", state)])  # fmt: skip


def rewind(ledger: Ledger, rewind_id: int) -> RewindRecord | None:
    found = ledger.select("cannot read rewinds", RewindRecord, "rewinds", _REWIND, [("id = ?", rewind_id)])
    return found[0] if found else None


def finish_rewind(ledger: Ledger, record: RewindRecord, taken_back: Sequence[CheckpointRecord], *,
                  files: bool) -> None:  # fmt: skip
    """The rewind `record` (its id set, its figures final) done, in one transaction:
    the stored chat cut at `record.chat_cut`, `taken_back` marked, and (when its files
    went back) their answers rated bad and their commits undone. Doing it again
    changes nothing (a next start may finish a rewind cut short)."""
    rewind_id = record.id

    def write(conn: Writer) -> None:
        state = conn.execute("SELECT state FROM rewinds WHERE id = ?", (rewind_id,)).fetchone()
        if state is None or state[0] != "started":
            return
        if record.chat_cut is not None:
            conn.execute(
                "INSERT INTO rewound_exchanges (rewind_id, seq, question, answer, figures, in_conversation, at)"
                " SELECT ?, seq, question, answer, figures, in_conversation, at FROM session_exchanges"
                " WHERE session_id = ? AND seq >= ?", (rewind_id, record.session_id, record.chat_cut))  # fmt: skip
            conn.execute("DELETE FROM session_exchanges WHERE session_id = ? AND seq >= ?",
                         (record.session_id, record.chat_cut))  # fmt: skip
        for checkpoint in taken_back:
            conn.execute("UPDATE checkpoints SET rewound_by = ? WHERE id = ? AND rewound_by IS NULL",
                         (rewind_id, checkpoint.id))  # fmt: skip
            if not files:
                continue
            if checkpoint.turn_id is not None:
                conn.execute("INSERT INTO ratings (turn_id, at, verdict, source) SELECT id, ?, 'bad', 'rewind'"
                             " FROM turns WHERE id = ?", (record.at, checkpoint.turn_id))  # fmt: skip
            _mark_undone(conn, checkpoint, record.at)
        names = [n for n in _REWIND if n != "id"]
        conn.execute(f"UPDATE rewinds SET {', '.join(f'{n} = ?' for n in names)} WHERE id = ?",
                     [*(getattr(replace(record, state="done"), n) for n in names), rewind_id])  # fmt: skip

    ledger.transaction("cannot record the rewind", write)


def _mark_undone(conn: Writer, checkpoint: CheckpointRecord, at: float | None) -> None:
    """The proposal or task a checkpoint's turn was, undone at `at` (None: not undone any more)."""
    for table, column in (("proposals", "change_id"), ("tasks", "commit_id")):
        key = "turn_id" if table == "proposals" else "id"
        turn = "?" if table == "proposals" else "(SELECT task_id FROM turns WHERE id = ?)"
        conn.execute(f"UPDATE {table} SET undone_at = ? WHERE ({key} = {turn} OR ({column} != '' AND {column} = ?))",
                     (at, checkpoint.turn_id, checkpoint.change_id))  # fmt: skip


def checkpoints_of(conn: Writer, rewind_id: int | None) -> list[CheckpointRecord]:
    rows = conn.execute(f"SELECT {', '.join(_CHECKPOINT)} FROM checkpoints WHERE rewound_by = ?", (rewind_id,)).fetchall()
    return [CheckpointRecord(**dict(zip(_CHECKPOINT, row, strict=True))) for row in rows]


def abandon_rewind(ledger: Ledger, rewind_id: int) -> None:
    """A rewind killed before it changed anything."""
    ledger.transaction("cannot record the rewind", lambda conn: conn.execute(
        "UPDATE rewinds SET state = 'abandoned' WHERE id = ? AND state = 'started'", (rewind_id,)))  # fmt: skip


def redo(ledger: Ledger, record: RewindRecord, at: float, *, commit_id: str = "") -> None:
    """Take back the rewind `record` in the ledger: its exchanges back in the stored
    chat, its checkpoints live again, each rated answer's verdict before it again."""
    rewind_id = record.id

    def write(conn: Writer) -> None:
        conn.execute(
            "INSERT INTO session_exchanges (session_id, seq, question, answer, figures, in_conversation, at)"
            " SELECT ?, seq, question, answer, figures, in_conversation, at FROM rewound_exchanges"
            " WHERE rewind_id = ? ORDER BY seq", (record.session_id, rewind_id))  # fmt: skip
        conn.execute("DELETE FROM rewound_exchanges WHERE rewind_id = ?", (rewind_id,))
        rated = conn.execute("SELECT r.id, r.turn_id FROM ratings r JOIN checkpoints c ON c.turn_id = r.turn_id"
                             " WHERE c.rewound_by = ? AND r.source = 'rewind' AND r.verdict = 'bad' AND r.at = ?",
                             (rewind_id, record.at)).fetchall()  # fmt: skip
        for rating_id, turn_id in rated:
            before = conn.execute("SELECT verdict FROM ratings WHERE turn_id = ? AND id < ? ORDER BY id DESC LIMIT 1",
                                  (turn_id, rating_id)).fetchone()  # fmt: skip
            conn.execute("INSERT INTO ratings (turn_id, at, verdict, source) VALUES (?, ?, ?, 'rewind')",
                         (turn_id, at, before[0] if before else "none"))  # fmt: skip
        for checkpoint in checkpoints_of(conn, rewind_id):
            _mark_undone(conn, checkpoint, None)
        conn.execute("UPDATE checkpoints SET rewound_by = NULL WHERE rewound_by = ?", (rewind_id,))
        conn.execute("UPDATE rewinds SET state = 'redone', redone_at = ?, commit_id = CASE WHEN ? != '' THEN ?"
                     " ELSE commit_id END WHERE id = ?", (at, commit_id, commit_id, rewind_id))  # fmt: skip

    ledger.transaction("cannot record the redo", write)
