"""`assistant cost`: the ledger's figures for people (a table) and for machines (JSON, CSV)."""

from __future__ import annotations

import csv
import io
import json

import pytest

from assistant.cli import main
from assistant.core.store.ledger import Ledger, TurnRecord

DAY = 86_400.0
NOW = 1_796_000_000.0  # 2026-11-30


def record(session: str, at: float, backend: str, cost: float | None, **kw) -> TurnRecord:
    defaults = dict(
        model="claude-sonnet-5-5" if backend == "claude" else "SmolLM2",
        outcome="ok",
        prompt_tokens=1000,
        completion_tokens=100,
        ttft=0.5,
        tokens_per_second=50.0,
        elapsed=2.5,
        counterfactual_cost=0.003,
    )
    return TurnRecord(session_id=session, started_at=at, backend=backend, cost=cost, **{**defaults, **kw})


@pytest.fixture
def ledger():
    with Ledger.open() as ledger:
        ledger.start_session("old", started_at=NOW - 10 * DAY, cwd="/w")
        ledger.record_turn(record("old", NOW - 10 * DAY, "claude", 0.01))
        ledger.start_session("new", started_at=NOW, cwd="/w")
        ledger.record_turn(record("new", NOW, "claude", 0.003, cache_read_tokens=800))
        ledger.record_turn(record("new", NOW + 60, "local", 0.0, tokens_per_second=20.0, ttft=0.1))
        yield ledger


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["cost", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_json_of_the_last_session_by_backend(ledger, capsys) -> None:
    code, out, _ = run(capsys, "--json")
    assert code == 0
    data = json.loads(out)
    assert data["session_ids"] == ["new"]
    lines = {line["key"]: line for line in data["lines"]}
    assert set(lines) == {"claude", "local"}
    assert lines["claude"]["cost"] == 0.003 and lines["local"]["cost"] == 0.0
    assert lines["claude"]["cache_hit_rate"] == 0.8
    assert data["total"]["turns"] == 2
    assert data["total"]["cost"] == 0.003
    # saved vs all-Claude: 2 x 0.003 counterfactual - 0.003 spent
    assert data["total"]["savings"] == pytest.approx(0.003)
    assert lines["local"]["share_turns"] == 0.5


def test_csv_of_every_turn_by_model(ledger, capsys) -> None:
    code, out, _ = run(capsys, "--all", "--by", "model", "--csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    by_key = {r["key"]: r for r in rows}
    assert float(by_key["claude-sonnet-5-5"]["cost"]) == pytest.approx(0.013)
    assert by_key["claude-sonnet-5-5"]["turns"] == "2"
    assert by_key["total"]["turns"] == "3"


def test_since_and_session_scopes(ledger, capsys) -> None:
    code, out, _ = run(capsys, "--session", "old", "--json")
    assert code == 0 and json.loads(out)["total"]["turns"] == 1
    code, _, err = run(capsys, "--since", "nonsense")
    assert code == 2 and "nonsense" in err
    code, _, err = run(capsys, "--session", "missing")
    assert code == 1 and err.count("\n") == 1 and "no turns recorded for session missing" in err


def test_table_for_people(ledger, capsys) -> None:
    code, out, _ = run(capsys)
    assert code == 0
    assert "claude" in out and "local" in out and "$0.0030" in out


def test_an_unknown_cost_stays_unknown(capsys) -> None:
    with Ledger.open() as ledger:
        ledger.record_turn(record("s", NOW, "claude", None, model="claude-future"))
    code, out, _ = run(capsys, "--json")
    assert json.loads(out)["total"]["cost"] is None
    code, out, _ = run(capsys)
    assert "unknown" in out and "$0.0000" not in out


def test_nothing_recorded_yet_is_said_with_what_records_and_is_not_an_error(capsys) -> None:
    """A new machine: no ledger at all. Every form says so and exits 0; JSON and
    CSV stay valid (empty, JSON with the reason)."""
    code, out, err = run(capsys)
    assert code == 0 and err == "" and out.count("\n") <= 2
    assert "no turns recorded" in out and "assistant bench" in out
    code, out, _ = run(capsys, "--json")
    data = json.loads(out)
    assert code == 0 and data["total"]["turns"] == 0 and data["lines"] == [] and "assistant bench" in data["reason"]
    code, out, _ = run(capsys, "--csv")
    assert code == 0 and out.splitlines()[0].startswith("key,turns")
    code, out, _ = run(capsys, "--all")
    assert code == 0 and "no turns recorded (all turns)" in out
    code, _, err = run(capsys, "--session", "nope")  # a session named that has no turns: an error
    assert code == 1 and "no turns recorded for session nope" in err
