"""`assistant refactor --backend NAME` says the backend was named with --backend,
as `ask` does, not that the message asked for it with `@NAME`."""

from __future__ import annotations

import argparse
import io
from dataclasses import replace
from pathlib import Path

from rich.console import Console

from assistant.backends.scripted import ScriptedBackend
from assistant.cli.refactor import cmd_refactor
from assistant.core.config import Config
from assistant.core.session.chat import ChatSession
from tests.core.edits.gitrepo import make_repo

EDIT = "m.py\n<<<<<<< SEARCH\n    return x+1\n=======\n    return x + 1\n>>>>>>> REPLACE\n"


def refactor(tmp_path: Path, monkeypatch, **flags: str) -> str:
    root = make_repo(tmp_path / "proj", {"m.py": "def f(x):\n    return x+1\n"})
    monkeypatch.chdir(root)
    config = Config()
    config = replace(config, general=replace(config.general, backend="local"),
                     edits=replace(config.edits, whole_file_backends=(), test_cmd="", lint_cmd=""))  # fmt: skip
    session = ChatSession(config, ScriptedBackend([EDIT], name="local"), ledger=None, project_root=root)
    args = argparse.Namespace(paths=["m.py"], message="spaces around +", yes=True, **flags)
    out = io.StringIO()
    assert cmd_refactor(config, args, session=session, console=Console(file=out, width=200)) == 0
    return out.getvalue()


def test_a_backend_named_with_the_flag_is_said_so(tmp_path: Path, monkeypatch) -> None:
    said = refactor(tmp_path, monkeypatch, **{"general.backend": "local"})
    assert "named with --backend" in said and "@local" not in said


def test_a_backend_named_in_the_config_is_said_so(tmp_path: Path, monkeypatch) -> None:
    said = refactor(tmp_path, monkeypatch)
    assert "named in the config ([general] backend)" in said and "@local" not in said
