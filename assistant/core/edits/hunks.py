"""A file's change as hunks, so a review can accept some and not others.

Hunks are difflib's grouped opcodes (3 lines of context), the same grouping a
unified diff shows. Accepting a subset rebuilds the file from its old lines,
taking the new lines only in the chosen hunks: lines (with their endings) are
copied as they are, so nothing outside the accepted hunks changes.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, replace

from assistant.core.edits.types import FileChange

CONTEXT = 3


@dataclass(frozen=True, slots=True)
class Hunk:
    index: int
    header: str  # "@@ -3,7 +3,8 @@"
    diff: str  # the hunk's lines, unified-diff style, header first


def _lines(change: FileChange) -> tuple[list[str], list[str]]:
    return (change.before or "").splitlines(keepends=True), change.after.splitlines(keepends=True)


def hunks(change: FileChange) -> list[Hunk]:
    before, after = _lines(change)
    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    found = []
    for index, group in enumerate(matcher.get_grouped_opcodes(CONTEXT)):
        a0, a1, b0, b1 = group[0][1], group[-1][2], group[0][3], group[-1][4]
        header = f"@@ -{a0 + 1},{a1 - a0} +{b0 + 1},{b1 - b0} @@"
        body = [header + "\n"]
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                body += [" " + line for line in before[i1:i2]]
                continue
            body += ["-" + line for line in before[i1:i2]]
            body += ["+" + line for line in after[j1:j2]]
        found.append(Hunk(index, header, "".join(line if line.endswith("\n") else line + "\n" for line in body)))
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
