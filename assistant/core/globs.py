"""Path globs matched segment by segment: `*`, `?` and `[...]` within one name,
`**` for any number of folders. Used by the privacy patterns (gitignore-style)
and by `/drop` (the globs `/add` takes).

Each (segment, name) pair is decided once, so a pattern like `**/**/**/x`
against a path 80 folders deep costs a few thousand steps, never the
exponential number a naive backtracking matcher takes."""

from __future__ import annotations

from collections.abc import Sequence
from fnmatch import fnmatchcase
from functools import cache

GLOB_CHARACTERS = "*?["


def is_glob(text: str) -> bool:
    return any(ch in text for ch in GLOB_CHARACTERS)


def split_pattern(pattern: str) -> list[str]:
    return [s for s in pattern.strip("/").split("/") if s]


def match_path(
    segments: Sequence[str],
    parts: Sequence[str],
    *,
    anchored: bool = True,
    inside: bool = False,
    folders_only: bool = False,
) -> bool:
    """Whether the pattern `segments` matches the path `parts` (both split on `/`).

    anchored: the match starts at the path's first name (else at any of them);
    inside: a match on a folder matches everything in it (gitignore's reading);
    folders_only: the match must end on a folder (a pattern ending in `/`).
    A trailing `**` is everything inside a folder, not the folder itself."""
    if not segments:
        return False
    last, size = len(segments), len(parts)

    @cache
    def match(si: int, pi: int) -> bool:
        if si == last:
            return (pi < size and (inside or folders_only)) or (pi == size and not folders_only)
        head = segments[si]
        if head == "**":
            first = pi + 1 if si == last - 1 else pi
            return any(match(si + 1, k) for k in range(first, size + 1))
        return pi < size and fnmatchcase(parts[pi], head) and match(si + 1, pi + 1)

    starts = [0] if anchored else range(size)
    return any(match(0, i) for i in starts)
