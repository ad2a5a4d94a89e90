"""The project a session works on, and the paths a person types in it.

One rule for the TUI and the CLI alike:
- the **project root** is the top of the git work tree that holds the folder the
  app was started in, else that folder itself;
- a path a person types (`assistant refactor x.py`, `/refactor x.py`, `/add`,
  an `@`-mention of a file in a message) is relative to **where they stand** (the
  current folder), or absolute; it must lead to a place inside the project root,
  and is then known by its path relative to that root (what edits, commits and
  the ledger use);
- whether a path is inside the root (after `..` and symlinks) is `within_root`,
  for typed paths and for the paths a model writes (`core/edits/files.py`) alike.

`~` means the home folder only as a path's whole first component (`~/notes.md`);
anywhere else it is an ordinary character, and a home folder that cannot be found
is not an error: the path is simply taken as it is written.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath


class OutsideProject(ValueError):
    """A typed path that leads outside the project root."""


def find_root(start: Path | None = None) -> Path:
    """The enclosing git work tree's top (a `.git` folder or file, as worktrees and
    submodules have), else `start` itself; resolved. `start` defaults to the cwd."""
    here = Path(os.path.realpath(start if start is not None else Path.cwd()))
    for folder in (here, *here.parents):
        if (folder / ".git").exists():
            return folder
    return here


def expand_home(typed: str) -> str:
    """`~/x` → the home folder's `x`; every other `~` is left as it is, and so is
    `~/x` when no home folder can be found."""
    if typed != "~" and not typed.startswith("~/"):
        return typed
    try:
        home = os.path.expanduser("~")
    except (RuntimeError, KeyError):  # no HOME and no passwd entry
        return typed
    return typed if home == "~" else home + typed[1:]


def within_root(path: Path, root: Path, *, keep_name: bool = False) -> Path | None:
    """The one rule for "is this path inside the project": where the absolute `path`
    leads, relative to `root`, once `..` and the symlinks on its way (and in `root`)
    are resolved; `Path()` when that is the root itself, None when it is outside.

    Every symlink is followed (the file a write through `path` changes), unless
    `keep_name`: then the last component stays as it is written, so a link inside the
    project is known by its own name, as the person who typed it means it."""
    real_root = Path(os.path.realpath(root))
    if keep_name:
        # Not realpath(path) for `..`: a symlink loop before it would stay unresolved.
        parent, name = Path(os.path.realpath(path.parent)), path.name
        full = parent.parent if name == ".." else parent / name if name else parent
    else:
        full = Path(os.path.realpath(path))  # follows every symlink, parents included
    try:
        return full.relative_to(real_root)
    except ValueError:
        return None


def typed_path(typed: str, *, root: Path, cwd: Path | None = None) -> str:
    """The project-relative POSIX path of what a person typed, standing in `cwd`.

    Raises `OutsideProject` when it leads out of `root` (symlinks in the folders
    above the name are followed; the name itself is kept, so a link inside the
    project is known by its own name)."""
    text = expand_home(typed.strip())
    if not text or "\0" in text:
        raise OutsideProject(f"{typed!r} is not a path")
    base = Path(os.path.realpath(cwd if cwd is not None else Path.cwd()))
    relative = within_root(Path(text) if os.path.isabs(text) else base / text, root, keep_name=True)
    if relative is None:
        raise OutsideProject(f"{typed}: is outside the project ({os.path.realpath(root)})")
    if not relative.parts:
        raise OutsideProject(f"{typed}: is the project folder itself, not a file in it")
    return PurePosixPath(*relative.parts).as_posix()
