"""`--max-tokens` and `--temperature` shape every backend's answer: the local model's,
Claude's (its length only: its current models refuse a temperature), and each
`[servers.NAME]`'s, whether the server is in the config file or given by `--set`;
a `--set` of one backend's setting wins over the flag."""

from __future__ import annotations

from assistant.backends.claude.options import ClaudeOptions
from assistant.backends.llama.options import LlamaOptions
from assistant.cli.context import start
from assistant.cli.parser import parse_command_line
from assistant.core.config import Config
from assistant.core.paths import Paths


def config_of(*argv: str) -> Config:
    paths = Paths.resolve()
    paths.config_file.parent.mkdir(parents=True, exist_ok=True)
    paths.config_file.write_text('[servers.box]\nbase_url = "http://box:8080/v1"\n')
    return start(paths, parse_command_line([*argv, "config"]))


def test_the_answer_flags_reach_the_local_model_claude_and_every_server() -> None:
    config = config_of("--max-tokens", "50", "--temperature", "0.5", "--set", "servers.gpu.base_url=http://gpu:8080/v1")
    assert {name: (s.max_tokens, s.temperature) for name, s in config.servers.items()} == {
        "box": (50, 0.5), "gpu": (50, 0.5)
    }
    local = config.plugin_settings("backends", "local").build(LlamaOptions, "backends.local")
    claude = config.plugin_settings("backends", "claude").build(ClaudeOptions, "backends.claude")
    assert (local.max_tokens, local.temperature) == (50, 0.5)
    assert (claude.max_tokens, claude.temperature) == (50, ClaudeOptions().temperature)


def test_a_set_for_one_backend_wins_over_the_flag() -> None:
    config = config_of("--max-tokens", "50", "--set", "servers.box.max_tokens=9", "--set", "backends.claude.max_tokens=7")
    assert config.servers["box"].max_tokens == 9
    assert config.plugin_settings("backends", "claude").build(ClaudeOptions, "backends.claude").max_tokens == 7
    assert config.plugin_settings("backends", "local").build(LlamaOptions, "backends.local").max_tokens == 50


def test_without_the_flags_each_backend_keeps_its_own_settings() -> None:
    config = config_of()
    assert config.servers["box"].max_tokens == 1024 and config.backends == {}
