"""What git must record of an applied edit (issue 10, items 4 and 10): an edit
through an in-repository symlink is committed as its real file and undone; a
stale index.lock is refused before writing; two applies in one repository at once
never take one's edit for the other's "snapshot before edit"."""

from __future__ import annotations

import argparse
import io
import os
import threading
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import pytest
from rich.console import Console

from assistant.backends.scripted import ScriptedBackend
from assistant.cli.refactor import cmd_refactor, cmd_undo
from assistant.core.config import Config
from assistant.core.edits.files import apply_changes
from assistant.core.edits.types import EditError, FileChange
from assistant.core.edits.vcs import Provenance, VcsError, Workspace
from assistant.core.session.chat import ChatSession
from assistant.core.store.ledger import Ledger
from assistant.core.workflows.refactor import Refactorer
from tests.core.edits.gitrepo import git, make_repo
from tests.patience import PATIENCE

PROV = Provenance("local", "scripted-model", 0.0, "tidy")


def config() -> Config:
    base = Config()
    return replace(base, edits=replace(base.edits, whole_file_backends=()))


def block(name: str, search: str, replace_: str) -> str:
    return f"{name}\n<<<<<<< SEARCH\n{search}=======\n{replace_}>>>>>>> REPLACE\n"


@pytest.fixture
def linked(tmp_path: Path) -> Path:
    """A repository with real/target.py, link.py → real/target.py, and an earlier edit
    (an assistant commit of other.py) that undo must not take back instead."""
    root = tmp_path / "proj"
    (root / "real").mkdir(parents=True)
    make_repo(root, {"real/target.py": "t = 1\n", "other.py": "o = 1\n"})
    os.symlink("real/target.py", root / "link.py")
    git(root, "add", "link.py")
    git(root, "commit", "-qm", "link")
    return root


def run(root: Path, answers: list[str], *paths: str) -> tuple[int, str]:
    session = ChatSession(config(), ScriptedBackend(answers, name="local"), ledger=Ledger.open, project_root=root,
                          batch=len(paths) > 1)
    out = io.StringIO()
    args = argparse.Namespace(paths=list(paths), message="tidy", yes=True, allow_new=False)
    return cmd_refactor(config(), args, session=session, console=Console(file=out, width=200)), out.getvalue()


def test_an_edit_through_a_symlink_commits_the_real_file_and_undo_takes_it_back(
    linked: Path, monkeypatch
) -> None:
    """Was: written, not committed ("nothing to commit"), and undo took back other.py's edit."""
    monkeypatch.chdir(linked)
    code, _ = run(linked, [block("other.py", "o = 1\n", "o = 2\n")], "other.py")
    assert code == 0
    code, out = run(linked, [block("link.py", "t = 1\n", "t = 2\n")], "link.py")
    assert code == 0, out
    assert "link.py → real/target.py" in out
    assert (linked / "real/target.py").read_text() == "t = 2\n" and os.path.islink(linked / "link.py")
    assert git(linked, "show", "--name-only", "--format=", "HEAD").split() == ["real/target.py"]
    assert git(linked, "status", "--porcelain") == ""

    assert cmd_undo(config()) == 0
    assert (linked / "real/target.py").read_text() == "t = 1\n"
    assert (linked / "other.py").read_text() == "o = 2\n"  # the earlier edit stays
    assert os.path.islink(linked / "link.py")


def test_outside_git_a_backup_through_a_symlink_keeps_the_link(tmp_path: Path) -> None:
    root = tmp_path / "plain"
    (root / "real").mkdir(parents=True)
    (root / "real/target.py").write_text("t = 1\n")
    os.symlink("real/target.py", root / "link.py")
    ws = Workspace(root, backups_dir=tmp_path / "backups")
    change = FileChange("link.py", "t = 1\n", "t = 2\n")
    committed = ws.apply([change], PROV, lambda ch: apply_changes(root, ch))
    assert committed.paths == ("real/target.py",)
    ws.undo()
    assert os.path.islink(root / "link.py") and (root / "real/target.py").read_text() == "t = 1\n"


def test_a_write_git_does_not_see_is_an_error_not_a_silent_nothing(tmp_path: Path) -> None:
    """A writer that changes a file git does not record (here: another one than the
    edit names) must not end in an edit that undo cannot find."""
    root = make_repo(tmp_path / "proj", {"a.py": "a = 1\n"})

    def sneaky(changes: Sequence[FileChange]) -> None:
        (root / "a.py").write_text("a = 2\n")
        git(root, "add", "a.py")
        git(root, "commit", "-qm", "someone else")  # so git sees no change left to commit

    with pytest.raises(VcsError, match="git sees no change in a.py although it was written"):
        Workspace(root).apply([FileChange("a.py", "a = 1\n", "a = 2\n")], PROV, sneaky)


def test_a_stale_index_lock_is_refused_before_anything_is_written(tmp_path: Path, monkeypatch, capsys) -> None:
    """Was: the files were written, then the commit failed on index.lock. (Since issue 24
    it is refused before the model is asked, on stderr as every refusal before it is.)"""
    root = make_repo(tmp_path / "proj", {"a.py": "a = 1\n"})
    (root / ".git" / "index.lock").write_text("")
    monkeypatch.chdir(root)
    code, out = run(root, [block("a.py", "a = 1\n", "a = 2\n")], "a.py")
    out += capsys.readouterr().err
    assert code == 1
    assert "a git process may be running, or one was killed" in out and "index.lock" in out
    assert (root / "a.py").read_text() == "a = 1\n"


def test_two_applies_at_once_never_commit_one_as_the_others_snapshot(tmp_path: Path) -> None:
    """Was: B saw A's written (not yet committed) edit as the user's work and committed
    it as "snapshot before edit"; now B waits for A, then finds its file changed."""
    root = make_repo(tmp_path / "proj", {"a.py": "a = 1\n"})
    a_written = threading.Event()
    errors: dict[str, Exception] = {}

    def slow_write(changes: Sequence[FileChange]) -> None:
        apply_changes(root, changes)
        a_written.set()
        time.sleep(0.5)  # A's commit comes late: B must not slip in between

    def apply(name: str, after: str, write) -> None:
        try:
            Workspace(root).apply([FileChange("a.py", "a = 1\n", after)], PROV, write)
        except EditError as exc:
            errors[name] = exc

    first = threading.Thread(target=apply, args=("A", "a = 2\n", slow_write))
    first.start()
    assert a_written.wait(PATIENCE)
    second = threading.Thread(target=apply, args=("B", "a = 3\n", lambda ch: apply_changes(root, ch)))
    second.start()
    first.join(PATIENCE)
    second.join(PATIENCE)
    assert "A" not in errors and "changed since the proposal" in str(errors["B"])
    subjects = git(root, "log", "--format=%s").splitlines()
    assert subjects == ["refactor(a.py): tidy", "init"]
    assert (root / "a.py").read_text() == "a = 2\n"


def test_two_refactorers_in_two_processes_apply_one_edit(tmp_path: Path) -> None:
    """The lock is a file lock (flock), so it holds between processes too."""
    import subprocess
    import sys

    root = make_repo(tmp_path / "proj", {"a.py": "a = 1\n"})
    code = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from assistant.core.edits.files import apply_changes\n"
        "from assistant.core.edits.types import FileChange, EditError\n"
        "from assistant.core.edits.vcs import Provenance, Workspace\n"
        "root = Path(sys.argv[1])\n"
        "def write(ch):\n"
        "    apply_changes(root, ch); time.sleep(0.3)\n"
        "try:\n"
        "    Workspace(root).apply([FileChange('a.py', 'a = 1\\n', sys.argv[2])], "
        "Provenance('local', 'm', 0.0, 'tidy'), write)\n"
        "    print('applied')\n"
        "except EditError as e:\n"
        "    print('refused', e)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, str(root), f"a = {n}\n"], stdout=subprocess.PIPE, text=True, env=env
        )
        for n in (2, 3)
    ]
    outs = sorted(p.communicate(timeout=PATIENCE)[0].strip() for p in procs)
    assert outs[0] == "applied" and outs[1].startswith("refused") and "changed since" in outs[1]
    assert len(git(root, "log", "--format=%s").splitlines()) == 2  # init + one edit, no snapshot


def test_refactorer_refuses_a_changed_file_after_waiting(tmp_path: Path) -> None:
    """Through the Refactorer: a proposal made before another edit landed is refused."""
    root = make_repo(tmp_path / "proj", {"a.py": "a = 1\n"})
    session = ChatSession(
        config(), ScriptedBackend([block("a.py", "a = 1\n", "a = 2\n")], name="local"),
        ledger=Ledger.open, project_root=root,
    )
    r = Refactorer(session, root)
    one = r.propose("a.py", "x", threading.Event())
    two = r.propose("a.py", "x", threading.Event())
    r.apply(one)
    with pytest.raises(EditError, match="changed since the proposal"):
        r.apply(two)
    assert len(git(root, "log", "--format=%s").splitlines()) == 2
