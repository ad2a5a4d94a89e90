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
