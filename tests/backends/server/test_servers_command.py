"""`assistant servers` and a chat turn through the CLI against a real llama-server:
each server's reachability, model, context, slots, price and measured speed."""

from __future__ import annotations

import pytest

from assistant.cli.commands import main
from tests.backends.server.conftest import LlamaServer, free_port

pytestmark = pytest.mark.model


def flags(name: str, url: str) -> list[str]:
    return ["--set", f"servers.{name}.base_url={url}", "--set", f"servers.{name}.max_tokens=8",
            "--set", f"servers.{name}.connect_timeout=1"]  # fmt: skip


def test_servers_lists_each_one_with_what_it_serves_and_a_dead_one_with_why(llama_server: LlamaServer, capsys) -> None:
    dead = f"http://127.0.0.1:{free_port()}/v1"
    assert main(["ask", "--backend", "gpu", *flags("gpu", llama_server.base_url), "Name one prime number."]) == 0
    capsys.readouterr()
    assert main(["servers", *flags("gpu", llama_server.base_url), *flags("dead", dead)]) == 1
    dead_line, gpu_line = capsys.readouterr().out.strip().splitlines()
    assert dead_line.startswith(f"dead  {dead}  unreachable: cannot reach dead at {dead}")
    assert gpu_line.startswith(f"gpu  {llama_server.base_url}  reachable · model ")
    assert "context 1,024 · 4 slots · not private · $0/hour · " in gpu_line and "(median of 1 turn)" in gpu_line


def test_servers_with_none_configured_says_how_to_add_one(capsys) -> None:
    assert main(["servers"]) == 0
    assert "add a [servers.NAME] table" in capsys.readouterr().out


def test_a_batch_refactor_runs_as_many_files_at_once_as_the_server_has_slots(llama_server: LlamaServer, tmp_path,
                                                                            monkeypatch) -> None:  # noqa: ANN001
    from assistant.core.store.ledger import Ledger
    from tests.core.edits.gitrepo import make_repo

    files = {f"m{i}.py": f"def f{i}(x):\n    return x+{i}\n" for i in range(4)}
    repo = make_repo(tmp_path / "proj", files)
    monkeypatch.chdir(repo)
    main(["refactor", *files, "-m", "add spaces around +", "--backend", "gpu", "--yes",
          *flags("gpu", llama_server.base_url), "--set", "servers.gpu.max_tokens=64"])  # fmt: skip
    with Ledger.open() as ledger:
        first = sorted(ledger.turns(), key=lambda t: t.started_at)[:4]
    assert [t.backend for t in first] == ["gpu"] * 4
    assert max(t.started_at for t in first) < min(t.started_at + t.elapsed for t in first)  # all four at once


def test_bench_at_the_server_s_concurrency_stores_the_aggregate_rate(llama_server: LlamaServer, capsys) -> None:
    from assistant.core.store.ledger import Ledger

    args = ["bench", "--backend", "gpu", "--quick", "--runs", "1", "--concurrency", "4",
            "--set", f"servers.gpu.base_url={llama_server.base_url}"]  # fmt: skip
    assert main(args) == 0
    words = " ".join(capsys.readouterr().out.split())  # a caption may wrap, by the machine's name
    assert "4 streams at once" in words and "all 4" in words
    with Ledger.open() as ledger:
        results = ledger.bench_results(backend="gpu")
    assert results and all(r.concurrency == 4 and r.aggregate_tps and r.aggregate_tps > r.generation_tps
                           for r in results)  # fmt: skip
    assert main(["report", "--all"]) == 0
    report = capsys.readouterr().out
    assert "Throughput over several streams at once" in report
    [row] = [line for line in report.splitlines() if line.startswith("gpu · ") and " 4 " in line]
    assert "tok/s" in row


def test_a_turn_records_the_engine_s_rate_beside_the_app_s(llama_server: LlamaServer) -> None:
    from assistant.core.store.ledger import Ledger

    assert main(["ask", "--backend", "gpu", *flags("gpu", llama_server.base_url), "--set", "servers.gpu.max_tokens=48",
                 "Count from one to twenty."]) == 0  # fmt: skip
    with Ledger.open() as ledger:
        [turn] = ledger.turns()
    assert turn.engine_timed and turn.tokens_per_second and turn.client_tokens_per_second
    assert 0.8 < turn.client_tokens_per_second / turn.tokens_per_second < 1.25  # the same stream, seen twice


def test_servers_json_has_the_same_facts_as_figures(llama_server: LlamaServer, capsys) -> None:
    import json

    dead = f"http://127.0.0.1:{free_port()}/v1"
    assert main(["servers", "--json", *flags("gpu", llama_server.base_url), *flags("dead", dead)]) == 1
    import jsonschema

    from tests.cli.test_ask_json import SCHEMA

    printed = json.loads(capsys.readouterr().out)
    jsonschema.validate(printed, SCHEMA)
    found = {s["name"]: s for s in printed["servers"]}
    assert found["dead"]["reachable"] is False and "cannot reach dead" in found["dead"]["why"]
    gpu = found["gpu"]
    assert gpu["reachable"] and gpu["slots"] == 4 and gpu["context_tokens"] == 1024 and gpu["cost_per_hour"] == 0.0
    assert gpu["model"] == "SmolLM2-135M-Instruct.Q4_1.gguf" and gpu["tokens_per_second"] is None
