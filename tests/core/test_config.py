from __future__ import annotations

import re

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from assistant.backends.llama.options import LlamaOptions
from assistant.core import config as cfg
from assistant.core import plugins, routing
from assistant.core.backends.unavailable import UnavailableBackend
from assistant.core.config import ConfigError
from assistant.core.routing import discovery
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
    config = cfg.parse("[window]\nslide_fraction = 1\n[cost]\nlocal_machine_per_hour = 1\n", "f")
    assert config.window.slide_fraction == 1.0 and isinstance(config.window.slide_fraction, float)
    assert config.cost.local_machine_per_hour == 1.0


def test_a_plugin_s_values_are_typed_by_its_own_options() -> None:
    config = cfg.parse("[backends.local]\nn_ctx = 2048\ntemperature = 0\n", "f")
    options = options_of(config, "backends", "local")
    assert options.n_ctx == 2048
    assert options.temperature == 0.0 and isinstance(options.temperature, float)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[local\nn_ctx = 1", "f.toml: TOML syntax error"),
        ("[window]\nslide_fraction = 'big'", "f.toml: window.slide_fraction: expected a number from 0.01 to 1, got 'big'"),
        ("[general]\ndebug_log = 1", "f.toml: general.debug_log: expected true or false"),
        ("[window]\nslide_fraction = 8", "f.toml: window.slide_fraction: must be from 0.01 to 1, got 8"),
        ("[window]\nbogus = 1", "f.toml: window.bogus: unknown key"),
        ("[nope]\nx = 1", "f.toml: nope.x: unknown setting"),
        ("window = 3", "f.toml: window: expected a [window] table"),
        ("backends = 3", "f.toml: backends: expected [backends.NAME] tables"),
        ("[claude]\nfallback_to_local = 'no'", "f.toml: claude.fallback_to_local: expected true or false"),
    ],
)
def test_bad_config_is_one_clear_line(text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        cfg.parse(text, "f.toml")
    message = str(info.value)
    assert message.startswith(expected)
    assert "\n" not in message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[backends.local]\nn_ctx = 'big'", "f.toml: backends.local.n_ctx: expected an integer from 64 to 16777216, got 'big'"),
        ("[backends.local]\nn_ctx = true", "f.toml: backends.local.n_ctx: expected an integer from 64 to 16777216, got True"),
        ("[backends.local]\nflash_attn = 1", "f.toml: backends.local.flash_attn: expected true or false"),
        ("[backends.local]\nn_ctx = 1", "f.toml: backends.local.n_ctx: must be from 64 to 16777216, got 1"),
        ("[backends.local]\nbogus = 1", "f.toml: backends.local.bogus: unknown key (known in [backends.local]: model_path,"),
        ("[backends.local]\nmodel_path = '/does/not/exist.gguf'", "f.toml: backends.local.model_path: file does not exist"),
        ("[local]\nn_ctx = 8", "f.toml: backends.local.n_ctx: must be from 64 to 16777216, got 8"),  # the old layout
        ("[routers.quality]\nfloor = 2", "f.toml: routers.quality.floor: must be from 0 to 1, got 2"),
        ("[budget]\nnear = -1", "f.toml: routers.budget.near: must be from 0 to 1, got -1"),
        ("[backends.nope]\nx = 1", "f.toml: [backends.nope]: no backend named 'nope' (installed: claude, local"),
        ("[routers.nope]", "f.toml: [routers.nope]: no router named 'nope' (installed: budget,"),
        ("[backends.server]\nx = 1", "f.toml: [backends.server]: 'server' takes no settings"),
        ('[servers.local]\nbase_url = "http://gpu:8080/v1"', "servers.local: the name is taken by an installed backend"),
    ],
)
def test_a_bad_plugin_setting_is_one_clear_line_at_start_up(text: str, expected: str) -> None:
    config = cfg.parse(text, "f.toml")  # the core cannot know a plugin's settings: read as given
    with pytest.raises(ConfigError) as info:
        routing.check_settings(config)  # checked through each plugin's own Options
    message = str(info.value)
    assert message.startswith(expected), message
    assert "\n" not in message


def test_a_plugin_that_cannot_be_created_says_why() -> None:
    config = cfg.Config().with_overrides({"backends.local.n_ctx": 1})
    backend = plugins.create_backend(config, "local")
    assert isinstance(backend, UnavailableBackend)
    assert backend.reason == "command line: backends.local.n_ctx: must be from 64 to 16777216, got 1"


def test_the_old_layout_is_read_into_the_new_places_and_says_where() -> None:
    old = (
        "[local]\nn_ctx = 2048\n[claude]\nmodel = 'claude-haiku-4-5'\nfallback_to_local = false\n"
        "[router]\nquality_max_context = 100\nfixed_backend = 'claude'\nquality_floor = 0.5\n"
        "[budget]\nsession_dollars = 2\n[privacy]\ngit_ignored = false\n"
        "[window]\nlocal_tokens = 1000\nclaude_tokens = 3000\n"
        "[edits]\nclaude_concurrency = 2\nclaude_requests_per_second = 5\n"
    )
    config = cfg.parse(old, "c.toml")
    new = cfg.parse(
        "[router]\nfallback = []\n"
        "[backends.local]\nn_ctx = 2048\nwindow_tokens = 1000\n"
        "[backends.claude]\nmodel = 'claude-haiku-4-5'\nwindow_tokens = 3000\nmax_concurrency = 2\n"
        "requests_per_second = 5\n"
        "[routers.rules]\nquality_max_context = 100\n[routers.fixed]\nbackend = 'claude'\n"
        "[routers.quality]\nfloor = 0.5\n[routers.budget]\nsession_dollars = 2\n[routers.privacy]\ngit_ignored = false\n",
        "c.toml",
    )
    for kind, name in [("backends", "local"), ("backends", "claude"), ("routers", "rules"), ("routers", "fixed"),
                       ("routers", "quality"), ("routers", "budget"), ("routers", "privacy")]:
        assert options_of(config, kind, name) == options_of(new, kind, name)
    assert config.router == new.router and config.window == new.window and config.edits == new.edits
    assert config.moved == (
        "c.toml: [local] is now [backends.local]",
        "c.toml: [claude] is now [backends.claude] (fallback_to_local → [router] fallback)",
        "c.toml: [router] quality_max_context → [routers.rules]; fixed_backend → [routers.fixed] backend; "
        "quality_floor → [routers.quality] floor",
        "c.toml: [budget] is now [routers.budget]",
        "c.toml: [privacy] is now [routers.privacy]",
        "c.toml: [window] local_tokens → [backends.local] window_tokens; claude_tokens → [backends.claude] window_tokens",
        "c.toml: [edits] claude_concurrency → [backends.claude] max_concurrency; "
        "claude_requests_per_second → [backends.claude] requests_per_second",
    )
    assert new.moved == ()


def test_a_new_key_wins_over_its_old_name_and_the_command_line_over_the_file() -> None:
    config = cfg.parse("[local]\nn_ctx = 1024\n[backends.local]\nn_ctx = 2048\n", "c.toml")
    assert options_of(config, "backends", "local").n_ctx == 2048
    config = config.with_overrides({"local.n_ctx": 4096})
    assert options_of(config, "backends", "local").n_ctx == 4096
    assert config.moved[-1] == "command line: [local] is now [backends.local]"


def options_of(config: cfg.Config, kind: str, name: str) -> Any:
    """A built-in plugin's options as `config` sets them, checked by its `Options`."""
    group = plugins.BACKENDS_GROUP if kind == "backends" else discovery.ROUTERS_GROUP
    exported, _ = plugins.load_plugin(kind, group, name)
    return plugins.plugin_options(exported, config, kind, name)


def test_overrides_are_checked_like_the_file() -> None:
    config = cfg.Config().with_overrides({"window.slide_fraction": 0.5, "backends.local.max_tokens": None})
    assert config.window.slide_fraction == 0.5 and config.backends == {}
    with pytest.raises(ConfigError, match="command line: window.slide_fraction: expected a number"):
        cfg.Config().with_overrides({"window.slide_fraction": "x"})
    with pytest.raises(ConfigError, match="command line: backends.local.n_ctx: expected an integer"):
        routing.check_settings(cfg.Config().with_overrides({"backends.local.n_ctx": "x"}))


def test_parse_assignment_reads_toml_values() -> None:
    assert cfg.parse_assignment("backends.local.n_ctx=2048") == ("backends.local.n_ctx", 2048)
    assert cfg.parse_assignment("ui.theme=nord") == ("ui.theme", "nord")
    assert cfg.parse_assignment("backends.local.flash_attn = true") == ("backends.local.flash_attn", True)
    with pytest.raises(ConfigError):
        cfg.parse_assignment("novalue")


def test_secret_is_masked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-api03-abcdefghijklmnop-WXYZ")
    rows = dict(discovery.plugin_rows(cfg.Config().with_overrides({"backends.claude.api_key": "sk-ant-file-key-0123"})))
    shown = rows["env.ANTHROPIC_API_KEY"]
    assert "abcdefghijklmnop" not in shown and shown.endswith("WXYZ)")
    assert rows["backends.claude.api_key"] == "set (sk-ant-…0123)"


def uncommented(text: str) -> str:
    """The default file with every plugin's table and key uncommented, as a person would."""
    return re.sub(r"^# (\[\w+\.\w+\]|\w+ = )", r"\1", text, flags=re.MULTILINE)


def test_the_default_file_holds_each_plugin_s_section_from_its_options_commented_out() -> None:
    text = cfg.default_file_text(discovery.installed_options(cfg.Config()))
    assert "# [backends.local]\n# GGUF model file" in text and "# [routers.quality]\n" in text
    config = cfg.parse(text, "default")
    assert config.backends == {} and routing.check_settings(config) == []  # nothing to import at start
    config = cfg.parse(uncommented(text), "default")
    assert {"local", "claude"} <= config.backends.keys() and "quality" in config.routers
    assert routing.check_settings(config) == [""]  # loads, and the only secret (the API key) is empty
    assert options_of(config, "backends", "local") == LlamaOptions()


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
    shown = run_cli("--n-ctx", "1024", "config", "--set", "cost.local_machine_per_hour=2",
                    "--set", "backends.claude.model=claude-haiku-4-5")  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    assert "backends.local.n_ctx = 1024" in shown.stdout
    assert 'backends.claude.model = "claude-haiku-4-5"' in shown.stdout
    assert "routers.quality.floor = 0.8" in shown.stdout
    assert "cost.local_machine_per_hour = 2.0" in shown.stdout
    assert "env.ANTHROPIC_API_KEY = (not set)" in shown.stdout


def test_cli_config_says_where_old_settings_moved(assistant_home: Path) -> None:
    config_file = assistant_home / "config" / "config.toml"
    config_file.parent.mkdir(parents=True)
    config_file.write_text("[local]\nn_threads = 2\n[budget]\nsession_dollars = 1\n")
    shown = run_cli("config", "--set", "claude.max_tokens=100")
    assert shown.returncode == 0, shown.stderr
    assert f"moved        {config_file}: [local] is now [backends.local]" in shown.stdout
    assert f"moved        {config_file}: [budget] is now [routers.budget]" in shown.stdout
    assert "moved        command line: [claude] is now [backends.claude]" in shown.stdout
    assert "backends.local.n_threads = 2" in shown.stdout and "routers.budget.session_dollars = 1.0" in shown.stdout
    assert "backends.claude.max_tokens = 100" in shown.stdout


def test_cli_bad_config_exits_2_with_one_line(assistant_home: Path) -> None:
    config_file = assistant_home / "config" / "config.toml"
    config_file.parent.mkdir(parents=True)
    config_file.write_text("[backends.local]\nn_threads = 'many'\n")
    result = run_cli("config")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert str(config_file) in lines[0] and "backends.local.n_threads" in lines[0]
    assert "Traceback" not in result.stderr


def test_cli_bad_flag_value_exits_2() -> None:
    result = run_cli("--model", "/no/such/model.gguf", "config")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "assistant: config error: command line: backends.local.model_path: "
        "file does not exist: /no/such/model.gguf"
    )
