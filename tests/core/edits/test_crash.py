"""A process killed (SIGKILL) while it applies changes never leaves a partial file: each
file is exactly its old or its new version, and `cleanup_pending` then removes every
temp file the kill left behind.

The kill lands inside the write by construction, not by timing: the child counts the
file-system calls one change set makes (open, mkdir, fsync, replace, unlink) and pauses
before the Nth; the parent waits for the pause, then kills. Every N from the first call
to past the last is tried, so every step of the write path is interrupted once.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import assistant
from assistant.core.edits import files
from assistant.core.edits.files import apply_changes, cleanup_pending
from assistant.core.edits.types import FileChange

REPO = Path(assistant.__file__).resolve().parent.parent
NAMES = ("a.py", "pkg/b.py", "pkg/deep/c.txt", "d.md", "e.cfg")

# Flips every file to its other version in one change set, pausing before the
# file-system call numbered argv[3] (-1: never; it then says how many it made).
CHILD = """
import os, sys, time
from pathlib import Path
from assistant.core.edits.files import apply_changes, read_file
from assistant.core.edits.types import FileChange
root, versions, pause_at = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
names = sys.argv[4:]
texts = {n: [(versions / f"{i}-{n.replace('/', '_')}").read_text() for i in (0, 1)] for n in names}
changes = []
for name in names:
    current = read_file(root, name).text
    old, new = texts[name]
    changes.append(FileChange(name, current, old if current == new else new))
calls = 0
def pausing(call):
    def step(*args, **kwargs):
        global calls
        if calls == pause_at:
            print(f"paused before {call.__name__}", flush=True)
            time.sleep(600)
        calls += 1
        return call(*args, **kwargs)
    return step
for name in ("open", "mkdir", "fsync", "replace", "rename", "unlink"):
    setattr(os, name, pausing(getattr(os, name)))
apply_changes(root, changes)
print(f"done after {calls}", flush=True)
time.sleep(600)
"""


def versions_of(name: str, seed: int) -> tuple[bytes, bytes]:
    """Two big versions of a file that differ from their first line on."""
    rng = random.Random(f"{seed}-{name}")
    body = "".join(f"line {i} {rng.random()}\n" for i in range(6000))  # ~150 KB
    return (f"# {name} old\n{body}".encode(), f"# {name} new\n{body[::-1][1:]}\n".encode())


def temp_files(root: Path) -> list[Path]:
    return [p for p in root.rglob(f"{files.TEMP_PREFIX}*")]


def run_child(root: Path, versions: Path, pause_at: int) -> str:
    """Start a child that applies one change set, wait for it to pause (or finish), kill
    it, and return what it said."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONDONTWRITEBYTECODE": "1"}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(root), str(versions), str(pause_at), *NAMES],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    try:
        assert child.stdout is not None
        said = child.stdout.readline().decode()
        assert said, child.stderr.read().decode() if child.stderr else "the child said nothing"
        return said.strip()
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
        for stream in (child.stdout, child.stderr):
            if stream is not None:
                stream.close()


@pytest.mark.parametrize("with_git", [True, False], ids=["journal in .git", "journal in data dir"])
def test_sigkill_never_leaves_a_partial_file(tmp_path: Path, with_git: bool) -> None:
    root = tmp_path / "repo"
    versions = tmp_path / "versions"
    versions.mkdir()
    if with_git:
        (root / ".git").mkdir(parents=True)
    known = {}
    for name in NAMES:
        old, new = versions_of(name, seed=1)
        known[name] = (old, new)
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(old)
        for i, data in enumerate((old, new)):
            (versions / f"{i}-{name.replace('/', '_')}").write_bytes(data)
    journal = root / ".git" / files.GIT_JOURNAL if with_git else files._data_journal(create=False)

    said = run_child(root, versions, pause_at=-1)
    assert said.startswith("done after "), said
    assert all((root / n).read_bytes() == known[n][1] for n in NAMES)  # a whole change set

    # Pause before call 0, 1, 2, ... until two children in a row finish their change set
    # (one set flips files to new, the next to old: their calls can differ by a mkdir).
    seen_states: set[tuple[int, ...]] = set()
    interrupted = finished = pause_at = 0
    while finished < 2:
        said = run_child(root, versions, pause_at)
        finished = finished + 1 if said.startswith("done after ") else 0
        assert said.startswith(("paused before ", "done after ")), said
        assert pause_at < 200, "a change set of five files makes a few dozen calls"
        pause_at += 1
        state = []
        for name in NAMES:
            data = (root / name).read_bytes()
            assert data in known[name], f"{name} is neither its old nor its new version ({len(data)} bytes)"
            state.append(known[name].index(data))
        seen_states.add(tuple(state))
        left = temp_files(root)
        interrupted += bool(left) or journal.exists()

        removed = cleanup_pending(root)
        assert set(removed) == {p.resolve() for p in left}, said
        assert temp_files(root) == [] and not journal.exists()

    # The kills landed while files were being written (temp files or a journal were left),
    # and between two renames (some files new, others old), not only between change sets.
    assert interrupted > 0
    assert any(0 < sum(state) < len(NAMES) for state in seen_states), seen_states
    # And the project is still usable: one more change set goes through whole.
    changes = [FileChange(n, (root / n).read_text(), known[n][0].decode()) for n in NAMES]
    apply_changes(root, changes)
    assert all((root / n).read_bytes() == known[n][0] for n in NAMES)
