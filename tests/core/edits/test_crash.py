"""A process killed (SIGKILL) at random moments while it applies changes never leaves a
partial file: each file is exactly its old or its new version, and `cleanup_pending`
then removes every temp file the kill left behind."""

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
KILLS = 20

# Flips every file between its two versions, as fast as it can, until it is killed.
CHILD = """
import sys
from pathlib import Path
from assistant.core.edits.files import apply_changes, read_file
from assistant.core.edits.types import FileChange
root, versions = Path(sys.argv[1]), Path(sys.argv[2])
names = sys.argv[3:]
texts = {n: [(versions / f"{i}-{n.replace('/', '_')}").read_text() for i in (0, 1)] for n in names}
print("ready", flush=True)
while True:
    changes = []
    for name in names:
        current = read_file(root, name).text
        old, new = texts[name]
        changes.append(FileChange(name, current, old if current == new else new))
    apply_changes(root, changes)
"""


def versions_of(name: str, seed: int) -> tuple[bytes, bytes]:
    """Two big versions of a file that differ from their first line on."""
    rng = random.Random(f"{seed}-{name}")
    body = "".join(f"line {i} {rng.random()}\n" for i in range(6000))  # ~150 KB
    return (f"# {name} old\n{body}".encode(), f"# {name} new\n{body[::-1][1:]}\n".encode())


def temp_files(root: Path) -> list[Path]:
    return [p for p in root.rglob(f"{files.TEMP_PREFIX}*")]


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
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONDONTWRITEBYTECODE": "1"}
    rng = random.Random(20240601)
    seen_states: set[tuple[int, ...]] = set()
    interrupted = 0
    for _ in range(KILLS):
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(root), str(versions), *NAMES],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        try:
            assert child.stdout is not None and child.stdout.readline() == b"ready\n", child.stderr
            # Let it run a random while: mid-read, mid-temp-write, between two renames...
            try:
                child.wait(timeout=rng.uniform(0.0, 0.03))
            except subprocess.TimeoutExpired:
                pass
            assert child.poll() is None, child.stderr.read() if child.stderr else ""
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait()
            for stream in (child.stdout, child.stderr):
                if stream is not None:
                    stream.close()

        state = []
        for name in NAMES:
            data = (root / name).read_bytes()
            assert data in known[name], f"{name} is neither its old nor its new version ({len(data)} bytes)"
            state.append(known[name].index(data))
        seen_states.add(tuple(state))
        left = temp_files(root)
        interrupted += bool(left) or journal.exists()

        removed = cleanup_pending(root)
        assert set(removed) == {p.resolve() for p in left}
        assert temp_files(root) == [] and not journal.exists()

    # The kills landed while files were being written, not only between two change sets.
    assert interrupted > 0
    assert len(seen_states) > 1
    # And the project is still usable: one more change set goes through whole.
    changes = [FileChange(n, (root / n).read_text(), known[n][0].decode()) for n in NAMES]
    apply_changes(root, changes)
    assert all((root / n).read_bytes() == known[n][0] for n in NAMES)
