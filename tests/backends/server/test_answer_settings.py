"""The command line's answer settings reach a `[servers.NAME]` backend: `ask
--max-tokens 8` against the real llama-server generates at most 8 tokens (it used
to send the server's table default, 1,024), and a table's `stop` ends the answer
where the model writes it."""

from __future__ import annotations

import json
import threading
from dataclasses import replace

import pytest

from assistant.backends.server.backend import ServerBackend
from assistant.cli.commands import main
from assistant.core.config import ServerConfig
from assistant.core.conversation import Message
from assistant.core.events import TextDelta, TurnDone
from tests.backends.server.conftest import LlamaServer

pytestmark = pytest.mark.model

LONG = "Count from one to one hundred, one number per line."


def test_max_tokens_on_the_command_line_bounds_a_server_s_answer(llama_server: LlamaServer, capsys) -> None:
    server = ["--set", f"servers.ls.base_url={llama_server.base_url}", "--set", "servers.ls.temperature=0"]
    assert main(["ask", "--backend", "ls", "--max-tokens", "8", "--json", *server, LONG]) == 0
    turn = json.loads(capsys.readouterr().out)
    assert turn["backend"] == "ls"
    assert 0 < turn["tokens"]["out"] <= 8 and turn["stop_reason"] == "max_tokens"


def test_a_set_for_one_server_wins_over_the_flag_for_every_backend(llama_server: LlamaServer, capsys) -> None:
    server = ["--set", f"servers.ls.base_url={llama_server.base_url}", "--set", "servers.ls.temperature=0"]
    assert main(["ask", "--backend", "ls", "--max-tokens", "200", "--set", "servers.ls.max_tokens=4", "--json",
                 *server, LONG]) == 0  # fmt: skip
    assert json.loads(capsys.readouterr().out)["tokens"]["out"] <= 4


def test_a_server_s_stop_strings_end_its_answer(llama_server: LlamaServer) -> None:
    settings = replace(ServerConfig(base_url=llama_server.base_url), temperature=0.0, max_tokens=64, stop=("\n", "3"))
    backend = ServerBackend("ls", settings)
    backend.load()
    try:
        events = list(backend.stream([Message("user", "Count from 1 to 10, separated by commas.")], threading.Event()))
    finally:
        backend.close()
    text = "".join(e.text for e in events if isinstance(e, TextDelta))
    assert "3" not in text and "\n" not in text
    assert [e.stop_reason for e in events if isinstance(e, TurnDone)] == ["end_turn"]
