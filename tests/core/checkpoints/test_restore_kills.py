"""A restore killed with SIGKILL at random moments (50 times) never leaves a partial
file: each file holds its bytes from before or from after, and the next start
(`finish_interrupted`) completes the restore from its journal, leaving no temporary
file behind. Each round restores the other state, so every kill lands in a restore."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from assistant.core.atomic import TEMP_PREFIX
from assistant.core.checkpoints import Snapshots, finish_interrupted
from assistant.core.checkpoints.restore import interrupted
from assistant.core.checkpoints.snapshots import blob_id, disk_entry

KILLS = 50
FILES = 120

CHILD = """
import sys
from pathlib import Path
from assistant.core.checkpoints import Snapshots, plan, restore
snapshots = Snapshots(Path(sys.argv[1]), folder=Path(sys.argv[2]))
chosen = plan(snapshots, sys.argv[3], snapshots.take(), [], keep_mine=False)
print("ready", flush=True)
restore(snapshots, chosen)
print("done", flush=True)
"""


def write_state(root: Path, state: dict[str, bytes]) -> None:
    for path in root.rglob("*"):
        if path.is_file() and path.relative_to(root).as_posix() not in state:
            path.unlink()
    for name, data in state.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)


def states(rng: random.Random) -> tuple[dict[str, bytes], dict[str, bytes]]:
    names = [f"pkg{i % 6}/mod{i}.py" for i in range(FILES)]
    a = {n: rng.randbytes(rng.randint(2000, 8000)) for n in names[: FILES - 10]}
    b = {n: rng.randbytes(rng.randint(2000, 8000)) if i % 3 else a[n] for i, n in enumerate(names[: FILES - 20])}
    b.update({n: rng.randbytes(3000) for n in names[FILES - 10 :]})  # created; the 10 before them: deleted
    return a, b


def blobs(state: dict[str, bytes]) -> dict[str, str]:
    return {name: blob_id(data) for name, data in state.items()}


def on_disk(root: Path, names: set[str]) -> dict[str, str | None]:
    return {n: (e.blob if (e := disk_entry(root / n)) is not None else None) for n in names}


def test_fifty_kills_during_restores_never_leave_a_partial_file(tmp_path: Path) -> None:
    rng = random.Random(28)
    root, folder = tmp_path / "proj", tmp_path / "store"
    root.mkdir()
    a, b = states(rng)
    snapshots = Snapshots(root, folder=folder)
    write_state(root, b)
    tree_b = snapshots.take()
    write_state(root, a)
    tree_a = snapshots.take()
    trees, wanted = {"a": tree_a, "b": tree_b}, {"a": blobs(a), "b": blobs(b)}
    names = set(a) | set(b)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[3])}

    def run(target: str) -> subprocess.Popen[str]:
        return subprocess.Popen([sys.executable, "-c", CHILD, str(root), str(folder), trees[target]], env=env,
                                stdout=subprocess.PIPE, text=True)  # fmt: skip

    start = time.monotonic()  # how long a whole restore takes here, to spread the kills over it
    child = run("b")
    assert child.communicate(timeout=120)[0].split() == ["ready", "done"]
    span = time.monotonic() - start
    assert on_disk(root, names) == {n: wanted["b"].get(n) for n in names}

    current, finished_journals = "b", 0
    for _ in range(KILLS):
        target = "a" if current == "b" else "b"
        child = run(target)
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0, span / 2))
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=60)
        now = on_disk(root, names)
        for name in names:  # every file is its old bytes or its new ones, never a part
            assert now[name] in (wanted[current].get(name), wanted[target].get(name)), name
        left = interrupted(snapshots)
        finished = finish_interrupted(snapshots)
        assert (finished is not None) == left
        if left:
            finished_journals += 1
            assert on_disk(root, names) == {n: wanted[target].get(n) for n in names}
        assert not [p for p in root.rglob(f"{TEMP_PREFIX}*")]
        done = on_disk(root, names)
        if done == {n: wanted[target].get(n) for n in names}:
            current = target
        else:  # killed before the journal: nothing had changed
            assert done == {n: wanted[current].get(n) for n in names}
    print("journals finished", finished_journals)
    assert finished_journals >= KILLS // 4  # most kills landed inside a restore, not before or after it
