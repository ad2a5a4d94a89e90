"""The files of a project, as a person would name them: what git tracks or would
track (ignored files left out), else what a walk of the folder finds.

The one listing for whatever needs the project's files by name: Tab completion of
an `@path` in the prompt, an `@folder/` or a glob in a message (session/attached.py).
Listing runs a process or walks the disk, so callers run it off the UI thread;
`ProjectPaths` then answers each completion from memory, one folder's entries at
a time.
"""

from __future__ import annotations

import collections
import os
import posixpath
import stat
import subprocess
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from assistant.core.project import find_root

# Enough for any project a person completes paths in; a home folder or a monorepo
# stops here instead of filling memory (and then lacks the names past it).
MAX_FILES = 50_000
# Seconds: git on a cold disk in a large repository takes a few; past this it is stuck.
GIT_TIMEOUT = 20.0
# Folders of tools, not of the project, that a walk does not enter, besides every
# hidden folder (.git, .hg, .venv, .tox, .mypy_cache, …).
SKIPPED_FOLDERS = frozenset({"node_modules", "__pycache__", "venv"})


def project_files(root: Path, folder: str = "", *, limit: int | None = MAX_FILES, strict: bool = False) -> list[str]:
    """The project's files under `folder` (relative to `root`, "" for all of it), as
    sorted POSIX paths relative to `root`.

    In a git work tree (`root` or a folder above it holds `.git`): what `git ls-files
    --cached --others --exclude-standard` lists, `folder` read literally (a folder
    named `[id]` is no glob), so untracked files count and ignored ones do not;
    tracked files deleted since, submodules and bytecode are left out. Elsewhere, or
    when git cannot list: a walk, breadth first, that enters no hidden folder nor
    `SKIPPED_FOLDERS` below `folder`. With `strict`, git failing is an OSError with
    a one-line reason instead of the walk: what git would ignore (keys, `.env`) is
    not guessed at. At most `limit` files (None: all). A name that is not valid
    UTF-8 is listed as `os.listdir` gives it (with surrogates), for the caller to
    refuse with why; completion leaves it out."""
    if (find_root(root) / ".git").exists():
        try:
            listed = _git_files(root, folder)
        except OSError:
            if strict:
                raise
        else:
            return sorted(_existing(root, listed, limit))
    return sorted(_walked_files(root, folder, limit))


def _git_files(root: Path, folder: str) -> list[str]:
    """What git lists under `folder`; OSError saying why when it cannot."""
    command = ["git", "--literal-pathspecs", "ls-files", "-z", "--cached", "--others", "--exclude-standard",
               "--", folder or "."]  # fmt: skip
    try:
        done = subprocess.run(command, cwd=root, capture_output=True, stdin=subprocess.DEVNULL,
                              timeout=GIT_TIMEOUT, check=False)  # fmt: skip
    except FileNotFoundError:
        raise OSError("git is not installed, and only git can say which files it ignores") from None
    except subprocess.TimeoutExpired:
        raise OSError(f"git took over {GIT_TIMEOUT:.0f} s to list the files") from None
    if done.returncode != 0:
        why = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise OSError(f"git could not list the files ({why[0] if why else f'exit {done.returncode}'})")
    names = done.stdout.decode("utf-8", "surrogateescape").split("\0")
    return [name for name in names if name and "__pycache__" not in name.split("/")]


def _existing(root: Path, names: list[str], limit: int | None) -> list[str]:
    """The listed names that are files (or links) on disk: a tracked file deleted
    since is still in git's index, a submodule is listed as one name but is a folder."""
    found = []
    for name in dict.fromkeys(names):  # a file both in the index and unmerged is listed twice
        if limit is not None and len(found) >= limit:
            break
        try:
            mode = os.lstat(root / name).st_mode
        except OSError:
            continue
        if not stat.S_ISDIR(mode):
            found.append(name)
    return found


def _walked_files(root: Path, folder: str, limit: int | None) -> list[str]:
    """Breadth first, so that a cap leaves out the deepest files, not a whole top
    folder. `folder` itself is entered whatever its name: it was named."""
    cap = sys.maxsize if limit is None else limit
    found: list[str] = []
    folders = collections.deque([f"{folder}/" if folder else ""])
    visited = 0
    while folders and len(found) < cap and visited < cap:
        here = folders.popleft()
        visited += 1
        try:
            with os.scandir(root / here) as scan:
                entries = sorted(scan, key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            try:
                is_folder = entry.is_dir(follow_symlinks=False)  # a link to a folder is not entered
            except OSError:
                continue
            if is_folder:
                if not entry.name.startswith(".") and entry.name not in SKIPPED_FOLDERS:
                    folders.append(f"{here}{entry.name}/")
            elif len(found) < cap:
                found.append(f"{here}{entry.name}")
    return found


def _typeable(name: str) -> bool:
    """Not a name whose bytes are not UTF-8 (listed with surrogates in their place)."""
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
    to the names in it, sorted, each folder's name with a trailing `/` (names that
    are not valid UTF-8 left out). Built once per listing; a completion then reads
    one folder's names."""

    entries: Mapping[str, tuple[str, ...]]

    @classmethod
    def of(cls, files: Iterable[str]) -> ProjectPaths:
        found: dict[str, set[str]] = {}
        for path in filter(_typeable, files):  # no one can type the rest
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
