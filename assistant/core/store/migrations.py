"""The ledger's schema, as its history: migration i brings `PRAGMA user_version`
from i to i + 1 (run by `Ledger.open`, each in its own transaction)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable


def _migration_1(conn: sqlite3.Connection) -> None:
    # Literal SQL, never derived from code that may change: a migration is frozen once shipped.
    # Plain CREATE (no IF NOT EXISTS): a foreign database with a `turns` table fails loudly.
    for statement in (
        """CREATE TABLE sessions (
            id TEXT PRIMARY KEY,
            started_at REAL NOT NULL,
            title TEXT NOT NULL DEFAULT '',
            cwd TEXT NOT NULL DEFAULT ''
        )""",
        """CREATE TABLE turns (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            session_id TEXT NOT NULL REFERENCES sessions(id),
            started_at REAL NOT NULL,
            backend TEXT NOT NULL,
            model TEXT NOT NULL,
            outcome TEXT NOT NULL CHECK (outcome IN ('ok', 'cancelled', 'interrupted', 'error')),
            route_reason TEXT NOT NULL DEFAULT '',
            prompt_tokens INTEGER,
            completion_tokens INTEGER NOT NULL DEFAULT 0,
            cache_read_tokens INTEGER NOT NULL DEFAULT 0,
            cache_write_tokens INTEGER NOT NULL DEFAULT 0,
            cache_write_1h_tokens INTEGER NOT NULL DEFAULT 0,
            prompt_tokens_evaluated INTEGER,
            usage_estimated INTEGER NOT NULL DEFAULT 0,
            ttft REAL,
            generation_seconds REAL,
            elapsed REAL NOT NULL DEFAULT 0,
            tokens_per_second REAL,
            cost REAL,
            counterfactual_cost REAL,
            reference_model TEXT NOT NULL DEFAULT '',
            error TEXT NOT NULL DEFAULT ''
        )""",
        "CREATE INDEX turns_session_id ON turns (session_id)",
        "CREATE INDEX turns_started_at ON turns (started_at)",
    ):
        conn.execute(statement)


def _migration_2(conn: sqlite3.Connection) -> None:
    """The router's decision: who decided, and the estimate it chose on."""
    for statement in (
        "ALTER TABLE turns ADD COLUMN decided_by TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE turns ADD COLUMN estimated_cost REAL",
        "ALTER TABLE turns ADD COLUMN estimated_seconds REAL",
        "CREATE INDEX turns_backend_model ON turns (backend, model, started_at)",
    ):
        conn.execute(statement)


def _migration_3(conn: sqlite3.Connection) -> None:
    """`assistant bench`: one row per case of a backend and model on a machine."""
    for statement in (
        """CREATE TABLE bench_runs (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            at REAL NOT NULL,
            machine TEXT NOT NULL,
            backend TEXT NOT NULL,
            model TEXT NOT NULL,
            "case" TEXT NOT NULL,
            runs INTEGER NOT NULL,
            prompt_tokens INTEGER NOT NULL,
            completion_tokens INTEGER NOT NULL,
            prompt_tps REAL,
            generation_tps REAL,
            ttft REAL,
            ttft_spread REAL,
            peak_memory_bytes INTEGER
        )""",
        "CREATE INDEX bench_runs_backend_model ON bench_runs (backend, model, at)",
    ):
        conn.execute(statement)


def _migration_4(conn: sqlite3.Connection) -> None:
    """Stored chats (`assistant --resume`): each session's exchanges and its state
    (mode, system prompt, pinned items, window starts); see core/store/sessions.py."""
    for statement in (
        """CREATE TABLE session_exchanges (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            session_id TEXT NOT NULL REFERENCES sessions(id),
            seq INTEGER NOT NULL,
            question TEXT NOT NULL,
            answer TEXT,
            label TEXT NOT NULL DEFAULT '',
            badge TEXT NOT NULL DEFAULT '',
            footer TEXT NOT NULL DEFAULT '',
            at REAL NOT NULL
        )""",
        "CREATE INDEX session_exchanges_session ON session_exchanges (session_id, seq)",
        """CREATE TABLE session_state (
            session_id TEXT PRIMARY KEY REFERENCES sessions(id),
            state TEXT NOT NULL,
            updated_at REAL NOT NULL
        )""",
    ):
        conn.execute(statement)


def _migration_5(conn: sqlite3.Connection) -> None:
    """Refactor proposals and what became of them: the report's quality proxy."""
    for statement in (
        """CREATE TABLE proposals (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            session_id TEXT NOT NULL,
            at REAL NOT NULL,
            backend TEXT NOT NULL,
            model TEXT NOT NULL,
            path TEXT NOT NULL,
            outcome TEXT NOT NULL CHECK (outcome IN ('applied', 'rejected', 'failed'))
        )""",
        "CREATE INDEX proposals_backend_model ON proposals (backend, model, at)",
    ):
        conn.execute(statement)


def _migration_6(conn: sqlite3.Connection) -> None:
    """Stored exchanges keep the answering turn's raw figures (JSON in `figures`,
    see core/store/sessions.py), which the UI renders, instead of the label, badge
    and footer as they were rendered when stored. A row stored before keeps what
    it showed, under "shown": the figures it was made from were not kept."""
    rows = conn.execute("SELECT id, label, badge, footer FROM session_exchanges").fetchall()
    for statement in (
        """CREATE TABLE session_exchanges_6 (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            session_id TEXT NOT NULL REFERENCES sessions(id),
            seq INTEGER NOT NULL,
            question TEXT NOT NULL,
            answer TEXT,
            figures TEXT,
            at REAL NOT NULL
        )""",
        "INSERT INTO session_exchanges_6 (id, session_id, seq, question, answer, at) "
        "SELECT id, session_id, seq, question, answer, at FROM session_exchanges",
        "DROP TABLE session_exchanges",
        "ALTER TABLE session_exchanges_6 RENAME TO session_exchanges",
        "CREATE INDEX session_exchanges_session ON session_exchanges (session_id, seq)",
    ):
        conn.execute(statement)
    shown = [
        (json.dumps({"shown": {"label": label, "badge": badge, "footer": footer}}), row_id)
        for row_id, label, badge, footer in rows
        if any(isinstance(v, str) and v for v in (label, badge, footer))
    ]
    conn.executemany("UPDATE session_exchanges SET figures = ? WHERE id = ?", shown)


def _migration_7(conn: sqlite3.Connection) -> None:
    """How each refactor proposal went: its edit format, whether it parsed, fuzzy
    matches, repair rounds, each check's outcome and time (JSON), and for an
    applied one its commit (or backup) and when it was undone."""
    for statement in (
        "ALTER TABLE proposals ADD COLUMN edit_format TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE proposals ADD COLUMN parsed INTEGER NOT NULL DEFAULT 1",
        "ALTER TABLE proposals ADD COLUMN fuzzy INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE proposals ADD COLUMN repairs INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE proposals ADD COLUMN checks TEXT NOT NULL DEFAULT '[]'",
        "ALTER TABLE proposals ADD COLUMN change_id TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE proposals ADD COLUMN undone_at REAL",
    ):
        conn.execute(statement)


def _migration_8(conn: sqlite3.Connection) -> None:
    """Quality routing (core/store/ratings.py): each turn's kind and whether it went
    where it did to measure that backend; which turn a refactor proposal answered,
    and whether it was batch work; and the ratings, one row per signal on a turn
    (the user's /good or /bad, a /retry other, a /keep), the newest one deciding."""
    for statement in (
        "ALTER TABLE turns ADD COLUMN kind TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE turns ADD COLUMN explored INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE proposals ADD COLUMN turn_id INTEGER REFERENCES turns(id)",
        "ALTER TABLE proposals ADD COLUMN kind TEXT NOT NULL DEFAULT 'edit'",
        """CREATE TABLE ratings (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            turn_id INTEGER NOT NULL REFERENCES turns(id),
            at REAL NOT NULL,
            verdict TEXT NOT NULL CHECK (verdict IN ('good', 'bad', 'none')),
            source TEXT NOT NULL
        )""",
        "CREATE INDEX ratings_turn ON ratings (turn_id, id)",
        "CREATE INDEX turns_kind ON turns (kind, started_at)",
    ):
        conn.execute(statement)


def _migration_9(conn: sqlite3.Connection) -> None:
    """Benchmarks at a concurrency (`assistant bench --concurrency N`): how many streams
    ran at once, and their aggregate generation rate."""
    conn.execute("ALTER TABLE bench_runs ADD COLUMN concurrency INTEGER NOT NULL DEFAULT 1")
    conn.execute("ALTER TABLE bench_runs ADD COLUMN aggregate_tps REAL")


def _migration_10(conn: sqlite3.Connection) -> None:
    """Each turn's generation rate as the app measured it, beside the engine's own
    (llama.cpp's, llama-server's timings), and whether the engine gave one."""
    conn.execute("ALTER TABLE turns ADD COLUMN client_tokens_per_second REAL")
    conn.execute("ALTER TABLE turns ADD COLUMN engine_timed INTEGER NOT NULL DEFAULT 0")


def _migration_11(conn: sqlite3.Connection) -> None:
    """A stored chat keeps every answer it showed: 0 marks one the conversation no
    longer holds (replaced by /retry other, summarised by /compact, or a turn that
    left no answer); every exchange stored before was in the conversation."""
    conn.execute("ALTER TABLE session_exchanges ADD COLUMN in_conversation INTEGER NOT NULL DEFAULT 1")


def _migration_12(conn: sqlite3.Connection) -> None:
    """Tasks (the model acts with tools): each model step is a turn that names its task
    and step; each tool step a row of its own (what ran, how it was allowed, its time
    and exit code); each task, once ended, its figures."""
    for statement in (
        "ALTER TABLE turns ADD COLUMN task_id TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE turns ADD COLUMN step INTEGER NOT NULL DEFAULT 0",
        """CREATE TABLE tool_steps (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            task_id TEXT NOT NULL,
            session_id TEXT NOT NULL,
            step INTEGER NOT NULL,
            at REAL NOT NULL,
            tool TEXT NOT NULL,
            description TEXT NOT NULL,
            ok INTEGER NOT NULL,
            summary TEXT NOT NULL,
            seconds REAL NOT NULL,
            exit_code INTEGER,
            permission TEXT NOT NULL DEFAULT ''
        )""",
        "CREATE INDEX tool_steps_task ON tool_steps (task_id, id)",
        """CREATE TABLE tasks (
            id TEXT PRIMARY KEY,
            session_id TEXT NOT NULL,
            started_at REAL NOT NULL,
            instruction TEXT NOT NULL,
            "end" TEXT NOT NULL,
            steps INTEGER NOT NULL,
            tool_steps INTEGER NOT NULL,
            model_seconds REAL NOT NULL,
            tool_seconds REAL NOT NULL,
            tokens_in INTEGER NOT NULL,
            tokens_out INTEGER NOT NULL,
            cost REAL,
            changed TEXT NOT NULL DEFAULT '[]',
            commit_id TEXT NOT NULL DEFAULT '',
            reason TEXT NOT NULL DEFAULT '',
            checks TEXT NOT NULL DEFAULT '[]',
            undone_at REAL
        )""",
        "CREATE INDEX tasks_session ON tasks (session_id, started_at)",
        "CREATE INDEX turns_task ON turns (task_id, step)",
    ):
        conn.execute(statement)


def _migration_13(conn: sqlite3.Connection) -> None:
    """Checkpoints and rewinds: each turn that may change files, with the private
    checkpoints of the project before and after it and what it changed; each rewind
    (files, chat or both), what it put back and kept, and the exchanges it took out of
    a stored chat (kept here, for /redo, never deleted)."""
    for statement in (
        """CREATE TABLE checkpoints (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            session_id TEXT NOT NULL,
            project TEXT NOT NULL,
            at REAL NOT NULL,
            kind TEXT NOT NULL,
            label TEXT NOT NULL,
            before_tree TEXT NOT NULL,
            after_tree TEXT NOT NULL DEFAULT '',
            changes TEXT NOT NULL DEFAULT '[]',
            chat_at INTEGER NOT NULL DEFAULT 0,
            turn_id INTEGER,
            change_id TEXT NOT NULL DEFAULT '',
            rewound_by INTEGER
        )""",
        "CREATE INDEX checkpoints_session ON checkpoints (session_id, id)",
        "CREATE INDEX checkpoints_project ON checkpoints (project, id)",
        """CREATE TABLE rewinds (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            session_id TEXT NOT NULL,
            project TEXT NOT NULL,
            at REAL NOT NULL,
            point INTEGER NOT NULL,
            what TEXT NOT NULL,
            target_tree TEXT NOT NULL DEFAULT '',
            before_tree TEXT NOT NULL DEFAULT '',
            after_tree TEXT NOT NULL DEFAULT '',
            restored TEXT NOT NULL DEFAULT '[]',
            kept TEXT NOT NULL DEFAULT '[]',
            chat_cut INTEGER,
            state TEXT NOT NULL,
            redone_at REAL,
            commit_id TEXT NOT NULL DEFAULT ''
        )""",
        "CREATE INDEX rewinds_session ON rewinds (session_id, id)",
        """CREATE TABLE rewound_exchanges (
            rewind_id INTEGER NOT NULL,
            seq INTEGER NOT NULL,
            question TEXT NOT NULL,
            answer TEXT,
            figures TEXT,
            in_conversation INTEGER NOT NULL,
            at REAL NOT NULL
        )""",
        "CREATE INDEX rewound_exchanges_rewind ON rewound_exchanges (rewind_id, seq)",
    ):
        conn.execute(statement)


def _migration_14(conn: sqlite3.Connection) -> None:
    """Offline evaluations (`assistant eval`): one row per task a backend's model was
    scored on, by execution, in a task set of a kind; the newest for each task counts."""
    for statement in (
        """CREATE TABLE eval_samples (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            run_id TEXT NOT NULL,
            at REAL NOT NULL,
            backend TEXT NOT NULL,
            model TEXT NOT NULL,
            kind TEXT NOT NULL,
            task_set TEXT NOT NULL,
            task_id TEXT NOT NULL,
            passed INTEGER NOT NULL,
            well_formed INTEGER NOT NULL,
            status TEXT NOT NULL,
            completion TEXT NOT NULL DEFAULT '',
            tokens_in INTEGER,
            tokens_out INTEGER,
            cost REAL,
            model_seconds REAL NOT NULL DEFAULT 0,
            check_seconds REAL NOT NULL DEFAULT 0,
            UNIQUE (backend, model, kind, task_set, task_id)
        )""",
        "CREATE INDEX eval_samples_run ON eval_samples (run_id)",
    ):
        conn.execute(statement)


# Append-only: migration i brings `PRAGMA user_version` from i to i + 1.
# Never edit or reorder one that has shipped; add the next one instead.
MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [
    _migration_1,
    _migration_2,
    _migration_3,
    _migration_4,
    _migration_5,
    _migration_6,
    _migration_7,
    _migration_8,
    _migration_9,
    _migration_10,
    _migration_11,
    _migration_12,
    _migration_13,
    _migration_14,
]
