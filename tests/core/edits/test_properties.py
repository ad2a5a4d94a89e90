"""Generated input at the edit boundaries (issue 10): model replies parsed as edits,
file names, file contents. Properties: nothing but the typed, one-line errors
(`EditError` and its kinds) escapes; time grows at most linearly with the size of
the reply; names end inside the root or are refused; contents round-trip byte for byte."""

from __future__ import annotations

import gc
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.core.edits.files import encode, normalise, read_file, resolve
from assistant.core.edits.parse import parse_edits
from assistant.core.edits.plan import plan_changes
from assistant.core.edits.types import EditError, FileRefused, UnsafePath
from tests.linear import assert_linear

HEAD, DIV, TAIL = "<<<<<<< SEARCH", "=======", ">>>>>>> REPLACE"
FILES = {"calc.py": "def add(a, b):\n    return a+b\n", "docs/my notes.md": "# notes\n\ntext\n"}

# Pieces a model's answer is made of, so generated answers reach deep into the parser.
_PIECES = st.sampled_from([
    HEAD, DIV, TAIL, "```", "```python", "````", "~~~", "```markdown docs/my notes.md", "calc.py", "docs/my notes.md",
    "`calc.py`", "**calc.py**", "File: calc.py", "- app/[id]/page.tsx", "def add(a, b):", "    return a+b", "",
    "  <<<<<<<   SEARCH  ", "<<<<< ORIGINAL", ">>>>>>>>> UPDATED", "../etc/passwd", "/abs.py", ".git/config",
])
_LINES = st.lists(_PIECES | st.text(max_size=30), max_size=40)
_REPLY = _LINES.map("\n".join) | _LINES.map("\r\n".join) | st.text()


def read(path: str) -> str | None:
    if path.startswith("/") or ".." in path.split("/") or path.startswith(".git"):
        raise UnsafePath(f"{path}: refused")
    return FILES.get(path)


def parse_and_plan(text: str, whole_file: bool) -> None:
    try:
        edits = parse_edits(text, whole_file=whole_file, default_path="calc.py", known_paths=list(FILES))
        plan_changes(edits, read)
    except EditError as exc:
        assert str(exc) and "\n" not in str(exc).split(":", 1)[0]


@given(_REPLY, st.booleans())
def test_any_reply_is_edits_or_a_typed_error(text: str, whole_file: bool) -> None:
    parse_and_plan(text, whole_file)


@pytest.mark.slow
@settings(max_examples=3000)
@given(_REPLY, st.booleans())
def test_any_reply_is_edits_or_a_typed_error_deep(text: str, whole_file: bool) -> None:
    parse_and_plan(text, whole_file)


GOOD = f"calc.py\n{HEAD}\n    return a+b\n{DIV}\n    return a + b\n{TAIL}\n"

FLOODS = {
    "heads": lambda n: f"{HEAD}\n" * n,
    "dividers": lambda n: f"calc.py\n{HEAD}\n" + f"{DIV}\n" * n,
    "tails": lambda n: f"calc.py\n{HEAD}\nx\n{DIV}\n" + f"{TAIL}\n" * n,
    "open block": lambda n: f"calc.py\n{HEAD}\n" + "x\n" * n,
    "bare fences": lambda n: "```\n" * n,
    "info fences": lambda n: "```python\n" * n,
    "unbalanced fences": lambda n: "```a\n```a\n```\n" * n,
    "fence then spaces": lambda n: "```" + " " * n + "x\n",
    # Were quadratic (8 s at 2,000) and worse (a minute at 4,000):
    "unbalanced named fences": lambda n: "```a x.py\n```a x.py\n```\n" * (n // 8),
    "fence, spaces, backtick": lambda n: "```" + " " * n + "x`\n",
    "one long word": lambda n: "calc" * n + "\n" + HEAD + "\n",
    "brackets": lambda n: "[" * n + "\n" + HEAD + "\n",
    "a/": lambda n: "a/" * n + "x.py\n" + HEAD + "\n",
    "tildes": lambda n: "~" * n + "\n",
    "backticks": lambda n: "`" * n + "\n",
    "blank lines": lambda n: "\n" * n + HEAD + "\n",
    "good blocks": lambda n: GOOD * (n // 8),
}


def without_gc(work):
    """`work` timed without the cyclic collector, whose pauses grow with the heap
    (amortised linear, but one lands in one run and not another) and are not the parser's."""

    def timed(arg):
        gc.disable()
        try:
            return work(arg)
        finally:
            gc.enable()

    return timed


@pytest.mark.parametrize("whole_file", [False, True])
@pytest.mark.parametrize("flood", list(FLOODS))
def test_floods_cost_linear_time(flood: str, whole_file: bool) -> None:
    make = FLOODS[flood]
    work = without_gc(lambda text: parse_and_plan(text, whole_file))
    assert_linear(work, make, sizes=(20_000, 40_000, 80_000), floor_s=0.01)


def test_a_huge_reply_is_read_quickly() -> None:
    import time

    text = GOOD + "x" * 5_000_000 + "\n" + "```\n" * 50_000
    start = time.process_time()
    parse_and_plan(text, False)
    parse_and_plan(text, True)
    # A guard against a stall, 100x the ~0.15 s a working machine takes, in CPU time (other
    # processes' load does not count; how the cost grows is test_floods_cost_linear_time's).
    assert time.process_time() - start < 15


# -- file names ---------------------------------------------------------------------

_NAME = st.text(max_size=40) | st.lists(st.sampled_from(["a", "..", ".", "", ".git", "GIT~1", "x.py", " ", "~",
                                                         "\u0301", "\u202e", "ﬁ", "A\u030a", "[id]", "con."]),
                                          max_size=6).map("/".join)


@given(_NAME)
def test_any_name_is_refused_or_a_path_inside_the_root(tmp_path_factory, name: str) -> None:
    root = tmp_path_factory.getbasetemp() / "names-root"
    (root / "sub").mkdir(parents=True, exist_ok=True)
    if not os.path.lexists(root / "out"):
        os.symlink("..", root / "out")  # a way out, which must be refused
    try:
        normal = normalise(name)
    except UnsafePath as exc:
        assert "\n" not in str(exc)
        return
    assert normal and not normal.startswith("/") and ".." not in normal.split("/")
    try:
        real = resolve(root, normal)
    except (UnsafePath, EditError):
        return
    assert Path(os.path.realpath(real)).is_relative_to(os.path.realpath(root))


# -- file contents ------------------------------------------------------------------

_BYTES = st.binary(max_size=300) | st.text(max_size=100).map(lambda t: t.encode("utf-8", "surrogatepass")) | (
    st.text(max_size=100).map(lambda t: b"\xef\xbb\xbf" + t.encode("utf-8", "surrogatepass"))
)


@given(_BYTES)
def test_any_bytes_are_text_that_writes_back_exactly_or_refused(tmp_path_factory, data: bytes) -> None:
    root = tmp_path_factory.getbasetemp() / "bytes-root"
    root.mkdir(exist_ok=True)
    (root / "f.txt").write_bytes(data)
    try:
        current = read_file(root, "f.txt", max_bytes=1000)
    except FileRefused as exc:
        assert "\n" not in str(exc)
        return
    assert current is not None and current.raw == data
    assert encode(current, current.text) == data  # not one byte changes on the way back
