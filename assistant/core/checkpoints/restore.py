"""Putting a project's files back as a checkpoint holds them, without losing the
user's own work, and so that a process killed half way loses nothing either.

`plan` says what a restore would do, file by file, before anything is written:
the checkpoint's version of each file that differs, except where the user changed
the file themselves. What the app changed is known exactly: each turn that may
change files has a checkpoint before it and one after it (`ours`); any difference
outside those spans (between two turns, or since the last one) is the user's. A
file the user changed last is kept as it is; a file the user changed between
turns, then a turn changed again, goes back to the user's version. With
`keep_mine` off, every file goes back to the checkpoint.

`restore` writes a journal first (the plan, in the checkpoint folder), then each
file through the one atomic writer (a file is its old bytes or its new ones,
never a part), deletions before writes, each only over what the plan saw there:
a file changed since the plan was made is left alone and said. A process killed
during a restore leaves the journal; `finish_interrupted` (at the next start)
completes every step it can, removes the temporary files a killed write left,
and says what it could not do.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from assistant.core.atomic import TEMP_PREFIX, fsync_dir, temp_path, unlink_quietly, write_atomic
from assistant.core.checkpoints.snapshots import (
    EXECUTABLE,
    GITLINK,
    LINK,
    CheckpointError,
    Difference,
    Entry,
    Snapshots,
    disk_entry,
)

JOURNAL = "restore.json"  # in the project's checkpoint folder, while a restore runs
VERSION = 1


@dataclass(frozen=True, slots=True)
class Step:
    """One file written or removed: it becomes `to` (None: removed), and only over `expect`."""

    path: str
    to: Entry | None
    expect: Entry | None
    # The user's own version between two turns (not the checkpoint's): after ours[mine].
    mine: int | None = None

    @property
    def change(self) -> str:
        """What the restore does to the file, as the preview says it."""
        return "remove" if self.to is None else "create" if self.expect is None else "restore"


@dataclass(frozen=True, slots=True)
class Kept:
    """A file that differs from the checkpoint and stays as it is: the user's."""

    path: str
    after: int | None  # changed by the user after ours[after] (None: before any of ours, or not at all ours)
    touched: bool  # one of ours changed it too (the user changed it after that)


@dataclass(frozen=True, slots=True)
class Plan:
    target: str  # the checkpoint the files go back to
    now: str  # the checkpoint of the files as they were when planned
    steps: tuple[Step, ...]
    kept: tuple[Kept, ...]

    @property
    def empty(self) -> bool:
        return not self.steps


@dataclass(frozen=True, slots=True)
class Restored:
    done: tuple[str, ...]
    # Files not written, each with why (changed since the plan, a folder in the way…).
    skipped: tuple[tuple[str, str], ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)  # what the caller put in the journal


def plan(snapshots: Snapshots, target: str, now: str, ours: Sequence[tuple[str, str]], *,
         keep_mine: bool = True) -> Plan:  # fmt: skip
    """What restoring the checkpoint `target` over the files as `now` holds them does.
    `ours`: the (before, after) checkpoints of each turn being taken back, in order."""
    differ = {d.path: d for d in snapshots.differences(target, now) if not _nested_repository(d)}
    if not keep_mine:
        return Plan(target, now, tuple(Step(p, d.old, d.new) for p, d in sorted(differ.items())), ())
    # The spans that are not ours, in order: target → ours[0].before, ours[i].after →
    # ours[i + 1].before, ours[-1].after → now; what each changed is the user's.
    states = [target, *(tree for span in ours for tree in span), now]
    theirs = [(states[i], states[i + 1]) for i in range(0, len(states), 2)]
    changed_by_user = [{d.path for d in snapshots.differences(a, b)} & differ.keys() for a, b in theirs]
    touched_by_us = set().union(*({d.path for d in snapshots.differences(a, b)} for a, b in ours)) if ours else set()
    steps, kept, back_to_mine = [], [], {}
    for path, difference in sorted(differ.items()):
        last = max((i for i, paths in enumerate(changed_by_user) if path in paths), default=None)
        if last is None:
            steps.append(Step(path, difference.old, difference.new))
        elif last == len(theirs) - 1 or path not in touched_by_us:
            kept.append(Kept(path, last - 1 if last else None, path in touched_by_us))
        else:  # the user's version, before one of ours changed it again
            back_to_mine.setdefault(last, []).append(path)
    for span, paths in back_to_mine.items():
        mine = snapshots.entries(theirs[span][1], paths)
        for path in paths:
            if mine.get(path) != differ[path].new:
                steps.append(Step(path, mine.get(path), differ[path].new, mine=span - 1))
    return Plan(target, now, tuple(sorted(steps, key=lambda s: s.path)), tuple(kept))


def restore(snapshots: Snapshots, chosen: Plan, extra: dict[str, Any] | None = None, *,
            then: Callable[[Restored], None] | None = None) -> Restored:  # fmt: skip
    """Carry out `chosen`, journalled. `extra` is kept in the journal for the caller,
    and `then` (the caller's own part, such as the ledger's) runs once the files are
    written and before the journal goes: if it raises, the journal stays, and the
    next start finishes both."""
    journal = snapshots.folder / JOURNAL
    with snapshots.locked():
        data = snapshots.blobs([s.to.blob for s in chosen.steps if s.to is not None and s.to.mode != GITLINK])
        record = {"version": VERSION, "root": str(snapshots.root), "target": chosen.target, "now": chosen.now,
                  "steps": [_step_json(s) for s in chosen.steps], "extra": extra or {}}  # fmt: skip
        try:
            write_atomic(journal, json.dumps(record).encode(), mode=0o600)
        except OSError as exc:
            raise CheckpointError(f"the restore could not start: its journal cannot be written ({exc.strerror})") from exc
        done, skipped = _carry_out(snapshots.root, chosen.steps, data, finishing=False)
    restored = Restored(done, skipped, extra or {})
    if then is not None:
        then(restored)
    unlink_quietly(journal)
    fsync_dir(journal.parent)
    return restored


def interrupted(snapshots: Snapshots) -> bool:
    """A restore's journal is there: a process was killed during one."""
    return (snapshots.folder / JOURNAL).exists()


def finish_interrupted(snapshots: Snapshots, *, then: Callable[[Restored], None] | None = None) -> Restored | None:
    """A restore a killed process left: every step whose file is still as the plan saw
    it is done now, those already done stay; what is neither is said (`skipped`).
    `then` as for `restore`. None when no restore was left."""
    journal = snapshots.folder / JOURNAL
    with snapshots.locked():
        try:
            record = json.loads(journal.read_bytes())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise CheckpointError(f"an interrupted restore's journal {journal} cannot be read ({exc})") from exc
        if not isinstance(record, dict) or not isinstance(record.get("steps"), list):
            raise CheckpointError(f"an interrupted restore's journal {journal} is damaged")
        steps = tuple(_step_from_json(s) for s in record["steps"])
        _remove_leftovers(snapshots.root, steps)
        data = snapshots.blobs([s.to.blob for s in steps if s.to is not None and s.to.mode != GITLINK])
        done, skipped = _carry_out(snapshots.root, steps, data, finishing=True)
    extra = record.get("extra")
    restored = Restored(done, skipped, extra if isinstance(extra, dict) else {})
    if then is not None:
        then(restored)
    unlink_quietly(journal)
    return restored


# -- writing ------------------------------------------------------------------------


def _carry_out(root: Path, steps: Sequence[Step], data: dict[str, bytes], *,
               finishing: bool) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:  # fmt: skip
    """Removals first (a folder may have to make room for a file), then writes."""
    done: list[str] = []
    skipped: list[tuple[str, str]] = []
    for step in sorted(steps, key=lambda s: (s.to is not None, s.path)):
        target = root / step.path
        try:
            if not _inside(root, step.path):
                skipped.append((step.path, "a folder on its way is a link now"))
                continue
            current = disk_entry(target)
            if current == step.to or (step.to is None and current is None):
                done.append(step.path)
                continue
            if current != step.expect:
                skipped.append((step.path, "changed since the rewind began" if finishing else "changed since the preview"))
                continue
            if step.to is None:
                os.unlink(target)
                _remove_empty_parents(root, target.parent)
            elif step.to.mode == GITLINK:
                skipped.append((step.path, "a repository of its own: not restored"))
                continue
            else:
                _write(target, data[step.to.blob], step.to.mode)
            done.append(step.path)
        except OSError as exc:
            skipped.append((step.path, exc.strerror or str(exc)))
    return tuple(done), tuple(skipped)


def _write(target: Path, data: bytes, mode: str) -> None:
    if target.is_dir() and not target.is_symlink():
        with contextlib.suppress(OSError):
            target.rmdir()  # left empty by the removals before; a folder with files stays (and the write fails)
    target.parent.mkdir(parents=True, exist_ok=True)
    if mode == LINK:
        temp = temp_path(target)
        os.symlink(os.fsdecode(data), temp)
        try:
            os.replace(temp, target)
        except BaseException:
            unlink_quietly(temp)
            raise
        fsync_dir(target.parent)
        return
    write_atomic(target, data, mode=_file_mode(target, executable=mode == EXECUTABLE))


def _file_mode(target: Path, *, executable: bool) -> int:
    """The mode the file keeps, with git's one bit of it (executable or not) as the checkpoint has it."""
    try:
        current = stat.S_IMODE(os.stat(target).st_mode)
    except OSError:
        current = 0o666 & ~_umask()
    if executable:
        return current | ((current & 0o444) >> 2)
    return current & ~0o111


def _umask() -> int:
    """The process's umask, read without changing it (Linux says it in /proc)."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    return 0o022


def _inside(root: Path, path: str) -> bool:
    """`path` names a place under `root` reached through no link: a restore never writes through one."""
    parts = PurePosixPath(path).parts
    if not parts or ".." in parts or PurePosixPath(path).is_absolute():
        return False
    folder = root
    for part in parts[:-1]:
        folder = folder / part
        if folder.is_symlink():
            return False
    return True


def _remove_empty_parents(root: Path, folder: Path) -> None:
    while folder != root and root in folder.parents:
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent


def _remove_leftovers(root: Path, steps: Iterable[Step]) -> None:
    """The temporary files a write killed mid-way left beside its target (`TEMP_PREFIX`…-name)."""
    for step in steps:
        target = root / step.path
        with contextlib.suppress(OSError):
            for entry in os.scandir(target.parent):
                if entry.name.startswith(TEMP_PREFIX) and entry.name.endswith("-" + target.name):
                    unlink_quietly(Path(entry.path))


def _nested_repository(d: Difference) -> bool:
    return any(e is not None and e.mode == GITLINK for e in (d.old, d.new))


def _entry_json(entry: Entry | None) -> list[str] | None:
    return None if entry is None else [entry.blob, entry.mode]


def _entry_from_json(value: object) -> Entry | None:
    if value is None:
        return None
    if not isinstance(value, list) or len(value) != 2 or not all(isinstance(v, str) for v in value):
        raise CheckpointError("an interrupted restore's journal is damaged")
    return Entry(value[0], value[1])


def _step_json(step: Step) -> dict[str, Any]:
    return {"path": step.path, "to": _entry_json(step.to), "expect": _entry_json(step.expect)}


def _step_from_json(value: Any) -> Step:  # noqa: ANN401 - JSON
    if not isinstance(value, dict) or not isinstance(value.get("path"), str):
        raise CheckpointError("an interrupted restore's journal is damaged")
    return Step(value["path"], _entry_from_json(value.get("to")), _entry_from_json(value.get("expect")))
