"""Edits recorded in real git repositories (and backups outside git), and undone."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from git import Repo

from assistant.core.edits.types import FileChange
from assistant.core.edits.vcs import (
    Committed,
    Provenance,
    VcsError,
    Workspace,
    commit_message,
)

PROV = Provenance(backend="claude", model="claude-sonnet-5-5", cost=0.0123, instruction="rename x to y")


@pytest.fixture(autouse=True)
def hermetic_git(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No global or system git config (signing, hooks, identity) leaks into the tests."""
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("ASSISTANT_HOME", str(tmp_path / "home"))


def make_repo(path: Path, files: dict[str, str] | None = None) -> Repo:
    path.mkdir(parents=True, exist_ok=True)
    repo = Repo.init(path)
    with repo.config_writer() as cfg:
        cfg.set_value("user", "name", "Tester")
        cfg.set_value("user", "email", "tester@example.com")
        cfg.set_value("commit", "gpgsign", "false")
    if files:
        for name, text in files.items():
            put(path, name, text)
        git(path, "add", "-A")
        git(path, "commit", "-q", "-m", "initial")
    return repo


@pytest.fixture
def repo(tmp_path: Path) -> Iterator[Repo]:
    repo = make_repo(tmp_path / "project", {"a.py": "x = 1\n", "b.py": "b = 1\n", "c.py": "c = 1\n"})
    yield repo
    repo.close()


def put(root: Path, name: str, text: str) -> None:
    (root / name).parent.mkdir(parents=True, exist_ok=True)
    (root / name).write_bytes(text.encode())


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True).stdout


def status(root: Path) -> list[str]:
    return git(root, "status", "--porcelain", "--untracked-files=all").splitlines()


def subject(root: Path, rev: str = "HEAD") -> str:
    return git(root, "log", "-1", "--format=%s", rev).strip()


def committed_files(root: Path, rev: str = "HEAD") -> list[str]:
    return git(root, "diff-tree", "-r", "--root", "--no-commit-id", "--name-only", rev).split()


def trailers(root: Path, rev: str = "HEAD") -> dict[str, str]:
    body = git(root, "log", "-1", "--format=%B", rev)
    parsed = subprocess.run(
        ["git", "interpret-trailers", "--parse"], input=body, capture_output=True, text=True, check=True
    ).stdout
    return dict(line.split(": ", 1) for line in parsed.splitlines())


def tree_hash(root: Path) -> str:
    """Every file's path, mode and bytes, outside .git."""
    h = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if ".git" not in p.relative_to(root).parts):
        mode = stat.S_IMODE(path.lstat().st_mode)
        h.update(f"{path.relative_to(root).as_posix()} {oct(mode)} {path.is_dir()}\n".encode())
        if path.is_file():
            h.update(path.read_bytes())
    return h.hexdigest()


class DiskWriter:
    """Stands in for the atomic writer: applies the changes and remembers the calls."""

    def __init__(self, root: Path, fail: bool = False) -> None:
        self.root, self.fail, self.calls = root, fail, 0

    def __call__(self, changes: Sequence[FileChange]) -> None:
        self.calls += 1
        if self.fail:
            raise OSError("disk full")
        for change in changes:
            put(self.root, change.path, change.after)  # an existing file keeps its mode


def change(root: Path, path: str, after: str) -> FileChange:
    file = root / path
    return FileChange(path, file.read_text() if file.exists() else None, after)


# -- the message ----------------------------------------------------------------------


def test_commit_message_subject_and_trailers(tmp_path: Path) -> None:
    message = commit_message(["a.py"], "rename x to y", PROV)
    assert message.splitlines()[:2] == ["refactor(a.py): rename x to y", ""]
    (tmp_path / "m").write_text(message)
    parsed = git(tmp_path, "interpret-trailers", "--parse", "m").splitlines()
    assert parsed == [
        "Assistant-Backend: claude",
        "Assistant-Model: claude-sonnet-5-5",
        "Assistant-Cost: $0.0123",
    ]


def test_commit_message_unknown_cost_and_scopes() -> None:
    unknown = Provenance("local", "smollm2", None, "x")
    assert "Assistant-Cost: unknown" in commit_message(["a.py"], "x", unknown)
    assert commit_message(["a.py", "b.py"], "x", PROV).startswith("refactor(a.py, b.py): x\n")
    many = [f"pkg/module_{i}.py" for i in range(3)]
    assert commit_message(many, "x", PROV).startswith("refactor(3 files): x\n")


def test_long_instruction_is_shortened_in_the_subject_and_kept_below() -> None:
    instruction = "make every function in this module take a timeout argument " * 3
    message = commit_message(["src/assistant/core/edits/vcs.py"], instruction, PROV)
    first = message.splitlines()[0]
    assert len(first) <= 72 and first.endswith("…")
    assert first.startswith("refactor(src/assistant/core/edits/vcs.py): make every")
    paragraphs = message.strip().split("\n\n")
    assert paragraphs[1] == instruction.strip()
    assert paragraphs[-1].startswith("Assistant-Backend: claude")


# -- applying in git ------------------------------------------------------------------


def test_apply_in_a_clean_repo_makes_one_commit_of_those_files(repo: Repo) -> None:
    root = Path(repo.working_tree_dir)
    before_head = repo.head.commit.hexsha
    changes = [change(root, "a.py", "y = 1\n"), change(root, "new/d.py", "d = 1\n")]
    result = Workspace(root).apply(changes, PROV, DiskWriter(root))
    assert result == Committed("git", repo.head.commit.hexsha, None, None, ("a.py", "new/d.py"))
    assert git(root, "rev-parse", "HEAD~1").strip() == before_head
    assert sorted(committed_files(root)) == ["a.py", "new/d.py"]
    assert subject(root) == "refactor(a.py, new/d.py): rename x to y"
    assert trailers(root)["Assistant-Model"] == "claude-sonnet-5-5"
    assert repo.head.commit.trailers_dict["Assistant-Backend"] == ["claude"]
    assert status(root) == []


def test_dirty_target_is_snapshotted_and_other_files_are_left_exactly(repo: Repo) -> None:
    root = Path(repo.working_tree_dir)
    put(root, "a.py", "x = 2  # mine\n")  # the target, dirty
    put(root, "b.py", "b = 2\n")  # unrelated, dirty
    put(root, "c.py", "c = 2\n")
    git(root, "add", "c.py")  # unrelated, staged
    put(root, "c.py", "c = 3\n")  # …and changed again after staging
    put(root, "notes.txt", "todo\n")  # untracked
    others = [line for line in status(root) if "a.py" not in line]
    staged = git(root, "ls-files", "-s", "c.py")

    result = Workspace(root).apply([change(root, "a.py", "y = 2  # mine\n")], PROV, DiskWriter(root))

    assert result.snapshot == repo.head.commit.parents[0].hexsha
    assert subject(root, result.snapshot) == "snapshot before edit: a.py"
    assert committed_files(root, result.snapshot) == ["a.py"]
    assert git(root, "show", f"{result.snapshot}:a.py") == "x = 2  # mine\n"
    assert trailers(root, result.snapshot)["Assistant-Backend"] == "claude"
    assert committed_files(root) == ["a.py"]
    assert git(root, "show", "HEAD:a.py") == "y = 2  # mine\n"
    assert status(root) == others
    assert git(root, "ls-files", "-s", "c.py") == staged


def test_untracked_target_is_snapshotted_before_it_is_edited(repo: Repo) -> None:
    root = Path(repo.working_tree_dir)
    put(root, "draft.py", "draft\n")
    result = Workspace(root).apply([change(root, "draft.py", "final\n")], PROV, DiskWriter(root))
    assert result.snapshot is not None
    assert git(root, "show", f"{result.snapshot}:draft.py") == "draft\n"
    assert git(root, "show", "HEAD:draft.py") == "final\n"


def test_refuse_policy_raises_and_writes_nothing(repo: Repo) -> None:
    root = Path(repo.working_tree_dir)
    put(root, "a.py", "x = 2\n")
    head, before = repo.head.commit.hexsha, status(root)
    writer = DiskWriter(root)
    with pytest.raises(VcsError, match=r'^a\.py has uncommitted changes: .*edits\.dirty = "snapshot"$'):
        Workspace(root, dirty="refuse").apply([change(root, "a.py", "y\n")], PROV, writer)
    assert writer.calls == 0
    assert repo.head.commit.hexsha == head and status(root) == before
    assert (root / "a.py").read_text() == "x = 2\n"


def test_unborn_repository(tmp_path: Path) -> None:
    root = tmp_path / "fresh"
    repo = make_repo(root)
    put(root, "other.txt", "not mine\n")
    result = Workspace(root).apply([change(root, "a.py", "a = 1\n")], PROV, DiskWriter(root))
    assert result.commit == repo.head.commit.hexsha and result.snapshot is None
    assert committed_files(root) == ["a.py"] and not repo.head.commit.parents
    assert status(root) == ["?? other.txt"]
    assert "undid" in Workspace(root).undo()
    assert not (root / "a.py").exists() and (root / "other.txt").exists()
    repo.close()


def test_detached_head(repo: Repo) -> None:
    root = Path(repo.working_tree_dir)
    git(root, "checkout", "-q", "--detach")
    result = Workspace(root).apply([change(root, "a.py", "y\n")], PROV, DiskWriter(root))
    assert repo.head.is_detached and repo.head.commit.hexsha == result.commit


def test_write_failing_commits_nothing_of_the_edit(repo: Repo) -> None:
    root = Path(repo.working_tree_dir)
    head = repo.head.commit.hexsha
    with pytest.raises(OSError, match="disk full"):
        Workspace(root).apply([change(root, "a.py", "y\n")], PROV, DiskWriter(root, fail=True))
    assert repo.head.commit.hexsha == head and status(root) == []


def test_write_failing_after_a_snapshot_keeps_only_the_snapshot(repo: Repo) -> None:
    root = Path(repo.working_tree_dir)
    head = repo.head.commit.hexsha
    put(root, "a.py", "x = 2\n")
    with pytest.raises(OSError):
        Workspace(root).apply([change(root, "a.py", "y\n")], PROV, DiskWriter(root, fail=True))
    assert subject(root) == "snapshot before edit: a.py"
    assert repo.head.commit.parents[0].hexsha == head and status(root) == []


def test_a_merge_in_progress_is_refused(repo: Repo) -> None:
    root = Path(repo.working_tree_dir)
    (Path(repo.git_dir) / "MERGE_HEAD").write_text(repo.head.commit.hexsha + "\n")
    writer = DiskWriter(root)
    with pytest.raises(VcsError, match="^a merge is in progress"):
        Workspace(root).apply([change(root, "a.py", "y\n")], PROV, writer)
    assert writer.calls == 0


def test_a_commit_failing_after_the_write_says_the_edit_is_on_disk(repo: Repo) -> None:
    root = Path(repo.working_tree_dir)

    def write_then_lock(changes: Sequence[FileChange]) -> None:
        DiskWriter(root)(changes)
        (Path(repo.git_dir) / "index.lock").touch()  # another git command holds the index

    with pytest.raises(VcsError, match="^the edit was written but not committed: git add failed"):
        Workspace(root).apply([change(root, "a.py", "y\n")], PROV, write_then_lock)
    assert (root / "a.py").read_text() == "y\n"


def test_an_edit_that_changes_nothing_makes_no_commit(repo: Repo) -> None:
    root = Path(repo.working_tree_dir)
    head = repo.head.commit.hexsha
    result = Workspace(root).apply([change(root, "a.py", "x = 1\n")], PROV, DiskWriter(root))
    assert result.commit is None and repo.head.commit.hexsha == head


def test_ignored_target_is_refused_before_writing(repo: Repo) -> None:
    root = Path(repo.working_tree_dir)
    put(root, ".gitignore", "*.log\n")
    writer = DiskWriter(root)
    with pytest.raises(VcsError, match=r"^out\.log is ignored by git"):
        Workspace(root).apply([change(root, "out.log", "x\n")], PROV, writer)
    assert writer.calls == 0


def test_project_in_a_subfolder_of_the_repository(tmp_path: Path) -> None:
    top = tmp_path / "mono"
    repo = make_repo(top, {"proj/a.py": "a\n", "other/a.py": "other\n"})
    root = top / "proj"
    Workspace(root).apply([change(root, "a.py", "b\n")], PROV, DiskWriter(root))
    assert committed_files(top) == ["proj/a.py"] and subject(top) == "refactor(a.py): rename x to y"
    assert (top / "other/a.py").read_text() == "other\n"
    Workspace(root).undo()
    assert (root / "a.py").read_text() == "a\n"
    repo.close()


def test_paths_are_names_not_patterns(repo: Repo) -> None:
    root = Path(repo.working_tree_dir)
    put(root, "b.py", "b = 2\n")  # would match a `*.py` pattern
    Workspace(root).apply([change(root, "*.py", "star\n")], PROV, DiskWriter(root))
    assert committed_files(root) == ["*.py"] and status(root) == [" M b.py"]


# -- undo in git ----------------------------------------------------------------------


def test_undo_restores_the_exact_tree_with_a_new_commit(repo: Repo) -> None:
    root = Path(repo.working_tree_dir)
    (root / "a.py").chmod(0o755)
    git(root, "commit", "-q", "-am", "executable")
    original, edit_parent = tree_hash(root), repo.head.commit.hexsha
    changes = [change(root, "a.py", "y\n"), change(root, "pkg/sub/new.py", "n\n")]
    result = Workspace(root).apply(changes, PROV, DiskWriter(root))

    said = Workspace(root).undo()

    assert (
        said
        == f'undid {result.commit[:7]} "refactor(a.py, pkg/sub/new.py): rename x to y": a.py, pkg/sub/new.py'
    )
    assert tree_hash(root) == original and status(root) == []
    assert not (root / "pkg").exists()
    assert subject(root) == "undo: refactor(a.py, pkg/sub/new.py): rename x to y"
    assert trailers(root) == {"Assistant-Undo": result.commit}
    assert git(root, "rev-parse", "HEAD~1").strip() == result.commit
    assert git(root, "rev-parse", "HEAD^{tree}") == git(root, "rev-parse", f"{edit_parent}^{{tree}}")


def test_undo_after_a_snapshot_gives_back_the_users_work(repo: Repo) -> None:
    root = Path(repo.working_tree_dir)
    put(root, "a.py", "x = 2  # mine\n")
    put(root, "b.py", "b = 2\n")
    before, others = tree_hash(root), status(root)
    Workspace(root).apply([change(root, "a.py", "y\n")], PROV, DiskWriter(root))
    Workspace(root).undo()
    assert tree_hash(root) == before and status(root) == [line for line in others if "a.py" not in line]


def test_undo_repeats_back_through_earlier_edits_and_stops_at_the_users_commit(repo: Repo) -> None:
    root = Path(repo.working_tree_dir)
    original = tree_hash(root)
    ws = Workspace(root)
    ws.apply([change(root, "a.py", "one\n")], PROV, DiskWriter(root))
    middle = tree_hash(root)
    ws.apply([change(root, "a.py", "two\n"), change(root, "b.py", "two\n")], PROV, DiskWriter(root))
    ws.undo()
    assert tree_hash(root) == middle
    ws.undo()
    assert tree_hash(root) == original
    with pytest.raises(
        VcsError, match=r'^nothing left to undo: [0-9a-f]{7} "initial" is not an assistant edit$'
    ):
        ws.undo()


def test_undo_refuses_when_someone_committed_since(repo: Repo) -> None:
    root = Path(repo.working_tree_dir)
    Workspace(root).apply([change(root, "a.py", "y\n")], PROV, DiskWriter(root))
    put(root, "b.py", "typo fixed\n")
    git(root, "commit", "-q", "-am", "fix typo")
    head = repo.head.commit.hexsha
    with pytest.raises(VcsError) as refused:
        Workspace(root).undo()
    assert (
        str(refused.value)
        == f'HEAD is not an assistant commit (someone committed since: {head[:7]} "fix typo")'
    )
    assert repo.head.commit.hexsha == head and (root / "a.py").read_text() == "y\n"


@pytest.mark.parametrize("how", ["worktree", "staged", "mode"])
def test_undo_refuses_when_the_file_changed_since(repo: Repo, how: str) -> None:
    root = Path(repo.working_tree_dir)
    Workspace(root).apply([change(root, "a.py", "y\n")], PROV, DiskWriter(root))
    head = repo.head.commit.hexsha
    if how == "mode":
        (root / "a.py").chmod(0o755)
    else:
        put(root, "a.py", "y = 'more'\n")
    if how == "staged":
        git(root, "add", "a.py")
        put(root, "a.py", "y\n")  # the work tree as the edit left it; the index is not
    before = tree_hash(root), status(root)
    with pytest.raises(VcsError, match=r"^a\.py changed since the edit: commit or discard that first$"):
        Workspace(root).undo()
    assert repo.head.commit.hexsha == head and (tree_hash(root), status(root)) == before


def test_undo_in_a_repository_without_commits(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "empty")
    with pytest.raises(VcsError, match="no commits yet"):
        Workspace(tmp_path / "empty").undo()
    repo.close()


# -- outside git ----------------------------------------------------------------------


@pytest.fixture
def plain(tmp_path: Path) -> Path:
    root = tmp_path / "plain"
    put(root, "a.py", "x = 1\r\n\xe9\n")
    put(root, "run.sh", "echo hi\n")
    (root / "run.sh").chmod(0o755)
    return root


def test_backup_then_undo_restores_the_exact_bytes(plain: Path, tmp_path: Path) -> None:
    backups = tmp_path / "backups"
    original = tree_hash(plain)
    ws = Workspace(plain, backups_dir=backups)
    assert not ws.is_git
    changes = [
        change(plain, "a.py", "y\n"),
        change(plain, "run.sh", "echo bye\n"),
        change(plain, "n/e/w.py", "w\n"),
    ]
    result = ws.apply(changes, PROV, DiskWriter(plain))

    assert result.kind == "backup" and result.commit is None and result.backup_id
    manifest = json.loads((backups / result.backup_id / "manifest.json").read_text())
    assert manifest["root"] == str(plain.resolve())
    assert manifest["existed"] == {"a.py": True, "run.sh": True, "n/e/w.py": False}
    assert manifest["sha256"]["a.py"] == hashlib.sha256(b"y\n").hexdigest()
    assert manifest["time"]

    assert ws.undo() == f"restored a.py, run.sh, n/e/w.py from backup {result.backup_id}"
    assert tree_hash(plain) == original
    assert not (backups / result.backup_id).exists()
    with pytest.raises(VcsError, match="^nothing to undo"):
        ws.undo()


def test_backups_undo_one_edit_at_a_time(plain: Path, tmp_path: Path) -> None:
    ws = Workspace(plain, backups_dir=tmp_path / "backups")
    original = tree_hash(plain)
    ws.apply([change(plain, "a.py", "one\n")], PROV, DiskWriter(plain))
    middle = tree_hash(plain)
    ws.apply([change(plain, "a.py", "two\n")], PROV, DiskWriter(plain))
    ws.undo()
    assert tree_hash(plain) == middle
    ws.undo()
    assert tree_hash(plain) == original


def test_backup_undo_refuses_when_a_file_changed_since(plain: Path, tmp_path: Path) -> None:
    ws = Workspace(plain, backups_dir=tmp_path / "backups")
    ws.apply([change(plain, "a.py", "y\n")], PROV, DiskWriter(plain))
    put(plain, "a.py", "mine\n")
    with pytest.raises(VcsError, match=r"^a\.py changed since the edit"):
        ws.undo()
    assert (plain / "a.py").read_text() == "mine\n"


def test_backup_is_dropped_when_write_fails_before_writing(plain: Path, tmp_path: Path) -> None:
    ws = Workspace(plain, backups_dir=tmp_path / "backups")
    with pytest.raises(OSError):
        ws.apply([change(plain, "a.py", "y\n")], PROV, DiskWriter(plain, fail=True))
    assert list((tmp_path / "backups").iterdir()) == []


def test_backups_default_to_the_data_dir(plain: Path, tmp_path: Path) -> None:
    result = Workspace(plain).apply([change(plain, "a.py", "y\n")], PROV, DiskWriter(plain))
    assert (tmp_path / "home" / "data" / "backups" / str(result.backup_id) / "manifest.json").is_file()


def test_paths_outside_the_project_are_refused(plain: Path, tmp_path: Path) -> None:
    ws = Workspace(plain, backups_dir=tmp_path / "backups")
    with pytest.raises(VcsError, match="not a path inside the project"):
        ws.apply([FileChange("../x.py", None, "x")], PROV, DiskWriter(plain))


def test_importing_the_module_does_not_load_gitpython() -> None:
    code = "import sys, assistant.core.edits.vcs; print('git' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False", out.stderr


# -- no hook runs --------------------------------------------------------------------


@pytest.mark.parametrize("user_config_count", [None, "1"])
def test_no_git_hook_runs_when_the_app_commits_even_one_in_the_work_tree(
    repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, user_config_count: str | None
) -> None:
    """`core.hooksPath = .githooks` (husky's way) puts the hooks where an edit can
    write them: a post-commit hook there (which `--no-verify` does not skip) would
    run model-written code with the user's secrets on the app's own commit (issue 24)."""
    root = Path(repo.working_tree_dir)
    marker = tmp_path / "hook-ran"
    hook = root / ".githooks" / "post-commit"
    hook.parent.mkdir()
    hook.write_text(f"#!/bin/sh\necho \"$ANTHROPIC_API_KEY\" >> {marker}\n")
    hook.chmod(0o755)
    git(root, "config", "core.hooksPath", ".githooks")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "hooks")
    marker.unlink()  # the user's own commit ran it: the hook works
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-secret")
    if user_config_count:  # the user's own config in the environment stays in force
        monkeypatch.setenv("GIT_CONFIG_COUNT", user_config_count)
        monkeypatch.setenv("GIT_CONFIG_KEY_0", "user.name")
        monkeypatch.setenv("GIT_CONFIG_VALUE_0", "From Env")
    ws = Workspace(root)
    ws.apply([change(root, "a.py", "x = 2\n")], PROV, DiskWriter(root))
    ws.undo()
    assert not marker.exists()
    if user_config_count:
        assert git(root, "log", "-1", "--format=%an").strip() == "From Env"
