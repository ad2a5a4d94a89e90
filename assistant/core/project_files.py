"""The files of a project, as a person would name them: what git tracks or would
track (ignored files left out), else what a walk of the folder finds.

One listing for whatever needs the project's files by name: Tab completion of an
`@path` in the prompt, an `@folder/` or a glob in a message. Listing runs a
process or walks the disk, so callers run it off the UI thread; `ProjectPaths`
then answers each completion from memory, one folder's entries at a time.
"""

from __future__ import annotations

import collections
import os
import posixpath
import stat
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

# Enough for any project a person completes paths in; a home folder or a monorepo
# stops here instead of filling memory (and then lacks the names past it).
MAX_FILES = 50_000
GIT_TIMEOUT = 10.0  # seconds; a git that takes longer lists nothing rather than hang a worker
# Never walked outside git: hidden folders (.git, .venv, .cache, …) and these.
SKIPPED_FOLDERS = frozenset({"node_modules", "__pycache__"})


def project_files(root: Path, *, limit: int = MAX_FILES) -> list[str]:
    """The project's files under `root`, as sorted POSIX paths relative to it.

    In a git work tree (`root` holds `.git`, as `project.find_root` finds it): what
    `git ls-files --cached --others --exclude-standard` lists, so untracked files
    count and ignored ones do not; tracked files deleted since, submodules and
    bytecode are left out. Elsewhere, or when git cannot list: a walk, breadth
    first, that skips hidden folders, `node_modules` and `__pycache__`. At most
    `limit` files; names that are not valid UTF-8 are left out (no one can type them)."""
    listed = _git_files(root) if (root / ".git").exists() else None
    files = _walked_files(root, limit) if listed is None else _existing(root, listed, limit)
    return sorted(files)


def _git_files(root: Path) -> list[str] | None:
    """What git lists, or None when it cannot (no git, a broken repository, too slow)."""
    try:
        done = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=root, capture_output=True, stdin=subprocess.DEVNULL, timeout=GIT_TIMEOUT, check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0:
        return None
    names = []
    for raw in done.stdout.split(b"\0"):
        try:
            name = raw.decode("utf-8")
        except UnicodeDecodeError:
            continue
        if name and "__pycache__" not in name.split("/"):
            names.append(name)
    return names


def _existing(root: Path, names: list[str], limit: int) -> list[str]:
    """The listed names that are files (or links) on disk: a tracked file deleted
    since is still in git's index, a submodule is listed as one name but is a folder."""
    found = []
    for name in dict.fromkeys(names):  # a file both in the index and unmerged is listed twice
        try:
            mode = os.lstat(root / name).st_mode
        except OSError:
            continue
        if not stat.S_ISDIR(mode):
            found.append(name)
            if len(found) >= limit:
                break
    return found


def _walked_files(root: Path, limit: int) -> list[str]:
    """Breadth first, so that a cap leaves out the deepest files, not a whole top folder."""
    found: list[str] = []
    folders = collections.deque([""])
    visited = 0
    while folders and len(found) < limit and visited < limit:
        folder = folders.popleft()
        visited += 1
        try:
            with os.scandir(root / folder) as scan:
                entries = sorted(scan, key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            if not _typeable(entry.name):
                continue
            try:
                is_folder = entry.is_dir(follow_symlinks=False)
            except OSError:
                continue
            if is_folder:
                if not entry.name.startswith(".") and entry.name not in SKIPPED_FOLDERS:
                    folders.append(f"{folder}{entry.name}/")
            elif len(found) < limit:
                found.append(f"{folder}{entry.name}")
    return found


def _typeable(name: str) -> bool:
    """Not a name whose bytes are not UTF-8 (os.scandir keeps them as surrogates)."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


@dataclass(frozen=True, slots=True)
class ProjectPaths:
    """A project's files by folder, for completing a typed path a level at a time,
    as a shell does: `sr` becomes `src/`, then `src/ca` becomes `src/calc.py`.

    `entries` maps a folder (`""` for the root, else its path with a trailing `/`)
    to the names in it, sorted, each folder's name with a trailing `/`. Built once
    per listing; a completion then reads one folder's names."""

    entries: Mapping[str, tuple[str, ...]]

    @classmethod
    def of(cls, files: Iterable[str]) -> ProjectPaths:
        found: dict[str, set[str]] = {}
        for path in files:
            start = 0
            while (slash := path.find("/", start)) != -1:
                found.setdefault(path[:start], set()).add(path[start:slash + 1])
                start = slash + 1
            found.setdefault(path[:start], set()).add(path[start:])
        return cls({folder: tuple(sorted(names)) for folder, names in found.items()})

    def complete(self, typed: str, here: str = "") -> list[str]:
        """What `typed` (a path as a person writes it, standing in the folder `here`
        of the project) may become: each entry of its folder whose name begins with
        what follows the last `/`, as `typed`'s folder part plus that name.

        Case decides first; when no name matches in case, any case does. A name
        beginning with `.` is offered only once a `.` is typed. A path that leads
        out of the project, or is absolute or under `~`, has none."""
        if typed.startswith(("/", "~")):
            return []
        head, slash, prefix = typed.rpartition("/")
        folder_part = head + slash
        folder = posixpath.normpath(posixpath.join(here, folder_part))  # "." for the root
        if folder == ".." or folder.startswith("../"):
            return []
        names = self.entries.get("" if folder == "." else folder + "/", ())
        matches = [n for n in names if n.startswith(prefix) and (prefix or not n.startswith("."))]
        if not matches and prefix:
            lowered = prefix.casefold()
            matches = [n for n in names if n.casefold().startswith(lowered)]
        return [folder_part + name for name in matches]
