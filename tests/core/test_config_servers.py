"""`[servers.NAME]` tables: each checked when read (one line naming the key), each a
backend under its name, shown by `assistant config` with its key's variable masked."""

from __future__ import annotations

import pytest

from assistant.core import plugins
from assistant.core import config as cfg
from assistant.core import routing
from assistant.core.config import ConfigError, ServerConfig
from assistant.core.session.pool import BackendPool

GPU = '[servers.gpu]\nbase_url = "http://gpu-box:8080/v1"\nmax_tokens = 64\napi_key_env = "GPU_KEY"\nprivate = true\n'


def test_a_server_table_is_read_with_its_defaults() -> None:
    config = cfg.parse(GPU, "c.toml")
    assert config.servers == {"gpu": ServerConfig(base_url="http://gpu-box:8080/v1", max_tokens=64,
                                                  api_key_env="GPU_KEY", private=True)}  # fmt: skip


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("[servers.gpu]\n", "c.toml: servers.gpu: base_url: expected the server's http:// or https:// URL, got ''"),
        ('[servers.gpu]\nbase_url = "ftp://x"\n', "base_url: expected the server's http:// or https:// URL"),
        ('[servers.GPU]\nbase_url = "http://x"\n', "a server's name is lowercase letters"),
        ('[servers.gpu]\nbase_url = "http://x"\nslots = 4\n', "servers.gpu: slots: unknown key"),
        ('[servers.gpu]\nbase_url = "http://x"\nmax_tokens = 0\n', "servers.gpu: max_tokens: must be from 1"),
        ('[servers.gpu]\nbase_url = "http://x"\napi_key_env = "sk-123 456"\n', "expected an environment variable's name"),
        ("[servers]\ngpu = 1\n", "servers: expected [servers.NAME] tables"),
    ],
)
def test_a_wrong_server_table_is_one_line(text: str, said: str) -> None:
    with pytest.raises(ConfigError) as caught:
        cfg.parse(text, "c.toml")
    assert said in str(caught.value) and "\n" not in str(caught.value)


@pytest.mark.parametrize("name", ["claude", "local", "server"])
def test_a_server_cannot_take_an_installed_backend_s_name(name: str) -> None:
    config = cfg.parse(f'[servers.{name}]\nbase_url = "http://x"\n', "c.toml")  # the core cannot know the plugins
    with pytest.raises(ConfigError) as caught:
        routing.check_settings(config)  # where they are known
    assert str(caught.value).startswith(f"servers.{name}: the name is taken by an installed backend (installed: claude,")


def test_a_server_can_be_set_on_the_command_line() -> None:
    config = cfg.parse(GPU, "c.toml").with_overrides({"servers.gpu.max_tokens": 8, "servers.cpu.base_url": "http://h/v1"})
    assert config.servers["gpu"].max_tokens == 8 and config.servers["gpu"].private
    assert config.servers["cpu"] == ServerConfig(base_url="http://h/v1")


def test_each_server_is_a_backend_under_its_name_and_the_plugin_itself_is_not(monkeypatch) -> None:  # noqa: ANN001
    config = cfg.parse(GPU, "c.toml")
    assert "gpu" in BackendPool(config).names() and "server" not in BackendPool(config).names()
    gpu = plugins.create_backend(config, "gpu")
    assert type(gpu).__name__ == "ServerBackend" and gpu.name == "gpu" and gpu.capabilities.private
    assert gpu.capabilities.machine_per_hour == 0.0 and not gpu.capabilities.local
    assert "a [servers.NAME] table makes" in plugins.create_backend(config, "server").reason  # type: ignore[attr-defined]


def test_config_shows_servers_with_their_key_s_variable_masked(monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setenv("GPU_KEY", "sk-secret-0123456789")
    rows = dict(cfg.effective_settings(cfg.parse(GPU, "c.toml")))
    assert rows["servers.gpu.base_url"] == "http://gpu-box:8080/v1"
    assert "sk-secret-0123456789" not in str(rows["env.GPU_KEY"]) and rows["env.GPU_KEY"] != "(not set)"


def test_the_default_file_shows_a_server_example_that_parses() -> None:
    lines = cfg.default_file_text().splitlines()
    start = lines.index("#   [servers.gpu]")
    example = "\n".join(line.removeprefix("#   ") for line in lines[start:] if line.startswith("#   "))
    assert cfg.parse(example, "example").servers["gpu"] == ServerConfig(base_url="http://gpu-box:8080/v1")


@pytest.mark.parametrize("word", ["quality", "best", "other", "edit", "refactor", "auto", "batch"])
def test_a_server_cannot_take_an_at_word_the_app_gives_meaning_to(word: str) -> None:
    with pytest.raises(ConfigError) as caught:
        cfg.parse(f'[servers.{word}]\nbase_url = "http://x"\n', "c.toml")
    assert f"servers.{word}: the name is taken" in str(caught.value)
