"""`assistant report` and `assistant plan`: the table and `--json` on a filled
ledger, the built-in scenarios, and one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from assistant.cli import report as report_cli
from assistant.cli.parser import build_parser
from assistant.core.config import Config
from assistant.core.store.ledger import LEDGER_FILE, Ledger, TurnRecord
from assistant.core.paths import Paths
from tests.core.accounting.test_report import RECORDS, bench

approx = pytest.approx
NOW = time.time() - 3600  # within the default scope (the last 30 days)


def run(capsys, *argv: str, config: Config | None = None) -> tuple[int, str, str]:
    args = build_parser().parse_args(argv)
    command = report_cli.cmd_report if args.command == "report" else report_cli.cmd_plan
    code = command(config or Config(), Paths.resolve(), args)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def ledger():
    """The report's hand-computed turns, an hour ago; one older Claude turn 40 days ago."""
    with Ledger.open() as ledger:
        for r in RECORDS:
            ledger.record_turn(replace(r, started_at=NOW + (r.started_at - RECORDS[0].started_at)))
        ledger.record_turn(replace(RECORDS[0], started_at=NOW - 40 * 86_400))
        yield ledger


def test_report_table(ledger, capsys) -> None:
    code, out, err = run(capsys, "report")
    assert code == 0 and err == ""
    assert "claude · claude-sonnet-5-5" in out and "local · SmolLM2" in out
    assert "55.0 tok/s" in out and "1.75 s" in out and "$6.67" in out  # median speed, TTFT, $ per M tokens
    assert "396,000" in out and "4,752,000" in out  # 55 tok/s × 3600 × 2 h and × 24 h
    assert "refactors accepted: no refactor proposals yet" in " ".join(out.split())


def test_report_json_has_the_exact_figures(ledger, capsys) -> None:
    code, out, _ = run(capsys, "report", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["scope"] == "since 30d" and data["turns"] == 8  # the 40-day-old turn is out of scope
    row = {(r["backend"], r["model"]): r for r in data["rows"]}[("claude", "claude-sonnet-5-5")]
    assert row["generation_tps"] == {"value": 55.0, "basis": 4, "unit": "turns", "reason": "", "bench_runs": 0}
    assert row["cost_per_million"]["value"] == approx(0.06 / 9000 * 1e6)
    assert row["daily_capacity"][3] == {"hours": 24, "tokens": {"value": 4_752_000.0, "basis": 4, "unit": "turns",
                                                                  "reason": "", "bench_runs": 0}}
    assert row["quality"]["value"] is None
    assert data["cost_all_claude"]["value"] == approx(0.078)
    assert data["cost_all_local"]["value"] == 0.0  # the default machine costs $0/hour
    split = {s["backend"]: s for s in data["split"]}
    assert split["local"]["share_tokens"] == approx(2600 / 11600)


def test_report_all_and_since(ledger, capsys) -> None:
    _, out, _ = run(capsys, "report", "--all", "--json")
    assert json.loads(out)["turns"] == 9
    _, out, _ = run(capsys, "report", "--since", "60d", "--json")
    assert json.loads(out)["turns"] == 9
    code, out, _ = run(capsys, "report", "--since", "2h", "--json")
    assert code == 0 and json.loads(out)["turns"] == 8


def test_report_bad_since_is_a_usage_error(ledger, capsys) -> None:
    code, out, err = run(capsys, "report", "--since", "nonsense")
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "nonsense" in err


def test_report_and_plan_on_a_machine_where_nothing_is_recorded_say_what_measures(capsys) -> None:
    code, out, err = run(capsys, "report")
    assert code == 0 and err == "" and "no turns recorded" in out and "assistant bench" in out
    code, out, _ = run(capsys, "report", "--json")
    data = json.loads(out)
    assert code == 0 and data["turns"] == 0 and data["rows"] == [] and "assistant bench" in data["reason"]
    code, out, _ = run(capsys, "plan")
    assert code == 0 and "Nothing measured" in out and "assistant bench" in out
    code, out, _ = run(capsys, "plan", "--json")
    assert code == 0 and "assistant bench" in json.loads(out)["reason"]


def test_a_report_of_a_ledger_with_turns_has_no_reason(ledger, capsys) -> None:
    code, out, _ = run(capsys, "report", "--json")
    assert code == 0 and json.loads(out)["reason"] is None


def test_report_with_benchmark_results(ledger, capsys, monkeypatch) -> None:
    # Until the ledger stores benchmark results itself, a stand-in method gives them.
    results = [replace(bench("SmolLM2", 400.0, runs=3), at=NOW)]
    monkeypatch.setattr(Ledger, "bench_results", lambda self: results, raising=False)
    code, out, _ = run(capsys, "report", "--json")
    row = {(r["backend"], r["model"]): r for r in json.loads(out)["rows"]}[("local", "SmolLM2")]
    assert code == 0 and row["prompt_tps"]["value"] == 400.0 and row["prompt_tps"]["basis"] == 3
    code, out, _ = run(capsys, "report")
    assert code == 0 and "400 tok/s" in out


def test_plan_spec_week_json_at_measured_rates(ledger, capsys) -> None:
    code, out, err = run(capsys, "plan", "--scenario", "spec-week", "--json")
    assert code == 0 and err == ""
    data = json.loads(out)
    assert data["rates"]["claude_tps"] == 55.0 and data["rates"]["local_tps"] == 25.0
    assert data["limits"] == {"claude_concurrency": 4, "claude_requests_per_second": 2.0}
    (result,) = data["plans"]
    assert result["workload"]["name"] == "spec-week" and result["output_tokens"] == 310_000
    c = {conf["name"]: conf for conf in result["configurations"]}
    # 490,000 tokens at the measured $0.06 / 9,000 tokens
    assert c["claude"]["cost"] == approx(490_000 * 0.06 / 9000)
    # Local, one at a time: 100 × 0.3 s + 310,000 / 25 tok/s = 30 + 12,400 s, at $0/hour
    assert c["local"]["seconds"] == approx(12_430.0) and c["local"]["cost"] == 0.0
    assert c["hybrid"]["missing"] == []


def test_plan_table_and_the_machine_price(ledger, capsys) -> None:
    config = Config()
    config = replace(config, cost=replace(config.cost, local_machine_per_hour=3.6))
    code, out, _ = run(capsys, "plan", config=config)
    assert code == 0
    assert "spec-week" in out and "refactor-sprint" in out and "Claude only" in out and "hybrid" in out
    assert "3 h 27 min" in out  # 12,430 s locally
    assert "$12.43" in out  # $3.60/hour × 12,430 s


def test_plan_without_a_ledger_names_what_is_missing(capsys) -> None:
    code, out, _ = run(capsys, "plan", "--scenario", "refactor-sprint", "--json")
    assert code == 0
    c = {conf["name"]: conf for conf in json.loads(out)["plans"][0]["configurations"]}
    assert c["claude"]["seconds"] is None
    assert {"figure": "Claude tokens/s", "why": "nothing Claude measured (no turns or bench runs in the ledger)"} in c["claude"]["missing"]
    assert not (Paths.resolve().data_dir / LEDGER_FILE).exists()  # planning creates no ledger


def test_plan_custom_workload_file(tmp_path: Path, capsys) -> None:
    path = tmp_path / "mine.toml"
    path.write_text('[workloads.mine]\n[[workloads.mine.items]]\nname = "x"\nkind = "batch"\ncount = 3\n'
                    "output_tokens = 10\n", encoding="utf-8")
    code, out, _ = run(capsys, "plan", "--workload", str(path), "--json")
    assert code == 0 and json.loads(out)["plans"][0]["requests"] == 3


@pytest.mark.parametrize("content", [None, "[workloads.x\n", '[workloads.x]\n[[workloads.x.items]]\nname = 1\n'])
def test_plan_bad_workload_file_is_one_line(tmp_path: Path, capsys, content: str | None) -> None:
    path = tmp_path / "bad.toml"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    code, out, err = run(capsys, "plan", "--workload", str(path))
    assert code == 1 and out == ""
    assert err.startswith(f"assistant: {path}: ") and err.count("\n") == 1


def test_plan_unknown_scenario_is_a_usage_error(capsys) -> None:
    code, _, err = run(capsys, "plan", "--scenario", "holiday")
    assert code == 2 and "spec-week, refactor-sprint" in err and err.count("\n") == 1


@pytest.mark.skipif(not hasattr(Ledger, "record_bench"), reason="the ledger does not store benchmark results yet")
def test_report_reads_benchmark_results_stored_in_the_ledger(ledger, capsys) -> None:
    # A local file's model is stored as "name · size · hash": it joins the turns of "SmolLM2".
    ledger.record_bench([replace(bench("SmolLM2 · 1.2 GiB · 0a1b2c3d", 350.0, runs=3), at=NOW)])
    code, out, _ = run(capsys, "report", "--json")
    rows = {(r["backend"], r["model"]): r for r in json.loads(out)["rows"]}
    assert code == 0 and set(rows) == {("claude", "claude-sonnet-5-5"), ("local", "SmolLM2")}
    assert rows[("local", "SmolLM2")]["prompt_tps"] == {"value": 350.0, "basis": 3, "unit": "bench runs",
                                                         "reason": "", "bench_runs": 0}


@pytest.mark.parametrize("columns", ["40", "80", "200"])
def test_a_report_written_to_a_pipe_keeps_every_column_at_any_terminal_width(columns: str) -> None:
    """`assistant report | cat` and `assistant cost > f`: no 80-column (or $COLUMNS) cut."""
    model = "a-model-with-a-rather-long-name-q4"
    with Ledger.open(Paths.resolve().ledger_file) as ledger:
        ledger.start_session("s1", started_at=time.time(), cwd="/p")
        for i in range(4):
            ledger.record_turn(TurnRecord("s1", time.time() - 60 + i, "local", model, "ok", prompt_tokens=900,
                                          completion_tokens=120, tokens_per_second=33.0, ttft=0.3, cost=0.0,
                                          counterfactual_cost=0.002))
    env = {**os.environ, "COLUMNS": columns}
    for command, headers in ((["report"], ["TTFT", "p95", "$ per M"]), (["cost", "--all", "--by", "model"], ["saved vs", "TTFT"])):
        out = subprocess.run([sys.executable, "-m", "assistant", *command], capture_output=True, text=True,
                             env=env, check=True).stdout
        assert "left out" not in out and "…" not in out
        assert any(model in line for line in out.splitlines())  # whole, on one line
        assert all(header in out for header in headers)


def test_the_report_shows_how_good_the_rated_answers_were_per_kind(capsys) -> None:
    import threading

    from assistant.backends.scripted import ScriptedBackend
    from assistant.cli.commands import main
    from assistant.core.session.chat import ChatSession

    s = ChatSession(Config(), ScriptedBackend([f"Answer {i}." for i in range(8)], name="local"), ledger=Ledger.open)
    for i in range(7):
        s.run_turn("why is the sky blue?", threading.Event())
        s.rate("good" if i else "bad")
    s.run_turn("write a function that adds two numbers", threading.Event())
    s.rate("good")
    s.close()
    assert main(["report", "--all"]) == 0
    out = capsys.readouterr().out
    assert "Answer quality" in out
    [explain] = [line for line in out.splitlines() if "· explain" in line]
    [code] = [line for line in out.splitlines() if "· code" in line]
    assert explain.split()[-4:] == ["7", "6", "0.78", "0.59"]  # 6/7 good: mean 7/9, at least 0.59
    assert "not enough data" in code
