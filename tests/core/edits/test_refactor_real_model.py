"""Refactor a small file with the real SmolLM2: whatever the model writes, the
outcome is an applied edit with its commit, or a clear error and the file unchanged."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from assistant.backends.llama.backend import LlamaCppBackend
from assistant.core.session.chat import ChatSession
from assistant.core.workflows.refactor import Refactorer
from tests.conftest import small_config
from tests.core.edits.gitrepo import git, make_repo
from tests.core.edits.test_refactor_flow import CALC

pytestmark = pytest.mark.model


@pytest.mark.parametrize("instruction", ["add type hints", "rename sub to subtract"])
def test_whatever_the_model_writes_nothing_is_damaged(tmp_path: Path, local_backend: LlamaCppBackend,
                                                      instruction: str) -> None:
    root = make_repo(tmp_path / "proj", {"calc.py": CALC})
    config = small_config(max_tokens=96)
    session = ChatSession(config, local_backend, project_root=root)
    refactorer = Refactorer(session, root)
    proposal = refactorer.propose("calc.py", instruction, threading.Event())
    commits = git(root, "rev-list", "--count", "HEAD").strip()
    if proposal.ok:
        committed = refactorer.apply(proposal)
        assert (root / "calc.py").read_text() == proposal.changes[0].after
        assert committed.commit == git(root, "rev-parse", "HEAD").strip()
        assert "Assistant-Backend: local" in git(root, "log", "-1", "--format=%B")
    else:
        assert proposal.error and "\n" not in proposal.error
        assert (root / "calc.py").read_text() == CALC
        assert commits == "1"
    assert proposal.results and proposal.results[0].backend == "local"


def test_with_the_project_s_tests_set_the_outcome_is_a_passing_commit_or_a_clear_refusal(
    tmp_path: Path, local_backend: LlamaCppBackend, monkeypatch  # noqa: ANN001
) -> None:
    """`assistant refactor --yes` with `test_cmd`: only an edit whose tests pass is written."""
    import argparse
    import io
    import sys
    from dataclasses import replace

    from rich.console import Console

    from assistant.cli.refactor import cmd_refactor

    tests = "from calc import add, sub\n\n\ndef test_add():\n    assert add(2, 3) == 5\n\n\ndef test_sub():\n    assert sub(5, 3) == 2\n"
    root = make_repo(tmp_path / "proj", {"calc.py": CALC, "test_calc.py": tests})
    config = small_config(max_tokens=96)
    pytest_cmd = f"env PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 {sys.executable} -m pytest -q -p no:cacheprovider"
    config = replace(config, edits=replace(config.edits, test_cmd=pytest_cmd, check_timeout=60))
    session = ChatSession(config, local_backend, project_root=root)
    monkeypatch.chdir(root)
    out = io.StringIO()
    args = argparse.Namespace(paths=["calc.py"], message="add type hints", yes=True, allow_new=False)
    code = cmd_refactor(config, args, session=session, console=Console(file=out, width=200))
    assert local_backend.loaded  # a session handed in stays open: its maker closes it
    message = git(root, "log", "-1", "--format=%B")
    if code == 0:
        assert "Assistant-Checks: syntax, tests" in message  # committed only with its tests passing
    else:
        assert (root / "calc.py").read_text() == CALC and "refactor(" not in message
        assert "not applied" in out.getvalue()
