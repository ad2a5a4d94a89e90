"""`assistant bench`: its flags, the command measuring every backend, printing
(tables or `--json`) and storing what it measured."""

from __future__ import annotations

import argparse
import json

import pytest

from assistant.backends.scripted import ScriptedBackend
from assistant.cli import bench as bench_cli
from assistant.cli import parser as cli_parser
from assistant.cli.parser import build_parser
from assistant.core.accounting import bench_results
from assistant.core.accounting.bench_results import BenchResult
from assistant.core.benchmark.cases import bench_cases
from assistant.core.paths import Paths
from assistant.core.store.ledger import Ledger
from tests.core.store.test_bench_runs import result


def parse(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(["bench", *argv])


def test_the_parser() -> None:
    args = parse()
    assert (args.runs, args.bench_backends, args.quick, args.json) == (None, None, False, False)
    args = parse("--runs", "5", "--backend", "local", "--backend", "claude", "--quick", "--json", "--model", "m.gguf")
    assert (args.runs, args.bench_backends, args.quick, args.json) == (5, ["local", "claude"], True, True)
    assert vars(args)["backends.local.model_path"] == "m.gguf"
    with pytest.raises(SystemExit):
        parse("--runs", "0")


def test_the_parser_s_run_counts_are_the_core_s_and_its_help_says_them(capsys: pytest.CaptureFixture[str]) -> None:
    """Written out in the parser (the TUI's first frame loads no result types): the same as the bench's."""
    assert (cli_parser.RUNS, cli_parser.QUICK_RUNS) == (bench_results.RUNS, bench_results.QUICK_RUNS)
    with pytest.raises(SystemExit):
        parse("--help")
    said = " ".join(capsys.readouterr().out.split())
    assert f"(default {bench_results.RUNS}; {bench_results.QUICK_RUNS} with --quick)" in said


@pytest.fixture
def scripted_plugins(monkeypatch: pytest.MonkeyPatch) -> dict[str, ScriptedBackend]:
    from assistant.core import plugins
    from assistant.core.plugins import PluginInfo

    backends = {
        "claude": ScriptedBackend(load_error="Claude is unavailable: no API key. Set ANTHROPIC_API_KEY", name="claude"),
        "local": ScriptedBackend(["fast answer here"], name="local", model_name="tiny"),
    }
    monkeypatch.setattr(plugins, "list_backends", lambda: [PluginInfo(n, "x:y", None) for n in backends])
    monkeypatch.setattr(plugins, "create_backend", lambda config, name: backends[name])
    return backends


def test_bench_command_measures_every_backend_prints_json_and_stores(
    scripted_plugins: dict[str, ScriptedBackend], capsys: pytest.CaptureFixture[str]
) -> None:
    from assistant.core.config import Config

    paths = Paths.resolve()
    assert bench_cli.cmd_bench(Config(), paths, parse("--quick", "--json")) == 0
    out, err = capsys.readouterr()
    import jsonschema

    from tests.cli.test_ask_json import SCHEMA

    jsonschema.validate(json.loads(out), SCHEMA)
    printed = json.loads(out)["results"]
    assert [(r["backend"], r["case"], r["runs"]) for r in printed] == [
        ("local", c.name, 1) for c in bench_cases(quick=True)
    ]
    assert printed[0]["completion_tokens"] == 5 and printed[0]["generation_tps"] > 0
    assert "claude: skipped: Claude is unavailable: no API key. Set ANTHROPIC_API_KEY" in err
    with Ledger.open(paths.data_dir / "ledger.sqlite3") as ledger:
        stored = ledger.bench_results()
    assert [asdict_without_id(r) for r in reversed(stored)] == printed
    assert not scripted_plugins["local"].loaded  # closed after its cases


def asdict_without_id(r: BenchResult) -> dict:
    from dataclasses import asdict

    return {**asdict(r), "id": None}


def test_bench_command_shows_a_table_per_backend_and_model(
    scripted_plugins: dict[str, ScriptedBackend], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from assistant.core.config import Config

    monkeypatch.setenv("COLUMNS", "160")
    assert bench_cli.cmd_bench(Config(), Paths.resolve(), parse("--backend", "local", "--runs", "2")) == 0
    out, err = capsys.readouterr()
    assert "local · tiny" in out and "median of 2 run(s)" in out
    for header in ("prompt", "answer", "tokens", "tok/s", "gen", "TTFT", "spread", "peak", "memory"):
        assert header in out
    assert "long/long" in out and "claude" not in out + err


def test_bench_command_fails_when_nothing_could_be_measured(
    scripted_plugins: dict[str, ScriptedBackend], capsys: pytest.CaptureFixture[str]
) -> None:
    from assistant.core.config import Config

    assert bench_cli.cmd_bench(Config(), Paths.resolve(), parse("--backend", "claude")) == 1
    assert "nothing was measured" in capsys.readouterr().err
    assert not (Paths.resolve().data_dir / "ledger.sqlite3").exists()


def test_the_table_formats_figures() -> None:
    (table,) = bench_cli.results_tables([result(1.0, peak_memory_bytes=None), result(1.0, case="b")])
    cells = [list(column.cells) for column in table.columns]
    assert cells[0] == ["short/short", "b"]
    assert cells[3] == ["134"] * 2 and cells[4] == ["47.5"] * 2 and cells[5] == ["277 ms"] * 2 and cells[6] == ["10 ms"] * 2
    assert cells[7] == ["–", "123 MiB"]
