from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from assistant.core import config as cfg
from assistant.core.config import ConfigError
from assistant.core.paths import Paths
from tests.patience import PATIENCE


def test_defaults_without_a_file(assistant_home: Path) -> None:
    paths = Paths.resolve()
    assert paths.config_file == assistant_home / "config" / "config.toml"
    assert paths.data_dir == assistant_home / "data"
    assert cfg.load(paths.config_file) == cfg.Config()


def test_default_file_round_trips() -> None:
    assert cfg.parse(cfg.default_file_text(), "default") == cfg.Config()


def test_values_are_typed_and_ints_widen_to_floats() -> None:
    config = cfg.parse("[local]\nn_ctx = 2048\ntemperature = 0\n[cost]\nlocal_machine_per_hour = 1\n", "f")
    assert config.local.n_ctx == 2048
    assert config.local.temperature == 0.0 and isinstance(config.local.temperature, float)
    assert config.cost.local_machine_per_hour == 1.0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[local\nn_ctx = 1", "f.toml: TOML syntax error"),
        ("[local]\nn_ctx = 'big'", "f.toml: local.n_ctx: expected an integer from 64 to 16777216, got 'big'"),
        ("[local]\nn_ctx = true", "f.toml: local.n_ctx: expected an integer from 64 to 16777216, got True"),
        ("[local]\nflash_attn = 1", "f.toml: local.flash_attn: expected true or false"),
        ("[local]\nn_ctx = 8", "f.toml: local.n_ctx: must be from 64 to 16777216, got 8"),
        ("[local]\nbogus = 1", "f.toml: local.bogus: unknown key"),
        ("[nope]\nx = 1", "f.toml: nope.x: unknown setting"),
        ("local = 3", "f.toml: local: expected a [local] table"),
        ("[local]\nmodel_path = '/does/not/exist.gguf'", "f.toml: local.model_path: file does not exist"),
    ],
)
def test_bad_config_is_one_clear_line(text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        cfg.parse(text, "f.toml")
    message = str(info.value)
    assert message.startswith(expected)
    assert "\n" not in message


def test_overrides_are_validated_like_the_file() -> None:
    config = cfg.Config().with_overrides({"local.n_ctx": 1024, "local.max_tokens": None})
    assert config.local.n_ctx == 1024
    with pytest.raises(ConfigError, match="command line: local.n_ctx: expected an integer"):
        cfg.Config().with_overrides({"local.n_ctx": "x"})


def test_parse_assignment_reads_toml_values() -> None:
    assert cfg.parse_assignment("local.n_ctx=2048") == ("local.n_ctx", 2048)
    assert cfg.parse_assignment("ui.theme=nord") == ("ui.theme", "nord")
    assert cfg.parse_assignment("local.flash_attn = true") == ("local.flash_attn", True)
    with pytest.raises(ConfigError):
        cfg.parse_assignment("novalue")


def test_secret_is_masked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-api03-abcdefghijklmnop-WXYZ")
    rows = dict(cfg.effective_settings(cfg.Config()))
    shown = rows["env.ANTHROPIC_API_KEY"]
    assert "abcdefghijklmnop" not in shown and shown.endswith("WXYZ)")


def run_cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "assistant", *args],
        capture_output=True,
        text=True,
        input=stdin,
        timeout=PATIENCE,
    )


def test_cli_config_init_then_show(assistant_home: Path) -> None:
    first = run_cli("config", "--init")
    assert first.returncode == 0, first.stderr
    assert (assistant_home / "config" / "config.toml").is_file()
    again = run_cli("config", "--init")
    assert again.returncode == 1 and "already exists" in again.stderr
    shown = run_cli("--n-ctx", "1024", "config", "--set", "cost.local_machine_per_hour=2")
    assert shown.returncode == 0
    assert "local.n_ctx = 1024" in shown.stdout
    assert "cost.local_machine_per_hour = 2.0" in shown.stdout
    assert "env.ANTHROPIC_API_KEY = (not set)" in shown.stdout


def test_cli_bad_config_exits_2_with_one_line(assistant_home: Path) -> None:
    config_file = assistant_home / "config" / "config.toml"
    config_file.parent.mkdir(parents=True)
    config_file.write_text("[local]\nn_threads = 'many'\n")
    result = run_cli("config")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert str(config_file) in lines[0] and "local.n_threads" in lines[0]
    assert "Traceback" not in result.stderr


def test_cli_bad_flag_value_exits_2() -> None:
    result = run_cli("--model", "/no/such/model.gguf", "config")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "assistant: config error: command line: local.model_path: "
        "file does not exist: /no/such/model.gguf"
    )
