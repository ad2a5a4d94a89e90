"""A file's change as hunks, so a review can accept some and not others.

Hunks are difflib's grouped opcodes (3 lines of context), the same grouping a
unified diff shows. Accepting a subset rebuilds the file from its old lines,
taking the new lines only in the chosen hunks: lines (with their endings) are
copied as they are, so nothing outside the accepted hunks changes.

Only "\n" ends a line (as git and patch count them; `str.splitlines` would also
split at form feeds and Unicode separators), and a last line without one is
followed by git's "\\ No newline at end of file", so a diff reads back exactly.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, replace

from assistant.core.edits.types import FileChange

CONTEXT = 3
NO_NEWLINE = "\\ No newline at end of file\n"


@dataclass(frozen=True, slots=True)
class Hunk:
    index: int
    header: str  # "@@ -3,7 +3,8 @@"
    diff: str  # the hunk's lines, unified-diff style, header first


def split_lines(text: str) -> list[str]:
    """`text`'s lines with their "\\n" kept; the last one may have none."""
    parts = text.split("\n")
    lines = [part + "\n" for part in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def diff_line(line: str) -> str:
    """One line of a diff body as it is printed: a last line without its newline
    gets one, then the no-newline marker."""
    return line if line.endswith("\n") else line + "\n" + NO_NEWLINE


def _range(start: int, end: int) -> str:
    """A hunk side as unified diffs write it: an empty side names the line before it."""
    return f"{start + 1 if end > start else start},{end - start}"


def _lines(change: FileChange) -> tuple[list[str], list[str]]:
    return split_lines(change.before or ""), split_lines(change.after)


def hunks(change: FileChange) -> list[Hunk]:
    before, after = _lines(change)
    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    found = []
    for index, group in enumerate(matcher.get_grouped_opcodes(CONTEXT)):
        a0, a1, b0, b1 = group[0][1], group[-1][2], group[0][3], group[-1][4]
        header = f"@@ -{_range(a0, a1)} +{_range(b0, b1)} @@"
        body = [header + "\n"]
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                body += [" " + line for line in before[i1:i2]]
                continue
            body += ["-" + line for line in before[i1:i2]]
            body += ["+" + line for line in after[j1:j2]]
        found.append(Hunk(index, header, "".join(diff_line(line) for line in body)))
    return found


def select(change: FileChange, chosen: set[int]) -> FileChange:
    """`change` with only the hunks in `chosen` (indices from `hunks`)."""
    before, after = _lines(change)
    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    # Copied first: get_grouped_opcodes() trims the matcher's cached opcodes in place.
    opcodes = list(matcher.get_opcodes())
    groups = list(matcher.get_grouped_opcodes(CONTEXT))
    owner = {}  # (i1, i2, j1, j2) of each change opcode -> its hunk
    for index, group in enumerate(groups):
        for tag, i1, i2, j1, j2 in group:
            if tag != "equal":
                owner[(i1, i2, j1, j2)] = index
    out: list[str] = []
    for tag, i1, i2, j1, j2 in opcodes:
        take_new = tag != "equal" and owner.get((i1, i2, j1, j2)) in chosen
        out += after[j1:j2] if take_new else before[i1:i2]
    return replace(change, after="".join(out))
