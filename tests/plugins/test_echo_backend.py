"""The proof that a backend plugin can have settings of its own: `plugins/echo-backend`,
a third-party package, really installed (pip, from its own pyproject.toml, no network),
then used by `assistant` in a fresh process that finds it by its entry point."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.patience import PATIENCE

PACKAGE = Path(__file__).resolve().parents[2] / "plugins" / "echo-backend"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The package installed into a folder of its own (its source copied first: a
    build writes beside it)."""
    work = tmp_path_factory.mktemp("echo")
    source, target = work / "src", work / "site"
    shutil.copytree(PACKAGE, source, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", "--no-index",
           "--target", str(target), str(source)]  # fmt: skip
    done = subprocess.run(pip, capture_output=True, text=True, timeout=PATIENCE)
    assert done.returncode == 0, done.stderr
    assert (target / "echo_backend.py").is_file()
    return target


def assistant(site: Path, home: Path, *args: str, config: str = "") -> subprocess.CompletedProcess[str]:
    (home / "config").mkdir(parents=True, exist_ok=True)
    (home / "config" / "config.toml").write_text(config)
    env = {**os.environ, "ASSISTANT_HOME": str(home), "PYTHONPATH": str(site)}
    return subprocess.run([sys.executable, "-m", "assistant", *args], capture_output=True, text=True,
                          env=env, timeout=PATIENCE)  # fmt: skip


def test_it_serves_a_turn_with_its_own_settings(installed: Path, tmp_path: Path) -> None:
    config = '[backends.echo]\nprefix = "you said: "\nmax_tokens = 7\n'
    done = assistant(installed, tmp_path, "ask", "--backend", "echo", "hello plugin world, and more", config=config)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "you said: hello plugin\n"  # 7 tokens: words and the spaces between them
    assert done.stderr.startswith("echo · echo · ") and "stopped at max_tokens" in done.stderr


def test_a_bad_value_stops_it_with_one_line_naming_the_key(installed: Path, tmp_path: Path) -> None:
    done = assistant(installed, tmp_path, "ask", "--backend", "echo", "hi", config="[backends.echo]\ndelay_ms = -1\n")
    assert done.returncode == 2
    config_file = tmp_path / "config" / "config.toml"
    assert done.stderr == f"assistant: config error: {config_file}: backends.echo.delay_ms: must be from 0 to 60000, got -1\n"
    wrong = assistant(installed, tmp_path, "--set", "backends.echo.prefix=1", "ask", "--backend", "echo", "hi")
    assert wrong.returncode == 2
    assert wrong.stderr == "assistant: config error: command line: backends.echo.prefix: expected a string, got 1\n"


def test_config_shows_and_writes_its_settings(installed: Path, tmp_path: Path) -> None:
    shown = assistant(installed, tmp_path, "config", "--set", "backends.echo.delay_ms=5")
    assert shown.returncode == 0, shown.stderr
    assert "backends.echo.delay_ms = 5\n" in shown.stdout and 'backends.echo.prefix = "echo: "\n' in shown.stdout
    assert assistant(installed, tmp_path, "config", "--init", "--force").returncode == 0
    written = (tmp_path / "config" / "config.toml").read_text()
    assert "# [backends.echo]\n# Text every answer starts with.\n# prefix = \"echo: \"\n" in written


def test_without_it_installed_its_table_names_what_is(tmp_path: Path) -> None:
    done = assistant(tmp_path / "nowhere", tmp_path, "ask", "--backend", "echo", "hi", config="[backends.echo]\n")
    assert done.returncode == 2
    assert "[backends.echo]: no backend named 'echo' (installed: claude, local, server)" in done.stderr
