"""`assistant routers`: what can be named in the chain, listed without importing it."""

from __future__ import annotations

from assistant.cli import main
from assistant.core.paths import Paths


def test_lists_builtins_plugin_files_and_the_chain(capsys) -> None:
    plugins = Paths.resolve().config_dir / "plugins"
    plugins.mkdir(parents=True)
    (plugins / "mine.py").write_text("raise RuntimeError('never imported by a listing')\n")
    assert main(["routers"]) == 0
    out = capsys.readouterr().out
    assert "chain in use: privacy → budget → quality → rules" in out
    for name in ("rules", "budget", "privacy", "fixed", "cheapest", "mine"):
        assert f" {name} " in out
    assert str(plugins) in out
