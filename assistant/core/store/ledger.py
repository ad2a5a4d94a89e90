"""The durable cost ledger: one SQLite row per turn, written as the turn ends.

Every turn the app runs is recorded, cancelled and failed ones too, so that
`assistant cost` adds up what was really spent. The file must survive crashes
and several app instances writing at once:

- WAL journal with `synchronous=NORMAL`: a committed transaction is in the WAL
  file before COMMIT returns, so it survives the process being killed (even
  SIGKILL); only a power cut or an OS crash can lose the last few commits.
- Each write is one short `BEGIN IMMEDIATE ... COMMIT`: the write lock is taken
  up front, so a writer waits (busy timeout) instead of failing half-way, and
  `database is locked` after the timeout is retried a few times with backoff.
- One connection per `Ledger`, shared by the threads that use it (workers write,
  the UI reads) and guarded by a lock held for one statement or one short
  transaction; the lock is let go between retries. One connection per thread
  was tried: Textual starts a thread per worker, and each finished thread's
  connection kept file descriptors open until garbage collection (SQLite
  defers closing them while another connection of the process holds a lock).

Everything that goes wrong becomes one `LedgerError` line naming the file; the
caller decides what to show. The ledger has no column for the API key, and
the words it keeps that may quote what a person typed (a session's title, a turn's
route reason and error, a stored chat's questions and answers) are written through
`mask_secrets`: a key typed into a message never reaches this file
(core/typed_secrets.py), even when the message was sent with it.
"""

from __future__ import annotations

import os
import secrets
import sqlite3
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterable, Sequence
from dataclasses import fields, replace
from pathlib import Path
from typing import Protocol, Self, TypeVar

from assistant.core.paths import LEDGER_FILE, Paths
from assistant.core.results import BenchResult, OUTCOMES, Outcome
from assistant.core.store.migrations import MIGRATIONS
from assistant.core.store.records import (
    ProposalRecord,
    SessionRecord,
    TaskRecord,
    ToolStepRecord,
    TurnRecord,
    typed_values,
    undated,
)
from assistant.core.typed_secrets import mask_secrets
from assistant.core.text import clean_text, one_line

BUSY_TIMEOUT = 10.0  # seconds SQLite itself waits for another writer
# Further waits, in seconds, when a write still finds the database locked.
RETRY_DELAYS: tuple[float, ...] = (0.1, 0.5, 2.0)

T = TypeVar("T")
R = TypeVar("R")


class LedgerError(Exception):
    """One line a person can act on (path + what went wrong)."""

    def __init__(self, message: str) -> None:
        super().__init__(one_line(message))


class LedgerOutdated(LedgerError):
    """A ledger of an older schema, opened read-only: it must be upgraded (written) first."""


class Writer(Protocol):
    """What a write sees of the connection (`Ledger._write`): its text parameters
    are cleaned of lone surrogates, which SQLite cannot encode."""

    def execute(self, sql: str, parameters: Sequence[object] = ..., /) -> sqlite3.Cursor: ...

    def executemany(self, sql: str, seq_of_parameters: Iterable[Sequence[object]], /) -> sqlite3.Cursor: ...


# The turn columns are the record's fields, in order; `id` is the row id.
_TURN_COLUMNS = tuple(f.name for f in fields(TurnRecord) if f.name != "id")
_INSERT_TURN = (
    f"INSERT INTO turns ({', '.join(_TURN_COLUMNS)}) "
    f"VALUES ({', '.join('?' * len(_TURN_COLUMNS))})"
)
_SELECT_TURNS = f"SELECT id, {', '.join(_TURN_COLUMNS)} FROM turns"
_TURN_FIELDS = ("id", *_TURN_COLUMNS)

# Tasks and their tool steps (migration 12): the records' fields, in order ("end" is an SQL keyword).
_STEP_COLUMNS = tuple(f.name for f in fields(ToolStepRecord) if f.name != "id")
_INSERT_STEP = f"INSERT INTO tool_steps ({', '.join(_STEP_COLUMNS)}) VALUES ({', '.join('?' * len(_STEP_COLUMNS))})"
_SELECT_STEPS = f"SELECT id, {', '.join(_STEP_COLUMNS)} FROM tool_steps"
_TASK_COLUMNS = tuple(f.name for f in fields(TaskRecord))
_QUOTED_TASK = ", ".join(f'"{name}"' for name in _TASK_COLUMNS)
_INSERT_TASK = f"INSERT OR REPLACE INTO tasks ({_QUOTED_TASK}) VALUES ({', '.join('?' * len(_TASK_COLUMNS))})"

# The proposal columns are the record's fields, in order.
_PROPOSAL_COLUMNS = tuple(f.name for f in fields(ProposalRecord))

# The bench columns are BenchResult's fields, quoted: "case" is an SQL keyword.
_BENCH_COLUMNS = tuple(f.name for f in fields(BenchResult) if f.name != "id")
_QUOTED_BENCH = ", ".join(f'"{name}"' for name in _BENCH_COLUMNS)
_INSERT_BENCH = f"INSERT INTO bench_runs ({_QUOTED_BENCH}) VALUES ({', '.join('?' * len(_BENCH_COLUMNS))})"
_SELECT_BENCH = f"SELECT id, {_QUOTED_BENCH} FROM bench_runs"


def new_session_id(*, now: float | None = None) -> str:
    """Sortable by start time (UTC, to the second) and unique across processes:
    32 random bits tell apart sessions started in the same second."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(time.time() if now is None else now))
    return f"{stamp}-{secrets.token_hex(4)}"


_HINTS = {
    sqlite3.SQLITE_NOTADB: "move it aside to start a new ledger",
    sqlite3.SQLITE_CORRUPT: "move it aside to start a new ledger",
    sqlite3.SQLITE_READONLY: "check the permissions of the file and its directory",
    sqlite3.SQLITE_PERM: "check the permissions of the file and its directory",
    sqlite3.SQLITE_CANTOPEN: "check that its directory exists and is writable",
    sqlite3.SQLITE_IOERR: "check the disk and the permissions of the file and its directory",
    sqlite3.SQLITE_FULL: "free some disk space",
    sqlite3.SQLITE_BUSY: "another assistant keeps it locked; try again",
}


def _is_busy(exc: sqlite3.Error) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
    return "locked" in str(exc)


def _error(path: Path, doing: str, exc: BaseException) -> LedgerError:
    if isinstance(exc, UnicodeDecodeError):  # SQLite's own message quoted bytes of a damaged schema
        return LedgerError(f"cost ledger {path}: {doing}: the file is damaged; move it aside to start a new ledger")
    detail = " ".join(str(exc).split()) or type(exc).__name__
    code = getattr(exc, "sqlite_errorcode", None)
    hint = _HINTS.get(code & 0xFF) if code is not None else None
    if isinstance(exc, OSError) and exc.strerror:
        detail = exc.strerror
    return LedgerError(f"cost ledger {path}: {doing}: {detail}" + (f"; {hint}" if hint else ""))


class Ledger:
    """The ledger file, safe to share between threads and processes."""

    def __init__(self, path: Path, conn: sqlite3.Connection) -> None:
        self.path = path
        self._conn = conn
        conn.create_function("undated", 1, undated, deterministic=True)  # a model's figures under any dated id
        self._lock = threading.Lock()  # one statement or transaction at a time
        self._closed = False
        self.read_only = False  # opened with read_only=True: every write is refused

    @classmethod
    def open(
        cls, path: Path | None = None, *, busy_timeout: float = BUSY_TIMEOUT, read_only: bool = False
    ) -> Ledger:
        """Open (creating and upgrading as needed) the ledger at `path`, by default
        `<data dir>/ledger.sqlite3`; `busy_timeout` is how long SQLite waits for
        another writer before a retry. `read_only`: open an existing ledger
        without ever writing it (no migration; see `_open_read_only`)."""
        path = path if path is not None else Paths.resolve().ledger_file
        if read_only:
            return cls._open_read_only(path, busy_timeout)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise _error(path, f"cannot create {path.parent}", exc) from None
        try:
            # check_same_thread=False: the lock, not the creating thread, owns it.
            conn = sqlite3.connect(path, timeout=busy_timeout, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            raise _error(path, "cannot open", exc) from None
        conn.text_factory = _text
        ledger = cls(path, conn)
        try:
            ledger._retrying("cannot open", ledger._setup)
        except BaseException:
            ledger.close()
            raise
        return ledger

    @classmethod
    def _open_read_only(cls, path: Path, busy_timeout: float) -> Ledger:
        """SQLite's read-only mode; when even that cannot open the file (the WAL's
        -wal or -shm file cannot be made beside it), `immutable=1`, which reads the
        main file without any lock or side file. A ledger of an older schema is
        `LedgerOutdated`: reading it would need a migration, which is a write."""
        if not path.is_file():
            raise LedgerError(f"cost ledger {path}: no such file")
        conn: sqlite3.Connection | None = None
        for query in ("mode=ro", "mode=ro&immutable=1"):
            try:
                conn = sqlite3.connect(
                    _uri(path, query), uri=True, timeout=busy_timeout, isolation_level=None, check_same_thread=False
                )
                version = conn.execute("PRAGMA user_version").fetchone()[0]
                break
            except (sqlite3.Error, UnicodeDecodeError) as exc:
                if conn is not None:
                    conn.close()
                    conn = None
                code = getattr(exc, "sqlite_errorcode", 0) & 0xFF
                if code != sqlite3.SQLITE_CANTOPEN or "immutable" in query:
                    raise _error(path, "cannot open", exc) from None
        assert conn is not None
        conn.text_factory = _text
        ledger = cls(path, conn)
        ledger.read_only = True
        if version != len(MIGRATIONS):
            ledger.close()
            if version > len(MIGRATIONS):
                raise _newer(path, version)
            raise LedgerOutdated(
                f"cost ledger {path}: made by an older version of assistant "
                f"(schema {version}, this one reads {len(MIGRATIONS)}); it must be upgraded, which writes it"
            )
        return ledger

    @staticmethod
    def recorded(path: Path) -> bool:
        """Whether `path` may hold records: a file that is there and not empty. An
        empty file is what a write that failed at once (a full disk) leaves; the
        reading commands take it for "nothing recorded yet", as a missing one. A
        file that cannot even be looked at counts, so that opening it says why."""
        try:
            return path.stat().st_size > 0
        except FileNotFoundError:
            return False
        except OSError:
            return True

    @classmethod
    def open_to_read(cls, path: Path) -> Ledger:
        """For the commands that only read (cost, report, sessions, export): the
        ledger opened read-only, so a file that cannot be written is read all the
        same; one of an older schema is upgraded first, when it can be written."""
        try:
            return cls.open(path, read_only=True)
        except LedgerOutdated as outdated:
            try:
                return cls.open(path)
            except LedgerError as exc:
                raise LedgerError(f"{outdated}; upgrading it failed: {exc}") from None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the file (waiting for a write in progress). Committed data is already on disk."""
        with self._lock:
            if not self._closed:
                self._closed = True
                self._conn.close()

    # -- writing -------------------------------------------------------------

    def start_session(self, session_id: str, *, started_at: float, cwd: str, title: str = "") -> None:
        def write(conn: Writer) -> None:
            conn.execute(
                "INSERT OR IGNORE INTO sessions (id, started_at, title, cwd) VALUES (?, ?, ?, ?)",
                (session_id, started_at, mask_secrets(title), cwd),
            )

        self.transaction("cannot record the session", write)

    def set_title(self, session_id: str, title: str) -> None:
        def write(conn: Writer) -> None:
            conn.execute("UPDATE sessions SET title = ? WHERE id = ?", (mask_secrets(title), session_id))

        self.transaction("cannot set the session title", write)

    def record_turn(self, record: TurnRecord) -> int:
        """Write one turn in its own transaction; return its row id."""
        record = replace(record, route_reason=mask_secrets(record.route_reason), error=mask_secrets(record.error))
        values = tuple(getattr(record, name) for name in _TURN_COLUMNS)

        def write(conn: Writer) -> int:
            # The session row may not exist yet (the app may record before it starts one).
            conn.execute(
                "INSERT OR IGNORE INTO sessions (id, started_at) VALUES (?, ?)",
                (record.session_id, record.started_at),
            )
            row_id = conn.execute(_INSERT_TURN, values).lastrowid
            assert row_id is not None
            return row_id

        return self.transaction("cannot record the turn", write)

    def record_tool_step(self, record: ToolStepRecord) -> None:
        """One tool step of a task, in its own transaction."""
        record = replace(record, description=mask_secrets(record.description), summary=mask_secrets(record.summary))
        values = tuple(getattr(record, name) for name in _STEP_COLUMNS)
        self.transaction("cannot record the tool step", lambda conn: conn.execute(_INSERT_STEP, values))

    def record_task(self, record: TaskRecord) -> None:
        """A task, once it ended (its model steps are turns, its tool steps rows of their own)."""
        record = replace(record, instruction=mask_secrets(record.instruction), reason=mask_secrets(record.reason))
        values = tuple(getattr(record, name) for name in _TASK_COLUMNS)
        self.transaction("cannot record the task", lambda conn: conn.execute(_INSERT_TASK, values))

    def tasks(self, *, session_id: str | None = None, since: float | None = None) -> list[TaskRecord]:
        """Tasks started since `since` (all by default), of one session or of all, oldest first."""
        return self.select("cannot read tasks", TaskRecord, "tasks", _TASK_COLUMNS,
                           [("session_id = ?", session_id), ("started_at >= ?", since)], order="started_at")  # fmt: skip

    def tool_steps(self, task_id: str) -> list[ToolStepRecord]:
        """A task's tool steps, in the order they ended."""
        rows = self.query("cannot read tool steps", _SELECT_STEPS + " WHERE task_id = ? ORDER BY id", [task_id])
        return self._records(ToolStepRecord, ("id", *_STEP_COLUMNS), rows)

    def record_bench(self, results: Sequence[BenchResult]) -> None:
        """Write one benchmark's results, all or none, in one transaction."""
        rows = [tuple(getattr(result, name) for name in _BENCH_COLUMNS) for result in results]

        def write(conn: Writer) -> None:
            conn.executemany(_INSERT_BENCH, rows)

        self.transaction("cannot record the benchmark", write)

    # -- reading -------------------------------------------------------------

    def turns(
        self,
        *,
        session_id: str | None = None,
        since: float | None = None,
        until: float | None = None,
        session_ids: Sequence[str] = (),
    ) -> list[TurnRecord]:
        """Turns started in `[since, until)`, oldest first; of one session, or of any of
        `session_ids` (a TUI run's chats: each /clear starts one)."""
        filters = [("session_id = ?", session_id), ("started_at >= ?", since), ("started_at < ?", until)]
        where = [clause for clause, value in filters if value is not None]
        args: list[object] = [value for _, value in filters if value is not None]
        if session_ids:
            where.append(f"session_id IN ({', '.join('?' * len(session_ids))})")
            args += session_ids
        sql = _SELECT_TURNS + (f" WHERE {' AND '.join(where)}" if where else "")
        rows = self.query("cannot read turns", sql + " ORDER BY started_at, id", args)
        return self._records(TurnRecord, _TURN_FIELDS, rows)

    def turn(self, turn_id: int) -> TurnRecord:
        """The turn with row id `turn_id` (LedgerError when there is none)."""
        found = self._records(TurnRecord, _TURN_FIELDS, self.query("cannot read turns", _SELECT_TURNS + " WHERE id = ?", [turn_id]))
        if not found:
            raise LedgerError(f"cost ledger {self.path}: no turn {turn_id}")
        return found[0]

    def recent(self, backend: str, model: str, *, limit: int) -> list[TurnRecord]:
        """The latest `limit` finished ("ok") turns of one backend and model (under any
        dated id of it: `undated`), newest first: what the router's measured speed rests on."""
        sql = _SELECT_TURNS + (
            " WHERE backend = ? AND undated(model) = ? AND outcome = 'ok' ORDER BY started_at DESC, id DESC LIMIT ?"
        )
        args = [backend, undated(model), limit]
        return self._records(TurnRecord, _TURN_FIELDS, self.query("cannot read turns", sql, args))

    def bench_results(
        self, *, backend: str | None = None, model: str | None = None, limit: int | None = None
    ) -> list[BenchResult]:
        """Benchmark results, newest first. `model` matches the stored model exactly
        or by its name alone (a local file's is stored as "name · size · hash")."""
        where: list[str] = []
        args: list[object] = []
        if backend is not None:
            where.append("backend = ?")
            args.append(backend)
        if model is not None:
            where.append("(model = ? OR substr(model, 1, ?) = ?)")
            args += [model, len(model) + 3, f"{model} · "]
        sql = _SELECT_BENCH + (f" WHERE {' AND '.join(where)}" if where else "")
        rows = self.query("cannot read benchmarks", sql + " ORDER BY at DESC, id DESC LIMIT ?",
                          [*args, -1 if limit is None else limit])
        return self._records(BenchResult, ("id", *_BENCH_COLUMNS), rows)

    def spent_since(self, since: float) -> float:
        """Dollars of the known costs of turns started since `since` (all sessions)."""
        rows = self.query("cannot read turns", "SELECT TOTAL(cost) FROM turns WHERE started_at >= ?", [since])
        total = rows[0][0]
        return float(total) if isinstance(total, int | float) else 0.0

    def record_proposal(self, record: ProposalRecord) -> None:
        def write(conn: Writer) -> None:
            conn.execute(
                f"INSERT INTO proposals ({', '.join(_PROPOSAL_COLUMNS)}) VALUES ({', '.join('?' * len(_PROPOSAL_COLUMNS))})",
                tuple(getattr(record, name) for name in _PROPOSAL_COLUMNS),
            )

        self.transaction("cannot record the proposal", write)

    def mark_undone(self, change_id: str, at: float) -> None:
        """The applied proposal, or the task, whose commit (or backup) is `change_id` was
        taken back: a task's last answer is then rated bad (it was not kept)."""

        def write(conn: Writer) -> None:
            conn.execute("UPDATE proposals SET undone_at = ? WHERE change_id = ? AND undone_at IS NULL", (at, change_id))
            undone = conn.execute("UPDATE tasks SET undone_at = ? WHERE commit_id = ? AND undone_at IS NULL",
                                  (at, change_id)).rowcount  # fmt: skip
            if undone:
                conn.execute(
                    "INSERT INTO ratings (turn_id, at, verdict, source) SELECT MAX(t.id), ?, 'bad', 'undo' FROM turns t"
                    " JOIN tasks k ON k.id = t.task_id WHERE k.commit_id = ? HAVING MAX(t.id) IS NOT NULL",
                    (at, change_id),
                )

        self.transaction("cannot record the undo", write)

    def proposals(self, *, since: float | None = None, where: str = "") -> list[ProposalRecord]:
        """Proposals, oldest first; `where`: one more SQL condition of this module's
        callers (core/store/ratings.py), never typed input."""
        sql = f"SELECT {', '.join(_PROPOSAL_COLUMNS)} FROM proposals"
        conditions = [f"({where})"] if where else []
        args: list[object] = []
        if since is not None:
            conditions.append("at >= ?")
            args.append(since)
        if conditions:
            sql += " WHERE " + " AND ".join(conditions)
        rows = self.query("cannot read proposals", sql + " ORDER BY at", args)
        return self._records(ProposalRecord, _PROPOSAL_COLUMNS, rows)

    def sessions(self, *, limit: int | None = None) -> list[SessionRecord]:
        """Sessions, newest first, with their turn counts and costs."""
        sql = (
            "SELECT s.id, s.started_at, s.title, s.cwd, COUNT(t.id), TOTAL(t.cost),"
            " COUNT(t.id) - COUNT(t.cost), MAX(t.started_at)"
            " FROM sessions s LEFT JOIN turns t ON t.session_id = s.id"
            " GROUP BY s.id ORDER BY s.started_at DESC, s.id DESC LIMIT ?"
        )
        rows = self.query("cannot read sessions", sql, [-1 if limit is None else limit])
        return self._records(
            SessionRecord,
            ("id", "started_at", "title", "cwd", "turns", "cost", "last_at"),
            ((sid, started, title, cwd, n, None if unknown else cost, last)
             for sid, started, title, cwd, n, cost, unknown, last in rows),
        )

    def last_session_id(self, *, with_turns: bool = True) -> str | None:
        """The session used last: the one with the latest turn (or, for sessions
        without turns when `with_turns` is false, the latest start)."""
        sql = (
            "SELECT s.id FROM sessions s LEFT JOIN turns t ON t.session_id = s.id"
            " GROUP BY s.id" + (" HAVING COUNT(t.id) > 0" if with_turns else "") +
            " ORDER BY COALESCE(MAX(t.started_at), s.started_at) DESC, s.id DESC LIMIT 1"
        )
        rows = self.query("cannot read sessions", sql, [])
        return rows[0][0] if rows else None

    # -- connection and transactions ------------------------------------------

    def _live(self) -> sqlite3.Connection:
        """The connection; call with the lock held."""
        if self._closed:
            raise LedgerError(f"cost ledger {self.path}: already closed")
        return self._conn

    def _setup(self) -> None:
        with self._lock:
            conn = self._live()
            # Persistent in the file: the first open switches it, later ones find it set.
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if mode.lower() != "wal":
                raise sqlite3.OperationalError(f"cannot switch to WAL journal (got {mode})")
            # In WAL mode NORMAL syncs only at checkpoints: a committed transaction is
            # in the WAL file when COMMIT returns and survives the process being
            # killed (even SIGKILL); only a power cut can lose the latest commits.
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
            self._migrate(conn)

    def _migrate(self, conn: sqlite3.Connection) -> None:
        # Each migration in its own transaction; the version is re-read under the
        # write lock, so two processes opening a new file never both run one.
        while True:
            conn.execute("BEGIN IMMEDIATE")
            try:
                version = conn.execute("PRAGMA user_version").fetchone()[0]
                if version > len(MIGRATIONS):
                    raise _newer(self.path, version)
                if version == len(MIGRATIONS):
                    # A write that is rolled back: a read-only file fails here,
                    # when the app starts, not when the first turn ends.
                    conn.execute(f"PRAGMA user_version = {version}")
                    conn.execute("ROLLBACK")
                    return
                MIGRATIONS[version](conn)
                conn.execute(f"PRAGMA user_version = {version + 1}")
                conn.execute("COMMIT")
            except BaseException:
                _rollback(conn)
                raise

    # -- the public transaction/query API: what a table family's module
    # (core/store/sessions.py) builds on; `doing` names the action in the one-line
    # LedgerError a failure becomes ("cannot save the session").

    def transaction(self, doing: str, work: Callable[[Writer], T]) -> T:
        """`work(writer)` in one write transaction (BEGIN IMMEDIATE … COMMIT; rolled
        back on any error); what it returns."""
        if self.read_only:
            raise LedgerError(f"cost ledger {self.path}: {doing}: opened read-only")

        def transaction() -> T:
            with self._lock:
                conn = self._live()
                conn.execute("BEGIN IMMEDIATE")
                try:
                    result = work(_CleanWriter(conn))
                    conn.execute("COMMIT")
                except BaseException:
                    _rollback(conn)
                    raise
                return result

        return self._retrying(doing, transaction)

    def _retrying(self, doing: str, work: Callable[[], T]) -> T:
        """Run `work`, again after each of RETRY_DELAYS while the database is locked
        (SQLite has already waited `busy_timeout` each time)."""
        for delay in (*RETRY_DELAYS, None):
            try:
                return work()
            except sqlite3.Error as exc:
                if delay is None or not _is_busy(exc):
                    raise _error(self.path, doing, exc) from None
            except (OSError, UnicodeDecodeError) as exc:
                raise _error(self.path, doing, exc) from None
            time.sleep(delay)
        raise AssertionError("unreachable")

    def query(self, doing: str, sql: str, args: list[object]) -> list[tuple]:
        """The rows of one read (`sql` with `args`, bound, never formatted in)."""
        try:
            with self._lock:
                return self._live().execute(sql, _clean(args)).fetchall()
        except (sqlite3.Error, OSError, UnicodeDecodeError) as exc:
            raise _error(self.path, doing, exc) from None

    def select(self, doing: str, cls: type[R], table: str, columns: Sequence[str],
               filters: Sequence[tuple[str, object]], *, also: Sequence[str] = (), order: str = "id") -> list[R]:  # fmt: skip
        """The rows of `table` as records of `cls`, ordered by `order`: those that meet each
        filter (`("name = ?", value)`) whose value is not None, and the conditions `also`
        (this module's callers' own SQL, never typed input)."""
        where = [clause for clause, value in filters if value is not None] + list(also)
        names = ", ".join(f'"{name}"' for name in columns)
        sql = f"SELECT {names} FROM {table}" + (f" WHERE {' AND '.join(where)}" if where else "") + f" ORDER BY {order}"
        return self._records(cls, columns, self.query(doing, sql, [value for _, value in filters if value is not None]))

    def _records(self, cls: type[R], names: Sequence[str], rows: Iterable[tuple]) -> list[R]:
        """Rows as records, each value checked against the record's field types:
        a damaged file (or another program's rows) is one LedgerError, not a
        TypeError where a figure is computed later."""
        records = []
        for row in rows:
            try:
                records.append(cls(**typed_values(cls, dict(zip(names, row)))))
            except (TypeError, ValueError) as exc:
                raise LedgerError(
                    f"cost ledger {self.path}: a damaged {cls.__name__} row ({exc}); move the file aside to start a new ledger"
                ) from None
        return records


class _CleanWriter:
    """The connection as `Ledger._write` hands it to a write (see `Writer`)."""

    __slots__ = ("_conn",)

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def execute(self, sql: str, parameters: Sequence[object] = (), /) -> sqlite3.Cursor:
        return self._conn.execute(sql, _clean(parameters))

    def executemany(self, sql: str, seq_of_parameters: Iterable[Sequence[object]], /) -> sqlite3.Cursor:
        return self._conn.executemany(sql, (_clean(row) for row in seq_of_parameters))


def _clean(parameters: Sequence[object]) -> tuple[object, ...]:
    return tuple(clean_text(v) if isinstance(v, str) else v for v in parameters)


def _text(data: bytes) -> str:
    """SQLite text as str: bytes a damaged file holds that are not UTF-8 become
    U+FFFD instead of failing the whole read."""
    return data.decode("utf-8", errors="replace")


def _uri(path: Path, query: str) -> str:
    """An SQLite `file:` URI for `path` (any bytes in its name) with `query`."""
    return "file:" + urllib.parse.quote(os.fsencode(path.absolute())) + "?" + query


def _newer(path: Path, version: int) -> LedgerError:
    return LedgerError(
        f"cost ledger {path}: made by a newer version of assistant "
        f"(schema {version}, this one knows {len(MIGRATIONS)}); upgrade assistant"
    )


def _rollback(conn: sqlite3.Connection) -> None:
    if conn.in_transaction:
        try:
            conn.execute("ROLLBACK")
        except sqlite3.Error:
            pass  # SQLite rolls back by itself when a statement fails hard




__all__ = [
    "LEDGER_FILE",
    "MIGRATIONS",
    "OUTCOMES",
    "Ledger",
    "LedgerError",
    "LedgerOutdated",
    "Writer",
    "Outcome",
    "SessionRecord",
    "ProposalRecord",
    "TurnRecord",
    "new_session_id",
    "typed_values",
]
