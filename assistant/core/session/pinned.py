"""Files pinned into the conversation (`/add`, `/drop`, `/files`), and how a
file is written into a prompt.

A pinned file is kept in every prompt (it is never slid out of the window), as
a system message after the system prompt, so it sits in the cached prefix.
Files are refused, each with its reason: outside the project, under .git,
binary, over `edits.max_file_bytes`, or not valid text in their encoding.

A file a message names (core/session/attached.py) is written the same way, but
into that turn's own message, ahead of the question: it is read as it is now at
each mention, and the cached prefix (system, pinned, history) stays as it was.
"""

from __future__ import annotations

import glob
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from assistant.core import edits
from assistant.core.conversation import Message
from assistant.core.edits.types import EditError
from assistant.core.globs import is_glob, match_path, split_pattern

HEADER = "File: "
_BACKTICKS = re.compile(r"`{3,}")


@dataclass(frozen=True, slots=True)
class Pinned:
    path: str
    message: Message


def file_block(path: str, text: str) -> str:
    """A file as a prompt holds it: its path, then its text fenced by more backticks
    than any run in it, so a Markdown file's own fences cannot end the block early."""
    body = text if text.endswith("\n") else text + "\n"
    fence = "`" * max(3, 1 + max((len(run) for run in _BACKTICKS.findall(body)), default=0))
    return f"{HEADER}{path}\n{fence}\n{body}{fence}"


def pinned_message(path: str, text: str) -> Message:
    return Message("system", file_block(path, text))


def turn_message(question: str, blocks: Sequence[str]) -> Message:
    """The turn's user message: the files it names (`file_block`), then the question."""
    return Message("user", "\n\n".join([*blocks, question]))


def path_of(message: Message) -> str | None:
    if message.role != "system" or not message.content.startswith(HEADER):
        return None
    return message.content[len(HEADER) :].split("\n", 1)[0]


def expand(root: Path, patterns: list[str]) -> list[str]:
    """Paths relative to `root` for each pattern (globs, ** included); a pattern that
    matches nothing is kept as is, so that it is refused with a reason."""
    found: list[str] = []
    for pattern in patterns:
        if is_glob(pattern):
            matches = sorted(glob.glob(pattern, root_dir=root, recursive=True))
            found += [m for m in matches if (root / m).is_file()] or [pattern]
        else:
            found.append(pattern)
    return list(dict.fromkeys(found))


def pinned_matching(pinned: list[str], pattern: str) -> list[str]:
    """The pinned paths `pattern` names (`/drop`): itself, or those its glob
    matches as `/add` reads one (from the project root, `**` for any folders),
    found among what is pinned, so a file deleted since is still dropped."""
    if not is_glob(pattern):
        return [pattern] if pattern in pinned else []
    segments = split_pattern(pattern)
    return [p for p in pinned if match_path(segments, p.split("/"))]


def load(root: Path, patterns: list[str], max_bytes: int) -> tuple[list[Pinned], list[tuple[str, str]]]:
    """(files to pin, (path, why refused) for the others)."""
    pinned, refused = [], []
    for path in expand(root, patterns):
        try:
            current = edits.read_file(root, path, max_bytes=max_bytes)
        except EditError as exc:
            refused.append((path, str(exc)))
            continue
        if current is None:
            refused.append((path, "no such file"))
            continue
        pinned.append(Pinned(current.relative, pinned_message(current.relative, current.text)))
    return pinned, refused
