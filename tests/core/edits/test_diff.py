"""Diffs of files without a final newline (issue 10, item 11f): the CLI's unified
diff and the review's hunks carry git's "\\ No newline at end of file", so what is
shown reads back (with `git apply`, or parsed here) as exactly the new text."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from assistant.core.edits.hunks import NO_NEWLINE, hunks, select
from assistant.core.edits.types import FileChange
from assistant.core.workflows.refactor import unified_diff

# Lines from a small alphabet, so that before and after share lines; "\r", form feed and
# U+2028 are inside lines (str.splitlines would cut there, git does not).
_LINE = st.text(alphabet="ab \t\r\x0c\u2028", max_size=4)
_LINES = st.lists(_LINE, max_size=8)
_TEXT = _LINES.map("\n".join) | _LINES.map(lambda ls: "".join(x + "\n" for x in ls))


def apply_unified(before: str, diff: str) -> str:
    """`diff` (one file) applied to `before`, strictly as patch reads it."""
    old = before.split("\n")
    old_lines = [x + "\n" for x in old[:-1]] + ([old[-1]] if old[-1] else [])
    out: list[str] = []
    at = 0
    lines = diff.split("\n")[:-1]  # every line of a diff ends with "\n"
    k = 0
    while k < len(lines) and not lines[k].startswith("@@"):
        k += 1
    while k < len(lines):
        m = re.match(r"@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@", lines[k])
        assert m, lines[k]
        start, count = int(m.group(1)), int(m.group(2) or 1)
        first = start - 1 if count else start
        out += old_lines[at:first]
        at = first
        k += 1
        while k < len(lines) and not lines[k].startswith("@@"):
            tag, body = lines[k][0], lines[k][1:] + "\n"
            if k + 1 < len(lines) and lines[k + 1] + "\n" == NO_NEWLINE:
                body = body[:-1]
                k += 1
            assert tag in " -+", lines[k]
            if tag in " -":
                assert old_lines[at] == body
                at += 1
            if tag in " +":
                out.append(body)
            k += 1
    return "".join(out + old_lines[at:])


@given(_TEXT, _TEXT)
def test_the_diff_reads_back_as_the_new_text(before: str, after: str) -> None:
    diff = unified_diff(FileChange("f.txt", before, after))
    assert diff == "" or diff.endswith("\n")
    assert apply_unified(before, diff) == after
    # At most one marker per side, and only for a side whose last line has no newline.
    needed = (bool(before) and not before.endswith("\n")) + (bool(after) and not after.endswith("\n"))
    assert diff.count(NO_NEWLINE) <= needed


@given(_TEXT, _TEXT)
def test_every_hunk_line_ends_with_a_newline_and_all_hunks_rebuild_the_new_text(before: str, after: str) -> None:
    change = FileChange("f.txt", before, after)
    found = hunks(change)
    assert all(h.diff.endswith("\n") for h in found)
    assert select(change, {h.index for h in found}).after == after


def test_a_last_line_without_newline_is_marked_not_joined() -> None:
    """Was: "-b+c" on one line (difflib joins the unterminated lines)."""
    diff = unified_diff(FileChange("f.txt", "a\nb", "a\nc"))
    assert diff.endswith("-b\n" + NO_NEWLINE + "+c\n" + NO_NEWLINE)
    (hunk,) = hunks(FileChange("f.txt", "a\nb", "a\nc"))
    assert "-b\n" + NO_NEWLINE in hunk.diff


def test_git_apply_accepts_the_diff(tmp_path: Path) -> None:
    cases = [("a\nb", "a\nc"), ("a\nb", "a\nb\n"), ("a\nb\n", "a\nb"), ("", "x"), ("x\r\ny", "x\r\nz\r\n")]
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    for before, after in cases:
        (tmp_path / "f.txt").write_bytes(before.encode())
        patch = tmp_path / "p.diff"
        patch.write_bytes(unified_diff(FileChange("f.txt", before, after)).encode())
        subprocess.run(["git", "apply", "--unidiff-zero", str(patch)], cwd=tmp_path, check=True, capture_output=True)
        assert (tmp_path / "f.txt").read_bytes() == after.encode(), (before, after)
