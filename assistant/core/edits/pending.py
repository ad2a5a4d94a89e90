"""The record of an edit written but not committed yet, so that a crash between the two
never files the app's edit as the user's work.

`vcs` writes it in the git directory before the edit's files are written (naming each
file's sha256 before, and after as `files.written_bytes` computes it) and removes it once
the edit's commit is made. A process killed in between leaves it behind, and the next
edit, undo or `Workspace.ready` (which the CLI and the TUI call before they ask a model
for an edit) settles the edit by the bytes on disk (`settle`):
- every file holds exactly the bytes the edit wrote: the commit is made now, with the
  edit's own message and trailers, so undo reaches it;
- every file holds what it held before: nothing was written, and the record goes;
- anything else (the kill fell between two renames, or someone changed a file since):
  a file holding the edit's bytes is put back, and a file holding other bytes is the
  user's and is left as it is.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Literal, Protocol

from assistant.core.atomic import unlink_quietly, write_atomic
from assistant.core.edits.files import cleanup_pending, resolve
from assistant.core.edits.types import UnsafePath


PENDING = "assistant-pending-commit.json"  # in the git directory, beside the apply lock
MAX_BYTES = 4_000_000  # a record names at most a few thousand files and one message
_SHA256 = re.compile(r"[0-9a-f]{64}")
_OBJECT = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")  # a commit id, SHA-1 or SHA-256


@dataclass(frozen=True, slots=True)
class PendingFile:
    path: str  # relative to the work tree's top, as git names it
    before: str | None  # sha256 of its bytes before the edit; None: it did not exist
    after: str  # sha256 of the bytes the edit writes


@dataclass(frozen=True, slots=True)
class PendingCommit:
    """An edit about to be written, and the commit that must follow it."""

    head: str | None  # HEAD when the files were written (after any snapshot); None: unborn
    message: str  # the edit's commit message, trailers included
    files: tuple[PendingFile, ...]


@dataclass(frozen=True, slots=True)
class Settlement:
    """What becomes of an interrupted edit, decided by the bytes on disk."""

    action: Literal["finish", "drop", "revert"]
    put_back: tuple[str, ...] = ()  # "revert": the files holding the edit's bytes
    kept: tuple[str, ...] = ()  # "revert": the files someone changed since, left as they are


class Repository(Protocol):
    """What settling needs of the repository it acts on (vcs.py's, under its apply lock):
    named here so that this module, which vcs.py uses, does not import it back."""

    root: Path  # the project's root, inside the work tree

    @property
    def git_dir(self) -> Path: ...
    @property
    def work_tree(self) -> Path: ...
    def head(self) -> str | None: ...
    def top(self, path: str) -> str: ...
    def local(self, top_path: str) -> str: ...
    def check_ready(self, targets: Sequence[str] = ()) -> None: ...
    def dirty(self, targets: list[str]) -> list[str]: ...
    def commit(self, targets: list[str], message: str, *, must: Sequence[str] = ()) -> str | None: ...
    def run(self, *args: str, ok: tuple[int, ...] = (0,), env: dict[str, str] | None = None) -> tuple[int, str]: ...


class PendingUnreadable(ValueError):
    """The record exists but is not one this version wrote."""


def settle(pending: PendingCommit, now: Mapping[str, str | None]) -> Settlement:
    """`now`: each file's sha256 on disk (None: missing). Finishing needs every file to
    hold the edit's bytes; reverting touches only files that do, so no byte that
    someone else wrote is ever lost."""
    files = pending.files
    if all(now.get(f.path) == f.after for f in files):
        return Settlement("finish")
    if all(now.get(f.path) == f.before for f in files):
        return Settlement("drop")
    put_back = tuple(f.path for f in files if now.get(f.path) == f.after)
    kept = tuple(f.path for f in files if now.get(f.path) not in (f.after, f.before))
    return Settlement("revert", put_back, kept)


def record_edit(
    git: Repository, head: str | None, message: str, old: Mapping[str, str | None], new: Mapping[str, str | None]
) -> None:
    """Before an edit is written: its record, from each file's sha256 before (`old`) and
    after (`new`), keyed by the project-relative path; a file it leaves as it was is no
    part, and an edit that changes nothing has no record."""
    files = tuple(
        PendingFile(git.top(path), before, after)
        for path, before in old.items()
        if (after := new.get(path)) is not None and after != before
    )
    if files:
        record(git.git_dir, PendingCommit(head, message, files))
    else:
        clear(git.git_dir)


def settle_interrupted(git: Repository) -> str | None:
    """Commit (or take back) the edit a killed process wrote but did not commit, as its
    record says; the caller holds the repository's apply lock (`exclusive`). One line
    saying what was done; None when there was nothing to settle or to say (nothing had
    been written, or the commit had been made)."""
    try:
        found = read(git.git_dir)
    except PendingUnreadable as exc:
        clear(git.git_dir)
        return f"removed {git.git_dir / PENDING}, which {exc}"
    if found is None:
        return None
    git.check_ready()  # a rebase begun since, a stale index.lock: settled once they are gone
    cleanup_pending(git.root)  # the temp files of a write the kill cut short
    top = git.work_tree
    verdict = settle(found, {f.path: sha256_of(top / f.path) for f in found.files})
    subject = found.message.split("\n", 1)[0]
    said = None
    if verdict.action == "finish":
        said = _finish(git, found, subject)
    elif verdict.action == "revert":
        said = _put_back(git, found, verdict, subject)
    clear(git.git_dir)
    return said


def _finish(git: Repository, found: PendingCommit, subject: str) -> str | None:
    paths = [f.path for f in found.files]
    dirty = git.dirty(paths)
    if not dirty:  # its commit was made before the kill (or someone committed the files)
        return None
    if len(dirty) < len(paths):
        return f'an edit a crash interrupted ("{subject}") is left uncommitted: some of its files were committed since'
    commit = git.commit(paths, found.message, must=paths)
    return f'committed an edit a crash interrupted before its commit: {(commit or "")[:7]} "{subject}"'


def _put_back(git: Repository, found: PendingCommit, verdict: Settlement, subject: str) -> str:
    """Each file held HEAD's bytes before the edit (its snapshot made it so), so HEAD
    gives them back, unless commits were made since: then nothing is touched."""
    top = git.work_tree
    head = git.head()
    put_back, kept = verdict.put_back, verdict.kept
    if head != found.head:
        put_back, kept = (), (*put_back, *kept)
    for path in put_back:
        if next(f.before for f in found.files if f.path == path) is not None:
            git.run("checkout", "HEAD", "--", path)
            continue
        git.run("rm", "-q", "--cached", "--ignore-unmatch", "--", path)  # it was staged when the kill came
        try:
            if resolve(top, path) == Path(os.path.realpath(top)) / path:  # the file itself, through no link
                os.unlink(top / path)
        except (UnsafePath, FileNotFoundError):
            pass
    parts = []
    if put_back:
        shown = ", ".join(git.local(p) for p in put_back)
        parts.append(f'took back an edit a crash interrupted before its commit ("{subject}"): {shown}')
    if kept:
        why = "commits were made since" if head != found.head else "changed since"
        parts.append(f"left as it is ({why}): {', '.join(git.local(p) for p in kept)}")
    if not put_back:
        parts[0] = f'an edit a crash interrupted ("{subject}") was not committed; {parts[0]}'
    return "; ".join(parts)


def sha256_of(path: Path) -> str | None:
    """The sha256 of the file's bytes; None when there is no file there."""
    try:
        return digest(path.read_bytes())
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return None


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def record(git_dir: Path, pending: PendingCommit) -> None:
    """Write the record before any file of the edit is written (on the disk, in one rename)."""
    body = {
        "version": 1,
        "head": pending.head,
        "message": pending.message,
        "files": [[f.path, f.before, f.after] for f in pending.files],
    }
    write_atomic(git_dir / PENDING, json.dumps(body).encode(), mode=0o600)


def read(git_dir: Path) -> PendingCommit | None:
    """The record a crash left; None when there is none. PendingUnreadable when the file
    is there but is not a record (planted, or from another version)."""
    try:
        with open(git_dir / PENDING, "rb") as file:
            raw = file.read(MAX_BYTES + 1)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise PendingUnreadable(f"cannot be read ({exc.strerror or exc})") from None
    if len(raw) > MAX_BYTES:
        raise PendingUnreadable(f"is over {MAX_BYTES} bytes")
    try:
        body = json.loads(raw)
        return _parse(body)
    except (ValueError, TypeError, KeyError) as exc:
        raise PendingUnreadable(f"is not a record of an edit ({type(exc).__name__})") from None


def clear(git_dir: Path) -> None:
    unlink_quietly(git_dir / PENDING)


def _parse(body: object) -> PendingCommit:
    if not isinstance(body, dict) or body.get("version") != 1:
        raise ValueError("version")
    head, message, rows = body["head"], body["message"], body["files"]
    if not (head is None or (isinstance(head, str) and _OBJECT.fullmatch(head))):
        raise ValueError("head")
    if not isinstance(message, str) or not message.strip() or not isinstance(rows, list) or not rows:
        raise ValueError("message")
    files = []
    for row in rows:
        path, before, after = row
        if not (isinstance(path, str) and _is_relative(path)):
            raise ValueError("path")
        if not (before is None or _is_sha256(before)) or not _is_sha256(after) or before == after:
            raise ValueError("sha256")
        files.append(PendingFile(path, before, after))
    if len({f.path for f in files}) != len(files):
        raise ValueError("paths")
    return PendingCommit(head, message, tuple(files))


def _is_sha256(value: object) -> bool:
    return isinstance(value, str) and _SHA256.fullmatch(value) is not None


def _is_relative(path: str) -> bool:
    """A path inside the work tree and outside .git: the record is read back as names of
    files that may be put back, so it must not name anything else."""
    p = PurePosixPath(path)
    return (
        bool(p.parts) and path == p.as_posix() and not p.is_absolute() and ".." not in p.parts
        and p.parts[0].casefold() != ".git" and "\0" not in path
    )  # fmt: skip
