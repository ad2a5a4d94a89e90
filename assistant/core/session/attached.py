"""The files a message names, read into its turn: what a person names is what the
model sees.

`src/calc.py` written plainly or as `@src/calc.py` names one project file (found as
`user_input.mentioned_files` finds names: never a `~` of prose, a word that is no
file, a path outside the project or through a symlink out of it). With `@`, a
folder (`@src/`) or a glob (`@src/*.py`, `@tests/**/test_*.py`) names the project's
files in it, as git sees them (core/project_files.py: what git ignores is left
out, and when git cannot say, nothing is), at most `MAX_FILES` and `MAX_BYTES` a turn.

Each file is read now, as it is (not a copy from an earlier turn: a file edited
since is seen edited), by the rules `/add` reads with (core/edits/files.py: binary,
not UTF-8, over `[edits] max_file_bytes` or a symlink out of the project is refused
with the reason), and goes into this turn's message only (pinned.py `file_block`;
`/add` keeps a file in every turn). Each backend's window takes what fits it
(windows.py `assemble_turn`), and `said` tells the person what went in, with its
tokens, and what did not and why. Every file named or matched reaches the router,
read or not: the privacy router keeps a turn naming a secret file off the cloud.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from assistant.core import edits
from assistant.core.edits.types import EditError
from assistant.core.globs import match_path
from assistant.core.project_files import project_files
from assistant.core.session.pinned import file_block
from assistant.core.session.user_input import AtPattern, at_mentions, mentioned_files
from assistant.core.text import clean_text, named

MAX_FILES = 100  # files one turn may hold (a glob over a whole repository is cut here)
MAX_BYTES = 4_000_000  # and their bytes: about a million tokens, over any model's window
SHOWN = 8  # files a note names before "and N more"


@dataclass(frozen=True, slots=True)
class FileText:
    """A file the turn holds: its path, and the block its message carries."""

    path: str
    block: str


@dataclass(frozen=True, slots=True)
class Attached:
    """The files a message names, read for its turn."""

    files: tuple[FileText, ...] = ()  # read, in the order named
    named: tuple[str, ...] = ()  # every project file named or matched, read or not (the router's)
    pinned: tuple[str, ...] = ()  # named, and pinned already: in the prompt once
    refused: tuple[tuple[str, str], ...] = ()  # (what, why) for what was not read

    def __bool__(self) -> bool:
        return bool(self.files or self.pinned or self.refused)


@dataclass(frozen=True, slots=True)
class FileFit:
    """How one backend's window took the turn's files."""

    added: tuple[tuple[str, int], ...] = ()  # (path, tokens)
    left_out: tuple[tuple[str, str], ...] = ()  # (path, why)
    estimated: bool = False  # the counts are estimates (a model not loaded yet)


NOTHING = Attached()


def attach(
    text: str, root: Path, *, pinned: Collection[str] = (), max_bytes: int, cwd: Path | None = None
) -> Attached:
    """The files `text` names in the project at `root`, read; `pinned` ones are
    named but not read again; `max_bytes` is `[edits] max_file_bytes`."""
    mentions = at_mentions(text, root, cwd)
    named_files = list(dict.fromkeys([*mentioned_files(text, root, cwd), *mentions.files]))
    refused = list(mentions.unknown)
    listed: dict[str, list[str]] = {}  # each folder's files, listed once for all its patterns
    for pattern in mentions.patterns:
        try:
            if pattern.folder not in listed:
                # Strict: when git cannot say what it ignores, nothing is guessed (keys, `.env`).
                listed[pattern.folder] = project_files(root, pattern.folder, limit=None, strict=True)
        except OSError as exc:
            refused.append((pattern.typed, f"not expanded: {exc}"))
            continue
        matched = [path for path in _matching(pattern, listed[pattern.folder]) if os.path.isfile(root / path)]
        known = set(named_files)
        fresh = [path for path in matched if path not in known]
        room = max(MAX_FILES - len(named_files), 0)
        if not matched:
            refused.append((pattern.typed, "no project file matches (files git ignores are left out)"))
        elif len(fresh) > room:
            taken = f"the first {room:,} were taken" if room else "none was taken"
            refused.append((pattern.typed, f"{len(matched):,} files match: {taken} (at most {MAX_FILES} files a turn)"))
        named_files += fresh[:room]
    files: list[FileText] = []
    kept: list[str] = []
    total = 0
    for path in named_files:
        if path in pinned:
            kept.append(path)
            continue
        read = _read(root, path, max_bytes, MAX_BYTES - total)
        if isinstance(read, str):
            refused.append((path, read))
            continue
        total += read[1]
        files.append(read[0])
    return Attached(tuple(files), tuple(named_files), tuple(kept), tuple(refused))


def said(attached: Attached, fit: FileFit | None) -> tuple[str, ...]:
    """What the person is told about the files of a turn, as the backend's window
    (`fit`) took them: those its prompt holds, with their tokens, and those it does
    not, each with why."""
    if not attached:
        return ()
    fit = fit or FileFit()
    held = [f"{path} ({'≈' if fit.estimated else ''}{tokens:,} tokens)" for path, tokens in fit.added]
    held += [f"{path} (pinned)" for path in attached.pinned]
    lines = [f"This turn holds {_joined(held)}."] if held else []
    out = [f"{named(clean_text(what))}: {why}" for what, why in (*attached.refused, *fit.left_out)]
    if out:
        lines.append(f"Not in this turn: {_joined(out, '; ')}.")
    return tuple(lines)


def _joined(items: Sequence[str], sep: str = ", ") -> str:
    shown = sep.join(items[:SHOWN])
    return shown if len(items) <= SHOWN else f"{shown}{sep}and {len(items) - SHOWN:,} more"


def _matching(pattern: AtPattern, files: Iterable[str]) -> list[str]:
    """The `files` (under the pattern's folder) whose path below that folder matches it."""
    prefix = f"{pattern.folder}/" if pattern.folder else ""
    return [f for f in files if f.startswith(prefix) and match_path(pattern.segments, f[len(prefix) :].split("/"))]


def _read(root: Path, path: str, max_bytes: int, room: int) -> tuple[FileText, int] | str:
    """The file and its size, or why it is not read."""
    if clean_text(path) != path:
        return "its name is not valid UTF-8"
    try:
        current = edits.read_file(root, path, max_bytes=max_bytes)
    except EditError as exc:
        return str(exc).removeprefix(f"{path}: ")
    except OSError as exc:
        return f"cannot be read ({exc.strerror or type(exc).__name__})"
    if current is None:
        return "no such file"
    if len(current.raw) > room:
        return f"left out: the turn's files would pass {MAX_BYTES:,} bytes"
    return FileText(current.relative, file_block(current.relative, current.text)), len(current.raw)
