"""Refactor a small file with the real SmolLM2: whatever the model writes, the
outcome is an applied edit with its commit, or a clear error and the file unchanged."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from assistant.backends.llama.backend import LlamaCppBackend
from assistant.core.session.chat import ChatSession
from assistant.core.edits.refactor import Refactorer
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
