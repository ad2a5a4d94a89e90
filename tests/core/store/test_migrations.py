"""A ledger made by an older version is upgraded in place, its rows intact."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from assistant.core.store.ledger import MIGRATIONS, Ledger, TurnRecord
from tests.core.store.old_ledgers import ledger_at


def test_a_version_1_ledger_is_upgraded_and_keeps_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    with sqlite3.connect(path) as conn:
        MIGRATIONS[0](conn)
        conn.execute("INSERT INTO sessions (id, started_at) VALUES ('s', 1.0)")
        conn.execute(
            "INSERT INTO turns (session_id, started_at, backend, model, outcome, cost) "
            "VALUES ('s', 2.0, 'claude', 'm', 'ok', 0.5)"
        )
        conn.execute("PRAGMA user_version = 1")
    with Ledger.open(path) as ledger:
        (old,) = ledger.turns()
        assert old.cost == 0.5 and old.decided_by == "" and old.estimated_cost is None
        ledger.record_turn(TurnRecord("s", 3.0, "local", "m", "ok", decided_by="rules", estimated_cost=0.0,
                                      estimated_seconds=1.5))
        new = ledger.turns()[-1]
        assert (new.decided_by, new.estimated_cost, new.estimated_seconds) == ("rules", 0.0, 1.5)
        assert [t.backend for t in ledger.recent("local", "m", limit=5)] == ["local"]
        assert ledger.spent_since(0.0) == 0.5
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone() == (len(MIGRATIONS),)


def test_a_version_6_ledger_keeps_its_proposals_with_what_was_not_recorded_then(tmp_path: Path) -> None:
    path = ledger_at(tmp_path / "ledger.sqlite3", 6, "INSERT INTO proposals (session_id, at, backend, model, path, "
                     "outcome) VALUES ('s', 1.0, 'local', 'm', 'a.py', 'applied')")
    with Ledger.open(path) as ledger:
        [old] = ledger.proposals()
        assert (old.outcome, old.edit_format, old.parsed, old.repairs, old.checks) == ("applied", "", True, 0, "[]")


def test_a_version_7_ledger_keeps_its_turns_and_proposals_and_its_proposals_count_as_rated_edits(tmp_path: Path) -> None:
    from assistant.core.store import ratings

    path = ledger_at(
        tmp_path / "ledger.sqlite3", 7,
        "INSERT INTO sessions (id, started_at) VALUES ('s', 1.0)",
        "INSERT INTO turns (session_id, started_at, backend, model, outcome) VALUES ('s', 1.0, 'local', 'm', 'ok')",
        "INSERT INTO proposals (session_id, at, backend, model, path, outcome, checks) "
        "VALUES ('s', 2.0, 'local', 'm', 'a.py', 'applied', '[{\"name\": \"tests\", \"status\": \"passed\"}]')",
        "INSERT INTO proposals (session_id, at, backend, model, path, outcome, undone_at) "
        "VALUES ('s', 3.0, 'local', 'm', 'b.py', 'applied', 4.0)",
    )
    with Ledger.open(path) as ledger:
        [turn] = ledger.turns()
        assert (turn.kind, turn.explored) == ("", False)  # a turn of before kinds: counted for nothing
        assert [(p.turn_id, p.kind) for p in ledger.proposals()] == [(None, "edit"), (None, "edit")]
        assert ratings.counts(ledger) == {("local", "m", "edit"): (1, 1)}  # applied and kept; undone
        ratings.rate(ledger, turn.id, "good", "rating", 5.0)  # the old turn has no kind: not counted
        assert ratings.counts(ledger) == {("local", "m", "edit"): (1, 1)}
        assert ratings.history(ledger, "chat") == (0, 0)
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone() == (len(MIGRATIONS),)


def test_a_version_8_ledger_s_bench_runs_ran_one_stream_at_a_time(tmp_path: Path) -> None:
    path = ledger_at(
        tmp_path / "ledger.sqlite3", 8,
        'INSERT INTO bench_runs (at, machine, backend, model, "case", runs, prompt_tokens, completion_tokens, '
        "prompt_tps, generation_tps, ttft, ttft_spread) VALUES (1.0, 'm', 'local', 'smol', 'short', 3, 10, 16, "
        "300.0, 100.0, 0.1, 0.01)",
    )
    with Ledger.open(path) as ledger:
        [old] = ledger.bench_results()
        assert (old.concurrency, old.aggregate_tps, old.generation_tps) == (1, None, 100.0)


def test_a_version_9_ledger_s_turns_have_no_app_side_rate_and_no_engine_timing(tmp_path: Path) -> None:
    path = ledger_at(
        tmp_path / "ledger.sqlite3", 9,
        "INSERT INTO sessions (id, started_at) VALUES ('s', 1.0)",
        "INSERT INTO turns (session_id, started_at, backend, model, outcome, tokens_per_second) "
        "VALUES ('s', 1.0, 'local', 'm', 'ok', 42.0)",
    )
    with Ledger.open(path) as ledger:
        [turn] = ledger.turns()
    assert (turn.tokens_per_second, turn.client_tokens_per_second, turn.engine_timed) == (42.0, None, False)
