"""The API key in the config file: stored 0600, never printed."""

from __future__ import annotations

import io
import stat
import sys

import pytest

from assistant.backends.claude.backend import ClaudeBackend
from assistant.cli import main
from assistant.core.config import Config, load
from assistant.core.paths import Paths
from assistant.core.plugins import plugin_options

KEY = "sk-ant-api03-canary-0123456789abcdefghij"


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def claude_options(config: Config):  # noqa: ANN201 - the Claude backend's options
    return plugin_options(ClaudeBackend, config, "backends", "claude")


def test_set_key_writes_a_private_file_and_config_masks_it(monkeypatch, capsys) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(KEY + "\n"))
    assert main(["config", "--set-key"]) == 0
    path = Paths.resolve().config_file
    assert mode(path) == 0o600
    assert claude_options(load(path)).api_key == KEY
    assert "[backends.claude]\napi_key = " in path.read_text()
    capsys.readouterr()
    assert main(["config"]) == 0
    out = capsys.readouterr().out
    assert KEY not in out
    assert "backends.claude.api_key = set (sk-ant-…ghij)" in out


def test_set_key_keeps_the_rest_of_an_existing_file(monkeypatch) -> None:
    path = Paths.resolve().config_file
    path.parent.mkdir(parents=True)
    path.write_text('# mine\n[claude]\nmodel = "claude-haiku-4-5"\n')
    path.chmod(0o644)
    monkeypatch.setattr(sys, "stdin", io.StringIO(KEY))
    assert main(["config", "--set-key"]) == 0
    assert mode(path) == 0o600
    text = path.read_text()
    assert text.startswith("# mine\n") and claude_options(load(path)).model == "claude-haiku-4-5"  # the old layout


def test_init_creates_a_private_file() -> None:
    assert main(["config", "--init"]) == 0
    assert mode(Paths.resolve().config_file) == 0o600


@pytest.mark.parametrize("bad", ["", "two words"])
def test_a_bad_key_is_refused(monkeypatch, capsys, bad: str) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(bad))
    assert main(["config", "--set-key"]) == 2
    assert not Paths.resolve().config_file.exists()
    assert "API key" in capsys.readouterr().err
