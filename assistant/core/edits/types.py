"""The data of an edit proposal, shared by the parser, the planner, the writer and git."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True, slots=True)
class SearchReplace:
    """Replace the one place in `path` that matches `search` by `replace`.
    An empty `search` creates `path` (which must not exist) with `replace`."""

    path: str  # as the model wrote it: relative to the project root
    search: str
    replace: str


@dataclass(frozen=True, slots=True)
class WholeFile:
    """The whole new content of `path` (the format for models that handle SEARCH/REPLACE badly)."""

    path: str
    content: str


Edit = SearchReplace | WholeFile


@dataclass(frozen=True, slots=True)
class FileChange:
    """One file's planned change: its text before (None: a new file) and after."""

    path: str  # relative to the project root, POSIX separators, normalised
    before: str | None
    after: str
    # How many of its SEARCH blocks matched only when whitespace was ignored.
    fuzzy_matches: int = 0


class EditError(Exception):
    """Anything that stops a proposal; the message is one line a person can act on."""


class ParseError(EditError):
    """The model's text holds no usable edit, or a malformed one."""


MatchKind = Literal["none", "ambiguous"]


class MatchError(EditError):
    """A SEARCH block matches no place, or several, in its file."""

    def __init__(self, path: str, search: str, kind: MatchKind, count: int = 0) -> None:
        self.path, self.search, self.kind, self.count = path, search, kind, count
        first = next((line.strip() for line in search.splitlines() if line.strip()), "")[:60]
        where = "matches nothing" if kind == "none" else f"matches {count} places"
        super().__init__(f"{path}: the SEARCH block starting {first!r} {where} (it must match exactly one)")


class UnsafePath(EditError):
    """A path that leads outside the project, into .git/, or is otherwise not writable safely."""


class FileRefused(EditError):
    """A file that cannot be edited faithfully (binary, too big, undecodable encoding)."""
