"""The ledger's `bench_runs`: what `assistant bench` stores, read back exactly, and
the migration that added the table to an older ledger."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from assistant.backends.scripted import ScriptedBackend
from assistant.core.accounting.bench_results import BenchResult
from assistant.core.benchmark.measure import bench
from assistant.core.store.ledger import MIGRATIONS, Ledger
from tests.core.benchmark.test_measure import CASE, OTHER


def result(at: float, backend: str = "local", model: str = "SmolLM2 · 93.8 MiB · 0123456789ab", **kw) -> BenchResult:
    figures = {"case": "short-prompt/short-answer", "runs": 3, "prompt_tokens": 37, "completion_tokens": 16,
               "prompt_tps": 134.25, "generation_tps": 47.5, "ttft": 0.277, "ttft_spread": 0.01,
               "peak_memory_bytes": 123 << 20}
    return BenchResult(at=at, machine="vm · Xeon · 2 cores · 24 GiB · no GPU", backend=backend, model=model,
                       **{**figures, **kw})  # fmt: skip


def test_results_round_trip_through_the_ledger_newest_first(tmp_path: Path) -> None:
    first = [result(1.0), result(1.0, case="long-prompt/long-answer", prompt_tps=None, ttft_spread=None)]
    claude = result(2.0, backend="claude", model="claude-sonnet-5-5", peak_memory_bytes=None)
    with Ledger.open(tmp_path / "l.sqlite3") as ledger:
        ledger.record_bench(first)
        ledger.record_bench([claude])
        ledger.record_bench([])
        stored = ledger.bench_results()
        assert [replace(r, id=None) for r in stored] == [claude, first[1], first[0]]
        assert all(r.id is not None for r in stored)
        assert [r.case for r in ledger.bench_results(backend="local")] == [first[1].case, first[0].case]
        assert ledger.bench_results(model="SmolLM2") == ledger.bench_results(model=first[0].model)
        assert len(ledger.bench_results(model="SmolLM2")) == 2
        assert ledger.bench_results(model="Smol") == []
        assert ledger.bench_results(backend="claude", model="claude-sonnet-5-5") == stored[:1]
        assert ledger.bench_results(limit=1) == stored[:1]


def test_a_measured_benchmark_round_trips_exactly(tmp_path: Path) -> None:
    results = bench([ScriptedBackend(["a b c"])], [CASE, OTHER], runs=2)
    with Ledger.open(tmp_path / "l.sqlite3") as ledger:
        ledger.record_bench(results)
        assert [replace(r, id=None) for r in reversed(ledger.bench_results())] == results


def test_a_version_2_ledger_gains_bench_runs_and_keeps_its_turns(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    with sqlite3.connect(path) as conn:
        MIGRATIONS[0](conn)
        MIGRATIONS[1](conn)
        conn.execute("INSERT INTO sessions (id, started_at) VALUES ('s', 1.0)")
        conn.execute(
            "INSERT INTO turns (session_id, started_at, backend, model, outcome, cost, decided_by) "
            "VALUES ('s', 2.0, 'claude', 'm', 'ok', 0.5, 'rules')"
        )
        conn.execute("PRAGMA user_version = 2")
    conn.close()
    with Ledger.open(path) as ledger:
        (old,) = ledger.turns()
        assert (old.cost, old.decided_by) == (0.5, "rules")
        assert ledger.bench_results() == []
        ledger.record_bench([result(3.0)])
        assert [r.at for r in ledger.bench_results()] == [3.0]
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone() == (len(MIGRATIONS),)
        indexes = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE tbl_name = 'bench_runs'")}
        assert "bench_runs_backend_model" in indexes
    conn.close()


def test_a_ledger_that_cannot_be_written_is_one_line(tmp_path: Path) -> None:
    from assistant.core.store.ledger import LedgerError

    path = tmp_path / "l.sqlite3"
    Ledger.open(path).close()
    with Ledger.open(path) as ledger:
        ledger._conn.execute("DROP TABLE bench_runs")
        with pytest.raises(LedgerError, match=r"cannot record the benchmark: no such table") as info:
            ledger.record_bench([result(1.0)])
    assert "\n" not in str(info.value)
