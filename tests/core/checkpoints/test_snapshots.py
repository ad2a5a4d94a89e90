"""The checkpoint store and restores, on generated projects: any state goes back to
any other byte for byte (modes and links included); the user's changes since a turn
are kept and the turn's are taken back; what a project's .gitattributes asks for
never changes the bytes kept; ignored files are not kept, and stay."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from assistant.core.checkpoints import Snapshots, plan, restore
from assistant.core.checkpoints.snapshots import KEEP_ALWAYS

NAMES = st.sampled_from(["a", "b", "c.py", "d e.txt", "ünï.md", "x"])
PATHS = st.lists(NAMES, min_size=1, max_size=3).map("/".join)
CONTENT = st.binary(max_size=300) | st.sampled_from([b"", b"\r\n", b"line\r\nline\n", b"\x00\xff"])
FILE = st.tuples(CONTENT, st.booleans())  # bytes, executable


def consistent(state: dict[str, tuple[bytes, bool]]) -> bool:
    """No path is a folder of another (a file and a folder cannot share a name)."""
    return not any(q.startswith(p + "/") for p in state for q in state)


STATES = st.dictionaries(PATHS, FILE, max_size=8).filter(consistent)


def write_state(root: Path, state: dict[str, tuple[bytes, bool]]) -> None:
    for path in sorted(root.rglob("*"), reverse=True):
        if ".git" in path.relative_to(root).parts:
            continue
        if path.is_file() or path.is_symlink():
            path.unlink()
        elif path.is_dir():
            path.rmdir()
    for name, (data, executable) in state.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        os.chmod(target, 0o755 if executable else 0o644)


def read_state(root: Path) -> dict[str, tuple[bytes, bool]]:
    return {p.relative_to(root).as_posix(): (p.read_bytes(), bool(p.stat().st_mode & stat.S_IXUSR))
            for p in root.rglob("*") if p.is_file() and ".git" not in p.relative_to(root).parts}  # fmt: skip


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(before=STATES, after=STATES)
def test_any_state_goes_back_to_any_other_byte_for_byte(tmp_path_factory, before, after) -> None:
    root = tmp_path_factory.mktemp("p")
    snapshots = Snapshots(root, folder=tmp_path_factory.mktemp("s"))
    write_state(root, before)
    old = snapshots.take()
    write_state(root, after)
    done = restore(snapshots, plan(snapshots, old, snapshots.take(), [], keep_mine=False))
    assert read_state(root) == before and not done.skipped
    assert not [p for p in root.rglob("*") if p.is_dir() and not any(p.iterdir())]  # no folder left empty


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(before=STATES, turn=STATES, user=st.dictionaries(NAMES, CONTENT, max_size=3))
def test_the_turns_changes_go_back_and_the_users_own_stay(tmp_path_factory, before, turn, user) -> None:
    root = tmp_path_factory.mktemp("p")
    snapshots = Snapshots(root, folder=tmp_path_factory.mktemp("s"))
    write_state(root, before)
    start = snapshots.take()
    write_state(root, turn)
    end = snapshots.take()
    mine = {f"u/{name}": (data, False) for name, data in user.items()}  # the user's files, after the turn
    for name, (data, _) in mine.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    edited = next(iter(turn), None)  # and one file the turn changed, changed again by the user
    # (where a file the turn took back must go, a folder holding the user's file stays: said, tested below)
    assume(edited is None or consistent({**before, edited: (b"", False)}))
    if edited is not None:
        (root / edited).write_bytes(b"the user's own\n")
    chosen = plan(snapshots, start, snapshots.take(), [(start, end)])
    restore(snapshots, chosen)
    expected = {**before, **mine}
    if edited is not None:
        expected[edited] = (b"the user's own\n", turn[edited][1])
    assert read_state(root) == expected
    assert {k.path for k in chosen.kept} >= set(mine) - set(before)


def test_gitattributes_never_change_the_bytes_kept_and_ignored_files_are_left_alone(tmp_path: Path) -> None:
    root = tmp_path / "p"
    root.mkdir()
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    (root / ".gitattributes").write_text("* text eol=crlf\n*.bin filter=lfs diff=lfs merge=lfs -text\n")
    (root / ".gitignore").write_text("build/\n")
    (root / "unix.txt").write_bytes(b"a\nb\n")
    (root / "data.bin").write_bytes(b"\x00binary\n")
    (root / "build").mkdir()
    (root / "build" / "out.o").write_bytes(b"object")
    snapshots = Snapshots(root, folder=tmp_path / "s")
    start = snapshots.take()
    (root / "unix.txt").write_bytes(b"changed\n")
    (root / "data.bin").unlink()
    (root / "build" / "out.o").write_bytes(b"rebuilt")
    restore(snapshots, plan(snapshots, start, snapshots.take(), [], keep_mine=False))
    assert (root / "unix.txt").read_bytes() == b"a\nb\n" and (root / "data.bin").read_bytes() == b"\x00binary\n"
    assert (root / "build" / "out.o").read_bytes() == b"rebuilt"  # ignored: not kept, not touched
    assert not list((root / ".git").glob("refs/checkpoints*"))  # nothing in the user's repository


def test_a_link_is_kept_as_a_link_and_a_restore_never_writes_through_one(tmp_path: Path) -> None:
    root, outside = tmp_path / "p", tmp_path / "outside"
    (root / "d").mkdir(parents=True)
    outside.mkdir()
    (root / "d" / "f.txt").write_text("inside\n")
    os.symlink("d/f.txt", root / "link")
    snapshots = Snapshots(root, folder=tmp_path / "s")
    start = snapshots.take()
    (root / "link").unlink()
    (root / "d" / "f.txt").unlink()
    (root / "d").rmdir()
    chosen = plan(snapshots, start, snapshots.take(), [], keep_mine=False)
    os.symlink(outside, root / "d")  # after the preview, a folder of the project became a link out of it
    done = restore(snapshots, chosen)
    assert os.readlink(root / "link") == "d/f.txt"
    assert not (outside / "f.txt").exists() and [p for p, _ in done.skipped] == ["d/f.txt"]


def test_pruning_keeps_the_newest_and_what_is_asked(tmp_path: Path) -> None:
    root = tmp_path / "p"
    root.mkdir()
    snapshots = Snapshots(root, folder=tmp_path / "s")
    trees = []
    for n in range(KEEP_ALWAYS + 4):
        (root / "f.txt").write_text(f"version {n}\n")
        trees.append(snapshots.take())
    assert snapshots.prune([trees[0]], count=1, max_age_s=None) == 3
    assert snapshots.exists(trees[0]) and all(snapshots.exists(t) for t in trees[-KEEP_ALWAYS:])
    assert not any(snapshots.exists(t) for t in trees[1:4])


def test_a_large_file_is_left_out_and_a_rewind_leaves_it_as_it_is(tmp_path: Path) -> None:
    root = tmp_path / "p"
    root.mkdir()
    (root / "small.txt").write_text("small\n")
    snapshots = Snapshots(root, folder=tmp_path / "s", max_file_bytes=1000)
    start = snapshots.take()
    (root / "data [v1]*.bin").write_bytes(b"x" * 5000)  # large, with the characters a pattern reads
    (root / "small.txt").write_text("changed\n")
    chosen = plan(snapshots, start, snapshots.take(), [], keep_mine=False)
    assert [s.path for s in chosen.steps] == ["small.txt"] and snapshots.large_files() == ["data [v1]*.bin"]
    restore(snapshots, chosen)
    assert (root / "data [v1]*.bin").read_bytes() == b"x" * 5000 and (root / "small.txt").read_text() == "small\n"


def test_a_project_with_too_many_files_is_not_checkpointed(tmp_path: Path) -> None:
    from assistant.core.checkpoints import CheckpointError

    root = tmp_path / "p"
    root.mkdir()
    for n in range(12):
        (root / f"f{n}.txt").write_text(str(n))
    with pytest.raises(CheckpointError, match="12 files, more than \\[checkpoints\\] max_files \\(10\\)"):
        Snapshots(root, folder=tmp_path / "s", max_files=10).take()
