"""Issue 24 item 15: git states that stop an edit's commit are found before the model is
asked (and paid), each said in one line. Was: found only after the paid call (a
read-only repository, a file inside a submodule with git's raw "Pathspec … is in
submodule", a rebase under way), a detached HEAD took the commit without a word, and
`undo` in a read-only repository was an "internal error"."""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from rich.console import Console

import assistant
from assistant.backends.scripted import ScriptedBackend
from assistant.cli.refactor import cmd_refactor
from assistant.core.config import Config
from assistant.core.edits.files import apply_changes
from assistant.core.edits.types import FileChange
from assistant.core.edits.vcs import DETACHED, Provenance, VcsError, Workspace
from assistant.core.session.chat import ChatSession
from assistant.core.store.ledger import Ledger
from tests.core.edits.gitrepo import git, make_repo
from tests.patience import PATIENCE

REPO = Path(assistant.__file__).resolve().parent.parent
PROV = Provenance("local", "scripted-model", 0.0, "tidy")


@pytest.fixture(autouse=True)
def hermetic_git(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")


def config() -> Config:
    base = Config()
    return replace(base, edits=replace(base.edits, whole_file_backends=()))


def block(name: str, search: str, replace_: str) -> str:
    return f"{name}\n<<<<<<< SEARCH\n{search}=======\n{replace_}>>>>>>> REPLACE\n"


def refactor(root: Path, answer: str, path: str) -> tuple[int, str, ScriptedBackend]:
    """`assistant refactor --yes PATH` with a scripted model: (exit code, what it printed, the model)."""
    backend = ScriptedBackend([answer], name="local")
    session = ChatSession(config(), backend, ledger=Ledger.open, project_root=root)
    out = io.StringIO()
    args = argparse.Namespace(paths=[path], message="tidy", yes=True, allow_new=False)
    try:
        code = cmd_refactor(config(), args, session=session, console=Console(file=out, width=300))
    finally:
        session.close()
    return code, out.getvalue(), backend


def one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("assistant: "), err
    return err


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    repo = make_repo(tmp_path / "proj", {"a.py": "a = 1\n", "c.py": "c = 1\n"})
    monkeypatch.chdir(repo)
    return repo


def test_a_rebase_in_progress_is_refused_before_the_model_is_asked(root: Path, capsys) -> None:  # noqa: ANN001
    branch = git(root, "rev-parse", "--abbrev-ref", "HEAD").strip()
    git(root, "checkout", "-q", "-b", "side")
    (root / "c.py").write_text("c = 'side'\n")
    git(root, "commit", "-qam", "side")
    git(root, "checkout", "-q", branch)
    (root / "c.py").write_text("c = 'main'\n")
    git(root, "commit", "-qam", "main")
    rebase = subprocess.run(["git", "rebase", "side"], cwd=root, capture_output=True, text=True)
    stopped = rebase.returncode != 0 and (root / ".git" / "rebase-merge").is_dir()  # on the conflict
    assert stopped, rebase.stderr

    code, _, model = refactor(root, block("a.py", "a = 1\n", "a = 2\n"), "a.py")

    assert code == 1 and model.seen == []  # no model call
    assert "a rebase is in progress in this repository: finish or abort it first" in one_line_error(capsys)


def test_a_bisect_in_progress_is_refused(root: Path) -> None:
    git(root, "bisect", "start")
    with pytest.raises(VcsError, match="^a bisect is in progress"):
        Workspace(root).ready(["a.py"])


@pytest.fixture
def with_submodule(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository whose lib/sub/ is a submodule holding d/x.py."""
    make_repo(tmp_path / "sub", {"x.py": "x = 1\n"})
    top = make_repo(tmp_path / "top", {"a.py": "a = 1\n"})
    git(top, "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(tmp_path / "sub"), "lib/sub")
    git(top, "commit", "-qm", "submodule")
    monkeypatch.chdir(top)
    return top


def test_a_file_inside_a_submodule_is_refused_with_one_line_before_the_model_is_asked(
    with_submodule: Path, capsys  # noqa: ANN001
) -> None:
    code, _, model = refactor(with_submodule, block("lib/sub/x.py", "x = 1\n", "x = 2\n"), "lib/sub/x.py")
    assert code == 1 and model.seen == []
    err = one_line_error(capsys)
    assert "lib/sub/x.py is inside the submodule lib/sub/" in err and "Pathspec" not in err
    # And past the check, the write is refused with the same line (no raw git error).
    root = with_submodule
    with pytest.raises(VcsError, match=r"^lib/sub/x\.py is inside the submodule lib/sub/"):
        edit = [FileChange("lib/sub/x.py", "x = 1\n", "x = 2\n")]
        Workspace(root).apply(edit, PROV, lambda c: apply_changes(root, c))
    assert (root / "lib/sub/x.py").read_text() == "x = 1\n"


def test_a_path_in_a_submodule_that_is_not_checked_out_is_refused(with_submodule: Path) -> None:
    git(with_submodule, "submodule", "deinit", "-q", "-f", "lib/sub")
    assert not (with_submodule / "lib/sub/.git").exists()
    with pytest.raises(VcsError, match=r"^lib/sub/new\.py is inside the submodule lib/sub/"):
        Workspace(with_submodule).ready(["lib/sub/new.py"])


def test_a_detached_head_is_said_once_and_the_edit_is_committed_there(root: Path) -> None:
    git(root, "checkout", "-q", "--detach")
    code, out, model = refactor(root, block("a.py", "a = 1\n", "a = 2\n"), "a.py")
    assert code == 0, out
    assert out.count(DETACHED) == 1 and len(model.seen) == 1
    assert git(root, "log", "-1", "--format=%s").startswith("refactor(a.py)")
    assert git(root, "rev-parse", "--abbrev-ref", "HEAD").strip() == "HEAD"  # still detached


def test_a_clean_branch_says_nothing(root: Path) -> None:
    assert Workspace(root).ready(["a.py"]) == ()


# -- a read-only repository -----------------------------------------------------------

# Refactor (the model must not be asked), then undo, in a repository whose .git the
# parent made read-only; prints the exit codes and the number of model calls.
CHILD = """
import argparse, io, json, os, sys
from dataclasses import replace
from pathlib import Path
from rich.console import Console
from assistant.backends.scripted import ScriptedBackend
from assistant.cli.refactor import cmd_refactor, cmd_undo
from assistant.core.config import Config
from assistant.core.session.chat import ChatSession
from assistant.core.store.ledger import Ledger
root = Path(sys.argv[1])
os.chdir(root)
base = Config()
config = replace(base, edits=replace(base.edits, whole_file_backends=()))
backend = ScriptedBackend(["a.py\\n<<<<<<< SEARCH\\na = 2\\n=======\\na = 3\\n>>>>>>> REPLACE\\n"], name="local")
session = ChatSession(config, backend, ledger=Ledger.open, project_root=root)
args = argparse.Namespace(paths=["a.py"], message="tidy", yes=True, allow_new=False)
refactored = cmd_refactor(config, args, session=session, console=Console(file=io.StringIO()))
session.close()
undone = cmd_undo(config)
print(json.dumps({"refactor": refactored, "requests": len(backend.seen), "undo": undone}), flush=True)
"""


def read_only_command(git_dir: Path, command: list[str]) -> list[str] | None:
    """`command` run where `git_dir` is read-only for it: a read-only bind mount in a
    mount namespace of its own when this is root (whom file modes do not stop), else
    the modes; None when neither can be had here."""
    if os.geteuid() != 0:
        return command
    unshare = shutil.which("unshare")
    if unshare is None:
        return None
    mount = 'mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" && exec "$@"'
    probe = subprocess.run([unshare, "-m", "sh", "-c", mount, str(git_dir), "true"], capture_output=True)
    if probe.returncode != 0:
        return None
    return [unshare, "-m", "sh", "-c", mount, str(git_dir), *command]


def test_a_read_only_repository_is_refused_before_the_model_and_undo_says_one_line(root: Path) -> None:
    Workspace(root).apply([FileChange("a.py", "a = 1\n", "a = 2\n")], PROV, lambda c: apply_changes(root, c))
    head = git(root, "rev-parse", "HEAD")
    git_dir = root / ".git"
    command = read_only_command(git_dir, [sys.executable, "-c", CHILD, str(root)])
    if command is None:
        pytest.skip("cannot make a read-only repository here: root without a mount namespace")
    modes = {d: d.stat().st_mode for d in (git_dir, git_dir / "objects")}
    if os.geteuid() != 0:
        for d in modes:
            d.chmod(0o555)
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONDONTWRITEBYTECODE": "1"}
    try:
        done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=PATIENCE)
    finally:
        for d, mode in modes.items():
            d.chmod(mode)
    assert done.stdout, done.stderr
    assert json.loads(done.stdout) == {"refactor": 1, "requests": 0, "undo": 1}
    lines = done.stderr.splitlines()
    assert len(lines) == 2, done.stderr
    for line in lines:
        assert line.startswith("assistant: the repository is read-only (") and "internal error" not in line
        assert line.endswith("edits can be neither committed nor undone in it")
    assert git(root, "rev-parse", "HEAD") == head and (root / "a.py").read_text() == "a = 2\n"
