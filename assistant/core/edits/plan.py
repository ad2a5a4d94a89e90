"""Edits + the files' current texts → the files' new texts, all or nothing. Pure:
the caller passes a `read` function, and writing is `files`' job.

Edits apply in order, in memory; several edits of one file chain, each SEARCH
located in the text as the previous ones left it. Every edit is tried even
after one fails, so the model can be told every problem in one retry.

A SEARCH is located on whole lines: verbatim first (with LF search lines
matching a CRLF file), then, as Aider does, ignoring each line's leading and
trailing whitespace, in which case the replacement is re-indented by the
difference the match revealed. Either way it must match exactly one place.
The replacement takes the matched lines' line endings (a whole file takes the
file's), and a file that did not end with a newline still does not.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from assistant.core.edits.hunks import split_lines
from assistant.core.edits.prompts import (
    SEARCH_REPLACE_RULES,
    WHOLE_FILE_RULES,
    fence_for,
)
from assistant.core.edits.types import (
    Edit,
    EditError,
    FileChange,
    MatchError,
    ParseError,
    SearchReplace,
    WholeFile,
)

# The most lines of the file shown to the model as "the closest lines".
_HINT_LINES = 20
# The most failed SEARCHes given such a hint: a reply of thousands of bad blocks gets
# a few (the search for the closest lines is the costly part of a failure).
_HINTS = 10


@dataclass(frozen=True, slots=True)
class Failure:
    """Why one edit of a proposal does not apply."""

    number: int  # 1-based position of the edit in the proposal: the block number the parser used
    error: EditError
    # For a SEARCH that matches nothing: the file's lines most like it (LF endings), to show the model.
    closest: str | None = None


class PlanError(EditError):
    """Some edits of a proposal do not apply, so none is applied."""

    def __init__(self, failures: Sequence[Failure], total: int) -> None:
        self.failures = tuple(failures)
        self.total = total
        count = len(self.failures)
        verb = "does" if count == 1 else "do"
        more = f" (and {count - 1} more)" if count > 1 else ""
        first = self.failures[0].error if self.failures else ""
        super().__init__(f"{count} of {total} edits {verb} not apply: {first}{more}")

    @property
    def errors(self) -> tuple[EditError, ...]:
        return tuple(failure.error for failure in self.failures)


def normalise_path(path: str) -> str:
    """The form that groups the edits of one file: POSIX separators, no doubled
    slashes, no leading "./". Not a safety check: `files` resolves paths."""
    path = re.sub(r"/{2,}", "/", path.strip().replace("\\", "/"))
    while path.startswith("./"):
        path = path[2:]
    return path


def locate(text: str, search: str, *, path: str = "") -> tuple[int, int, bool]:
    """The span of `text` that `search` matches, and whether only a
    whitespace-insensitive match was found. Raises `MatchError` unless exactly one
    place matches (exact matches first; fuzzy ones count only when there is none)."""
    if not search:
        raise ValueError("an empty SEARCH matches everywhere")
    candidates = [search]
    if "\r\n" in text and "\n" in search and "\r\n" not in search:
        candidates.insert(0, search.replace("\n", "\r\n"))
    for needle in candidates:
        starts = _exact_starts(text, needle)
        if len(starts) == 1:
            return starts[0], min(starts[0] + len(needle), len(text)), False
        if len(starts) > 1:
            raise MatchError(path, search, "ambiguous", len(starts))
    spans = _fuzzy_spans(text, search)
    if len(spans) == 1:
        return spans[0][0], spans[0][1], True
    if len(spans) > 1:
        raise MatchError(path, search, "ambiguous", len(spans))
    raise MatchError(path, search, "none")


def plan_changes(edits: Sequence[Edit], read: Callable[[str], str | None]) -> tuple[FileChange, ...]:
    """One `FileChange` per file, in the order the files are first mentioned; raises
    `PlanError` listing every edit that does not apply. `read(path)` gives a file's
    current text, or None when it does not exist; an `EditError` it raises (an
    unsafe path, a refused file) fails each edit of that file like a bad SEARCH."""
    drafts: dict[str, _Draft] = {}
    refused: dict[str, EditError] = {}
    failures: list[Failure] = []
    for number, edit in enumerate(edits, 1):
        path = normalise_path(edit.path)
        draft = drafts.get(path)
        if draft is None and path not in refused:
            try:
                before = read(path)
            except EditError as error:
                refused[path] = error
            else:
                draft = drafts[path] = _Draft(before, before)
        if draft is None:
            failures.append(Failure(number, refused[path]))
            continue
        try:
            draft.text, fuzzy = _apply(edit, draft.text, path)
        except MatchError as error:
            hinted = error.kind == "none" and len(failures) < _HINTS
            closest = _closest(draft.text or "", error.search) if hinted else None
            failures.append(Failure(number, error, closest))
            continue
        except EditError as error:
            failures.append(Failure(number, error))
            continue
        draft.fuzzy_matches += fuzzy
    if failures:
        raise PlanError(failures, len(edits))
    return tuple(
        FileChange(path, draft.before, draft.text or "", draft.fuzzy_matches) for path, draft in drafts.items()
    )


def retry_message(error: EditError, *, whole_file: bool = False) -> str:
    """What the model is told, once, when its answer cannot be applied: each
    problem, then the rules again. Meant for a `PlanError` or a `ParseError`;
    any other `EditError` is passed on as it is."""
    if isinstance(error, PlanError):
        parts = [f"None of your edits were applied: {len(error.failures)} of {error.total} do not apply."]
        for failure in error.failures:
            parts.append(f"- Block {failure.number}: {failure.error}")
            if failure.closest:
                path = getattr(failure.error, "path", "the file")
                fence = fence_for(failure.closest)
                parts.append(f"The lines of {path} most like it are:\n{fence}\n{failure.closest}{fence}")
    elif isinstance(error, ParseError):
        parts = [f"Your answer could not be read: {error}"]
    else:
        parts = [f"None of your edits were applied: {error}"]
    parts.append("Rules:\n" + (WHOLE_FILE_RULES if whole_file else SEARCH_REPLACE_RULES))
    parts.append("Send all the edits again, corrected.")
    return "\n\n".join(parts)


@dataclass(slots=True)
class _Draft:
    before: str | None
    text: str | None
    fuzzy_matches: int = 0


def _apply(edit: Edit, text: str | None, path: str) -> tuple[str, int]:
    """`text` after `edit`, and 1 when its SEARCH matched only fuzzily."""
    if isinstance(edit, WholeFile):
        return (edit.content if text is None else _with_eol(edit.content, _eol(text))), 0
    assert isinstance(edit, SearchReplace)
    if not edit.search.strip():
        if text is not None and text.strip():
            raise EditError(
                f"{path} already exists: an empty SEARCH creates a new file; quote the lines to replace"
            )
        return (edit.replace if text is None else _with_eol(edit.replace, _eol(text))), 0
    if text is None:
        raise EditError(f"{path} does not exist: to create it, leave SEARCH empty")
    start, end, fuzzy = locate(text, edit.search, path=path)
    replace = edit.replace
    if fuzzy:
        replace = _reindent(replace, edit.search, text[start:end])
    # The matched lines' own ending first: a mostly-LF file may hold a CRLF region.
    matched = text[start:end]
    eol = _eol(matched if "\n" in matched else text)
    replace = _with_eol(replace, eol)
    # The SEARCH's last newline matched the end of a file that has none: keep it so.
    if end == len(text) and not text.endswith("\n") and replace.endswith("\n"):
        replace = replace[: -len(eol)] if replace.endswith(eol) else replace[:-1]
    return text[:start] + replace + text[end:], int(fuzzy)


def _exact_starts(text: str, needle: str) -> list[int]:
    """Where `needle` occurs on whole lines; a final newline in it may match the end of a
    text that has none."""
    last_eol = "\r\n" if needle.endswith("\r\n") else "\n" if needle.endswith("\n") else ""
    haystack = text + last_eol if last_eol and text and not text.endswith("\n") else text
    starts = []
    at = haystack.find(needle)
    while at != -1:
        after = at + len(needle)
        if (at == 0 or haystack[at - 1] == "\n") and (
            last_eol or after == len(haystack) or haystack[after] in "\r\n"
        ):
            starts.append(at)
        at = haystack.find(needle, at + 1)
    return starts


def _fuzzy_spans(text: str, search: str) -> list[tuple[int, int]]:
    """The spans of whole lines equal to the search's lines once each is stripped."""
    wanted = [line.strip() for line in split_lines(search)]
    if not any(wanted):
        return []
    lines = split_lines(text)
    stripped = [line.strip() for line in lines]
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    size = len(wanted)
    return [
        (offsets[i], offsets[i + size])
        for i in range(len(lines) - size + 1)
        if stripped[i] == wanted[0] and stripped[i : i + size] == wanted
    ]


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip(" \t"))]


def _reindent(replace: str, search: str, matched: str) -> str:
    """`replace` shifted by the indentation the fuzzy match found between the SEARCH's
    first non-blank line and the file's line it matched."""
    search_lines, matched_lines = split_lines(search), split_lines(matched)
    first = next((k for k, line in enumerate(search_lines) if line.strip()), None)
    if first is None:
        return replace
    old, new = _indent(search_lines[first]), _indent(matched_lines[first])
    if old == new:
        return replace
    out = []
    for line in split_lines(replace):
        if line.strip():
            if new.startswith(old):
                line = new[len(old) :] + line
            elif old.startswith(new):
                line = line[min(len(old) - len(new), len(_indent(line))) :]
            elif line.startswith(old):
                line = new + line[len(old) :]
        out.append(line)
    return "".join(out)


def _eol(text: str) -> str:
    """The file's line ending: CRLF when most of its lines end so."""
    crlf = text.count("\r\n")
    return "\r\n" if crlf and crlf * 2 >= text.count("\n") else "\n"


def _with_eol(text: str, eol: str) -> str:
    text = text.replace("\r\n", "\n")
    return text if eol == "\n" else text.replace("\n", eol)


def _closest(text: str, search: str) -> str | None:
    """The file's lines most like a SEARCH that matched nothing: a window as long as
    the SEARCH, aligned on the line most like its first non-blank line."""
    search_lines = split_lines(search.replace("\r\n", "\n"))
    first = next((k for k, line in enumerate(search_lines) if line.strip()), None)
    if first is None:
        return None
    lines = split_lines(text.replace("\r\n", "\n"))
    stripped = [line.strip() for line in lines]
    best = difflib.get_close_matches(search_lines[first].strip(), stripped, n=1, cutoff=0.6)
    if not best:
        return None
    start = max(0, stripped.index(best[0]) - first)
    window = lines[start : start + min(len(search_lines), _HINT_LINES)]
    hint = "".join(window)
    return hint if hint.endswith("\n") else hint + "\n"
