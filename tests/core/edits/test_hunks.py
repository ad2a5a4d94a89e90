from __future__ import annotations

from assistant.core.edits.hunks import hunks, select
from assistant.core.edits.types import FileChange

BEFORE = "".join(f"line {i}\r\n" for i in range(30))
AFTER = BEFORE.replace("line 2\r\n", "LINE TWO\r\n").replace("line 25\r\n", "line 25\r\nadded\r\n")


def test_two_distant_changes_are_two_hunks() -> None:
    change = FileChange("f.txt", BEFORE, AFTER)
    found = hunks(change)
    assert [h.header for h in found] == ["@@ -1,6 +1,6 @@", "@@ -24,6 +24,7 @@"]
    assert "-line 2\r\n" in found[0].diff and "+LINE TWO\r\n" in found[0].diff


def test_selecting_hunks_takes_only_those_and_keeps_every_other_byte() -> None:
    change = FileChange("f.txt", BEFORE, AFTER)
    assert select(change, {0, 1}).after == AFTER
    assert select(change, set()).after == BEFORE
    first = select(change, {0}).after
    assert first == BEFORE.replace("line 2\r\n", "LINE TWO\r\n")
    second = select(change, {1}).after
    assert second == BEFORE.replace("line 25\r\n", "line 25\r\nadded\r\n")


def test_a_new_file_is_one_hunk() -> None:
    change = FileChange("new.py", None, "a\nb\n")
    (only,) = hunks(change)
    assert select(change, {0}).after == "a\nb\n"
