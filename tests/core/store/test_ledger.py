from __future__ import annotations

import itertools
import multiprocessing
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import assistant
from assistant.core.store import ledger as ledger_module
from assistant.core.store.ledger import (
    LEDGER_FILE,
    MIGRATIONS,
    Ledger,
    LedgerError,
    SessionRecord,
    TurnRecord,
    new_session_id,
)

REPO = Path(assistant.__file__).resolve().parent.parent


def turn(session_id: str = "s1", started_at: float = 1000.0, **fields: object) -> TurnRecord:
    base: dict[str, object] = {"backend": "local", "model": "smollm2", "outcome": "ok"}
    return TurnRecord(session_id=session_id, started_at=started_at, **{**base, **fields})  # type: ignore[arg-type]


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    with Ledger.open(tmp_path / LEDGER_FILE) as opened:
        yield opened


def user_version(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return conn.execute("PRAGMA user_version").fetchone()[0]


# -- round trip ----------------------------------------------------------------


def test_every_field_round_trips(ledger: Ledger) -> None:
    full = TurnRecord(
        session_id="s1",
        started_at=1_790_000_000.123456,
        backend="claude",
        model="claude-sonnet-4-5",
        outcome="interrupted",
        route_reason="long context",
        prompt_tokens=12_345,
        completion_tokens=678,
        cache_read_tokens=10_000,
        cache_write_tokens=2_000,
        cache_write_1h_tokens=500,
        prompt_tokens_evaluated=345,
        usage_estimated=True,
        ttft=0.8125,
        generation_seconds=12.5,
        elapsed=13.75,
        tokens_per_second=54.24,
        cost=0.0123456789,
        counterfactual_cost=0.0987654321,
        reference_model="claude-sonnet-4-5",
        error="stream dropped",
    )
    row_id = ledger.record_turn(full)
    (back,) = ledger.turns()
    assert back.id == row_id
    assert back == TurnRecord(**{**{f: getattr(full, f) for f in full.__slots__}, "id": row_id})
    assert back.usage_estimated is True


def test_unknown_is_not_zero(ledger: Ledger) -> None:
    ledger.record_turn(turn(started_at=1.0))  # everything unknown
    ledger.record_turn(turn(started_at=2.0, prompt_tokens=0, cost=0.0, counterfactual_cost=0.0,
                            prompt_tokens_evaluated=0, ttft=0.0))
    unknown, zero = ledger.turns()
    assert unknown.cost is None and unknown.prompt_tokens is None
    assert unknown.counterfactual_cost is None and unknown.prompt_tokens_evaluated is None
    assert unknown.ttft is None and unknown.tokens_per_second is None
    assert unknown.usage_estimated is False
    assert zero.cost == 0.0 and zero.prompt_tokens == 0
    assert zero.counterfactual_cost == 0.0 and zero.prompt_tokens_evaluated == 0 and zero.ttft == 0.0


def test_outcome_must_be_known() -> None:
    with pytest.raises(ValueError, match="outcome"):
        turn(outcome="done")


# -- sessions --------------------------------------------------------------------


def test_sessions_list_newest_first_with_turns_and_cost(ledger: Ledger) -> None:
    ledger.start_session("a", started_at=100.0, cwd="/repo", title="first")
    ledger.start_session("b", started_at=200.0, cwd="/other")
    ledger.start_session("c", started_at=300.0, cwd="/empty")
    ledger.record_turn(turn("a", 101.0, cost=0.25))
    ledger.record_turn(turn("a", 102.0, cost=0.5, outcome="cancelled"))
    ledger.record_turn(turn("b", 201.0, cost=0.125))
    ledger.record_turn(turn("b", 202.0, cost=None, outcome="error", error="boom"))
    listed = ledger.sessions()
    assert listed == [
        SessionRecord("c", 300.0, "", "/empty", turns=0, cost=0.0, last_at=None),
        SessionRecord("b", 200.0, "", "/other", turns=2, cost=None, last_at=202.0),
        SessionRecord("a", 100.0, "first", "/repo", turns=2, cost=0.75, last_at=102.0),
    ]
    assert [s.id for s in ledger.sessions(limit=2)] == ["c", "b"]


def test_start_session_is_idempotent_and_title_can_be_set(ledger: Ledger) -> None:
    ledger.start_session("a", started_at=100.0, cwd="/repo")
    ledger.start_session("a", started_at=999.0, cwd="/elsewhere", title="ignored")
    ledger.set_title("a", "Fix the parser")
    (session,) = ledger.sessions()
    assert (session.started_at, session.cwd, session.title) == (100.0, "/repo", "Fix the parser")


def test_record_turn_creates_a_missing_session(ledger: Ledger) -> None:
    ledger.record_turn(turn("orphan", 42.0))
    assert ledger.sessions() == [SessionRecord("orphan", 42.0, "", "", turns=1, cost=None, last_at=42.0)]


def test_last_session_id_is_the_one_used_last(ledger: Ledger) -> None:
    assert ledger.last_session_id() is None
    ledger.start_session("old", started_at=100.0, cwd="")
    ledger.start_session("new", started_at=200.0, cwd="")
    ledger.start_session("empty", started_at=300.0, cwd="")
    ledger.record_turn(turn("new", 201.0))
    ledger.record_turn(turn("old", 400.0))  # the old session was resumed later
    assert ledger.last_session_id() == "old"
    assert ledger.last_session_id(with_turns=False) == "old"
    ledger.start_session("newest", started_at=500.0, cwd="")
    assert ledger.last_session_id() == "old"
    assert ledger.last_session_id(with_turns=False) == "newest"


def test_turns_filter_by_session_and_time(ledger: Ledger) -> None:
    for sid, at in [("a", 30.0), ("b", 10.0), ("a", 20.0), ("b", 40.0)]:
        ledger.record_turn(turn(sid, at))
    assert [t.started_at for t in ledger.turns()] == [10.0, 20.0, 30.0, 40.0]
    assert [t.started_at for t in ledger.turns(session_id="a")] == [20.0, 30.0]
    assert [t.started_at for t in ledger.turns(since=20.0, until=40.0)] == [20.0, 30.0]
    assert [t.started_at for t in ledger.turns(session_id="b", since=11.0)] == [40.0]


def test_new_session_ids_sort_by_time_and_are_unique() -> None:
    ids = [new_session_id() for _ in range(1000)]
    assert len(set(ids)) == 1000
    later = [new_session_id(now=at) for at in (1_790_000_000.0, 1_790_000_001.0, 1_800_000_000.0)]
    assert later == sorted(later) and later[0].startswith("20260921-")


# -- opening, migrations ---------------------------------------------------------


def test_default_path_is_in_the_data_dir(assistant_home: Path) -> None:
    with Ledger.open() as opened:
        assert opened.path == assistant_home / "data" / LEDGER_FILE
        assert opened.path.is_file()


def test_migrations_run_once_and_set_user_version(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []

    def counted(index: int, migration):  # type: ignore[no-untyped-def]
        def run(conn: sqlite3.Connection) -> None:
            calls.append(index)
            migration(conn)

        return run

    monkeypatch.setattr(ledger_module, "MIGRATIONS", [counted(i, m) for i, m in enumerate(MIGRATIONS)])
    path = tmp_path / LEDGER_FILE
    with Ledger.open(path) as opened:
        opened.record_turn(turn())
    with Ledger.open(path) as reopened:
        assert len(reopened.turns()) == 1
    assert calls == list(range(len(MIGRATIONS)))
    assert user_version(path) == len(MIGRATIONS)
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_new_migration_upgrades_an_existing_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / LEDGER_FILE
    with Ledger.open(path) as opened:
        opened.record_turn(turn(cost=0.5))

    def add_notes(conn: sqlite3.Connection) -> None:
        conn.execute("ALTER TABLE sessions ADD COLUMN notes TEXT NOT NULL DEFAULT ''")

    monkeypatch.setattr(ledger_module, "MIGRATIONS", [*MIGRATIONS, add_notes])
    with Ledger.open(path) as upgraded:
        assert upgraded.turns()[0].cost == 0.5
    assert user_version(path) == len(MIGRATIONS) + 1


def test_a_failing_migration_leaves_the_file_as_it_was(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / LEDGER_FILE
    Ledger.open(path).close()

    def broken(conn: sqlite3.Connection) -> None:
        conn.execute("CREATE TABLE half_done (x)")
        conn.execute("THIS IS NOT SQL")

    monkeypatch.setattr(ledger_module, "MIGRATIONS", [*MIGRATIONS, broken])
    with pytest.raises(LedgerError):
        Ledger.open(path)
    assert user_version(path) == len(MIGRATIONS)
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'half_done'").fetchone() == (0,)


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / LEDGER_FILE
    Ledger.open(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    with pytest.raises(LedgerError, match="made by a newer version of assistant") as info:
        Ledger.open(path)
    assert str(path) in str(info.value)


def test_a_file_that_is_not_a_database_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / LEDGER_FILE
    path.write_bytes(b"these are my notes, not a database\n" * 200)
    with pytest.raises(LedgerError) as info:
        Ledger.open(path)
    message = str(info.value)
    assert "\n" not in message and "Traceback" not in message
    assert str(path) in message and "not a database" in message
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_a_parent_that_is_a_file_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "data").write_text("not a directory")
    with pytest.raises(LedgerError, match="cannot create") as info:
        Ledger.open(tmp_path / "data" / LEDGER_FILE)
    assert "\n" not in str(info.value)


@pytest.fixture
def scratch_dir() -> Iterator[Path]:
    """A directory whose mode the test changes; always made writable again for cleanup."""
    path = Path(tempfile.mkdtemp(prefix="ledger-ro-"))
    yield path
    for p in (path, *path.iterdir()):
        p.chmod(0o755)
    shutil.rmtree(path)


def open_without_privileges(path: Path) -> subprocess.CompletedProcess[str]:
    """Open `path` and record a turn in a fresh process that file permissions
    apply to. As root, that is root without the capabilities that bypass them."""
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from assistant.core.store.ledger import Ledger, LedgerError, TurnRecord\n"
        "try:\n"
        "    with Ledger.open(Path(sys.argv[1])) as ledger:\n"
        "        ledger.record_turn(TurnRecord('s', 1.0, 'local', 'm', 'ok'))\n"
        "except LedgerError as exc:\n"
        "    print(exc)\n"
        "    sys.exit(3)\n"
    )
    command = [sys.executable, "-c", code, str(path)]
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("running as root without setpriv: permissions cannot be enforced")
        command = ["setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner", *command]
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONDONTWRITEBYTECODE": "1"}
    result = subprocess.run(command, check=False, capture_output=True, text=True, env=env, timeout=60)
    if result.returncode not in (0, 3) and "setpriv" in result.stderr:
        pytest.skip(f"cannot drop privileges here: {result.stderr.strip()}")
    return result


@pytest.mark.parametrize(
    ("dir_mode", "file_mode"),
    [(0o555, None), (0o555, 0o644), (0o755, 0o444)],
    ids=["read-only dir, new file", "read-only dir, existing file", "read-only file"],
)
def test_read_only_places_are_one_line(scratch_dir: Path, dir_mode: int, file_mode: int | None) -> None:
    path = scratch_dir / LEDGER_FILE
    if file_mode is not None:
        with Ledger.open(path) as existing:
            existing.record_turn(turn(cost=1.0))
        path.chmod(file_mode)
    scratch_dir.chmod(dir_mode)
    result = open_without_privileges(path)
    assert result.returncode == 3, result.stdout + result.stderr
    (line,) = result.stdout.splitlines()
    assert line.startswith(f"cost ledger {path}: cannot open: ")  # refused at start, not mid-session
    assert "Traceback" not in result.stderr
    if file_mode is not None:
        scratch_dir.chmod(0o755)
        path.chmod(0o644)
        with Ledger.open(path) as reopened:
            assert [t.cost for t in reopened.turns()] == [1.0]


# -- failing writes ----------------------------------------------------------------


def test_a_full_disk_is_one_line_and_keeps_what_was_written(ledger: Ledger) -> None:
    first = ledger.record_turn(turn(cost=0.1))
    conn = ledger._conn  # SQLite's page limit makes the database "full" like a full disk
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count = {pages}")
    with pytest.raises(LedgerError, match="disk is full") as info:
        for i in range(1000):
            ledger.record_turn(turn(started_at=2000.0 + i, error="x" * 2000))
    assert "\n" not in str(info.value)
    conn.execute("PRAGMA max_page_count = 1073741823")
    turns = ledger.turns()
    assert turns[0].id == first and turns[0].cost == 0.1
    assert ledger.record_turn(turn(started_at=9999.0)) > first


def test_a_read_only_connection_is_one_line(ledger: Ledger) -> None:
    ledger._conn.execute("PRAGMA query_only = ON")
    with pytest.raises(LedgerError, match="cannot record the turn") as info:
        ledger.record_turn(turn())
    assert str(ledger.path) in str(info.value)


def test_a_locked_database_is_retried(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ledger_module, "RETRY_DELAYS", (0.05, 0.05, 0.3))
    path = tmp_path / LEDGER_FILE
    with Ledger.open(path, busy_timeout=0.05) as opened:
        other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        other.execute("BEGIN IMMEDIATE")  # another process holds the write lock...
        threading.Timer(0.2, other.rollback).start()  # ...and lets go while we retry
        opened.record_turn(turn())
        assert len(opened.turns()) == 1
        other.close()


def test_a_database_that_stays_locked_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ledger_module, "RETRY_DELAYS", (0.01, 0.02))
    path = tmp_path / LEDGER_FILE
    with Ledger.open(path, busy_timeout=0.05) as opened:
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        started = time.monotonic()
        with pytest.raises(LedgerError, match="locked") as info:
            opened.record_turn(turn())
        assert time.monotonic() - started >= 0.03 + 3 * 0.05 * 0.9  # three tries, two waits
        assert "\n" not in str(info.value)
        other.rollback()
        other.close()
        assert opened.turns() == []


def test_a_closed_ledger_refuses_with_ledger_error(tmp_path: Path) -> None:
    opened = Ledger.open(tmp_path / LEDGER_FILE)
    opened.close()
    with pytest.raises(LedgerError):
        opened.record_turn(turn())
    failures: list[BaseException] = []

    def read_in_another_thread() -> None:
        try:
            opened.turns()
        except BaseException as exc:  # noqa: BLE001
            failures.append(exc)

    worker = threading.Thread(target=read_in_another_thread)
    worker.start()
    worker.join()
    assert [type(f) for f in failures] == [LedgerError]


# -- concurrency -----------------------------------------------------------------

WRITES_PER_PROCESS = 500


def _write_turns(path: str, tag: str, start: multiprocessing.synchronize.Barrier) -> None:  # type: ignore[name-defined]
    """Runs in a spawned process: open the (possibly new) ledger once every
    writer is ready, and record each turn in its own transaction."""
    start.wait(60)
    with Ledger.open(Path(path)) as ledger:
        for i in range(WRITES_PER_PROCESS):
            ledger.record_turn(turn(tag, time.time(), completion_tokens=i, cost=0.001))
            # A breath between turns, as in the app: without it the writer that has the
            # lock takes it back at once and the other only gets in when it is done.
            time.sleep(0.001)


def test_two_processes_writing_at_once_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / LEDGER_FILE  # does not exist yet: both race to create it too
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Barrier(3)
    writers = [ctx.Process(target=_write_turns, args=(str(path), tag, start)) for tag in ("p1", "p2")]
    for w in writers:
        w.start()
    start.wait(60)
    began = time.perf_counter()
    for w in writers:
        w.join(60)
    assert [w.exitcode for w in writers] == [0, 0]
    print(f"2 x {WRITES_PER_PROCESS} turns in {time.perf_counter() - began:.2f} s")
    with Ledger.open(path) as ledger:
        turns = ledger.turns()
        assert len(turns) == 2 * WRITES_PER_PROCESS
        assert len({t.id for t in turns}) == 2 * WRITES_PER_PROCESS
        for tag in ("p1", "p2"):
            mine = [t.completion_tokens for t in ledger.turns(session_id=tag)]
            assert sorted(mine) == list(range(WRITES_PER_PROCESS))
    in_commit_order = [t.session_id for t in sorted(turns, key=lambda t: t.id or 0)]
    switches = sum(a != b for a, b in itertools.pairwise(in_commit_order))
    assert switches > 1, "the two writers did not overlap"
    assert user_version(path) == len(MIGRATIONS)
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="counts open files through /proc")
def test_a_thread_per_turn_opens_no_files(ledger: Ledger) -> None:
    """Textual starts a thread per worker: a turn each must not leave files open."""
    ledger.record_turn(turn())
    before = len(os.listdir("/proc/self/fd"))
    for i in range(30):
        worker = threading.Thread(target=ledger.record_turn, args=(turn(started_at=2000.0 + i),))
        worker.start()
        worker.join()
    assert len(os.listdir("/proc/self/fd")) <= before
    assert len(ledger.turns()) == 31


def test_threads_share_one_ledger(ledger: Ledger) -> None:
    threads, per_thread = 4, 50
    barrier = threading.Barrier(threads + 1)
    failures: list[BaseException] = []

    def write(tag: str) -> None:
        barrier.wait()
        try:
            for i in range(per_thread):
                ledger.record_turn(turn(tag, time.time(), completion_tokens=i))
        except BaseException as exc:  # noqa: BLE001
            failures.append(exc)

    workers = [threading.Thread(target=write, args=(f"t{n}",)) for n in range(threads)]
    for w in workers:
        w.start()
    barrier.wait()
    seen = [len(ledger.turns()) for _ in range(20)]  # the UI thread reads meanwhile
    for w in workers:
        w.join()
    assert failures == []
    assert seen == sorted(seen)
    assert len(ledger.turns()) == threads * per_thread
    assert {s.id: s.turns for s in ledger.sessions()} == {f"t{n}": per_thread for n in range(threads)}
