"""The tools that read and change files (core/tools/files.py, search.py), on real git
repositories: each tool's work, and each refusal that keeps a model inside the
project (`..`, absolute paths, symlinks out, `.git/`), off files it has not read,
and from overwriting a whole file."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from assistant.core.config import ToolsConfig
from assistant.core.tools.catalog import by_name
from assistant.core.tools.search import GREP_FILE_BYTES
from assistant.core.tools.types import Tool, ToolContext, ToolResult
from tests.core.edits.gitrepo import git, make_repo
from tests.linear import assert_linear

CALC = "def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return a - b\n"
SECRET = "outside-secret-42\n"


def tool(name: str) -> Tool:
    found = by_name(name)
    assert found is not None
    return found


def call(ctx: ToolContext, name: str, **args: Any) -> ToolResult:
    return tool(name).execute(args, ctx)


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "secret.txt").write_text(SECRET)
    return folder


@pytest.fixture
def ctx(tmp_path: Path, outside: Path) -> ToolContext:
    root = make_repo(tmp_path / "proj", {"README.md": "# calc\nTODO: docs\n", ".gitignore": "build/\n*.log\n"})
    (root / "src").mkdir()
    (root / "src/calc.py").write_text(CALC)
    (root / "tests").mkdir()
    (root / "tests/test_calc.py").write_text("from calc import add\n\n\ndef test_add():\n    assert add(1, 2) == 3\n")
    git(root, "add", ".")
    git(root, "commit", "-qm", "files")
    (root / "notes.txt").write_text("untracked, listed\n")
    (root / "build").mkdir()
    (root / "build/out.py").write_text("ignored = True  # TODO\n")
    (root / "debug.log").write_text("ignored TODO\n")
    os.symlink(outside / "secret.txt", root / "out.txt")
    os.symlink(outside, root / "outdir")
    return ToolContext(root)


def files_outside(outside: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in outside.iterdir()}


# --- read ---------------------------------------------------------------------------


def test_read_gives_numbered_lines_and_remembers_the_file(ctx: ToolContext) -> None:
    result = call(ctx, "read", path="src/calc.py")
    assert result.ok and result.summary == "6 lines"
    assert result.content.splitlines()[1] == "     2\t    return a + b"
    assert ctx.read == {"src/calc.py"}
    part = call(ctx, "read", path="./src//calc.py", start=5, end=99)
    assert part.ok and part.summary == "lines 5-6 of 6"
    assert [line.split("\t")[0].strip() for line in part.content.splitlines()] == ["5", "6"]


def test_a_long_file_is_cut_and_says_where_to_read_on(ctx: ToolContext) -> None:
    (ctx.root / "long.txt").write_text("".join(f"line {n:04} of a long file\n" for n in range(1, 201)))
    small = replace(ctx, tools=ToolsConfig(read_max_bytes=1000))
    first = call(small, "read", path="long.txt")
    assert first.ok and len(first.content.encode()) < 1200
    last = first.content.splitlines()[-1]
    assert last.startswith("[cut at line ") and "of 200; read again with start=" in last
    cut_at = int(last.split("start=")[1].rstrip("]"))
    assert f"line {cut_at - 1:04}" in first.content and f"line {cut_at:04}" not in first.content
    again = call(small, "read", path="long.txt", start=cut_at)
    assert again.content.splitlines()[0].endswith(f"line {cut_at:04} of a long file")


def test_one_line_longer_than_the_cap_is_shown_cut(ctx: ToolContext) -> None:
    (ctx.root / "min.js").write_text("x" * 5000 + "\nnext\n")
    result = call(replace(ctx, tools=ToolsConfig(read_max_bytes=1000)), "read", path="min.js")
    assert result.ok and "[line 1 cut at 1,000 bytes]" in result.content
    assert "read again with start=2" in result.content


def test_read_refuses_what_is_not_a_text_file_in_the_project(ctx: ToolContext, outside: Path) -> None:
    (ctx.root / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\0\0\0")
    (ctx.root / "latin.txt").write_bytes(b"caf\xe9\n")
    cases = {
        "logo.png": "looks binary",
        "latin.txt": "is not UTF-8",
        "missing.py": "no such file",
        "src": "is a folder",
        "../outside/secret.txt": "'..'",
        "/etc/passwd": "outside the project",
        str(ctx.root / "src/calc.py"): "write 'src/calc.py'",
        "out.txt": "outside the project through a symlink",
        "outdir/secret.txt": "outside the project through a symlink",
        ".git/config": ".git/",
    }
    for path, why in cases.items():
        result = call(ctx, "read", path=path)
        assert not result.ok and why in result.content, (path, result.content)
        assert SECRET.strip() not in result.content
    assert ctx.read == set()
    assert not call(ctx, "read", path="src/calc.py", start=7).ok


# --- list ---------------------------------------------------------------------------


def test_list_gives_the_project_files_as_git_sees_them(ctx: ToolContext) -> None:
    result = call(ctx, "list")
    assert result.ok
    listed = result.content.splitlines()
    assert listed == sorted(listed)
    assert {"src/calc.py", "tests/test_calc.py", "README.md", "notes.txt", ".gitignore"} <= set(listed)
    assert not {"build/out.py", "debug.log", "out.txt"} & set(listed)  # ignored; a link out
    assert not any(path.startswith("outdir") for path in listed)
    assert call(ctx, "list", pattern="*.py").content.splitlines() == ["src/calc.py", "tests/test_calc.py"]
    assert call(ctx, "list", pattern="src").content.splitlines() == ["src/calc.py"]
    assert call(ctx, "list", pattern="tests/**/test_*.py").content.splitlines() == ["tests/test_calc.py"]
    nothing = call(ctx, "list", pattern="*.rs")
    assert nothing.ok and nothing.summary == "no files"


def test_list_is_capped_and_counts_the_rest(ctx: ToolContext) -> None:
    for n in range(30):
        (ctx.root / f"f{n:02}.txt").write_text("x\n")
    result = call(replace(ctx, tools=ToolsConfig(max_results=10)), "list", pattern="f*.txt")
    lines = result.content.splitlines()
    assert lines[:10] == [f"f{n:02}.txt" for n in range(10)]
    assert lines[10:] == ["… and 20 more"]
    assert result.summary == "30 files"


def test_list_refuses_patterns_that_lead_out(ctx: ToolContext) -> None:
    for pattern, why in {
        "../*": "'..'",
        "/etc/*": "outside the project",
        "outdir/*": "through a symlink",
        "outdir": "through a symlink",
    }.items():
        result = call(ctx, "list", pattern=pattern)
        assert not result.ok and why in result.content, (pattern, result.content)
        assert "secret.txt" not in result.content


# --- grep ---------------------------------------------------------------------------


def test_grep_gives_path_line_text(ctx: ToolContext) -> None:
    result = call(ctx, "grep", pattern=r"return a [+-] b")
    assert result.ok
    assert result.content.splitlines() == ["src/calc.py:2:     return a + b", "src/calc.py:6:     return a - b"]
    assert result.summary == "2 matches in 1 file"
    todo = call(ctx, "grep", pattern="todo", ignore_case=True)
    assert todo.content.splitlines() == ["README.md:2: TODO: docs"]  # not the ignored files
    assert call(ctx, "grep", pattern="def", path="tests").content.splitlines() == [
        "tests/test_calc.py:4: def test_add():"
    ]
    assert call(ctx, "grep", pattern="def", path="*.py").summary == "3 matches in 2 files"
    assert call(ctx, "grep", pattern="^def add", path="src/calc.py").summary == "1 match in 1 file"
    none = call(ctx, "grep", pattern="nowhere")
    assert none.ok and none.summary == "no matches"


def test_grep_caps_matches_cuts_lines_and_skips_binary_and_huge_files(ctx: ToolContext) -> None:
    (ctx.root / "many.txt").write_text("".join(f"hit {n}\n" for n in range(50)))
    (ctx.root / "wide.txt").write_text("a" * 1000 + " hit " + "b" * 1000 + "\n")
    (ctx.root / "data.bin").write_bytes(b"hit\0\0")
    (ctx.root / "huge.txt").write_bytes(b"hit\n" * (GREP_FILE_BYTES // 4 + 10))
    result = call(replace(ctx, tools=ToolsConfig(max_results=5)), "grep", pattern="hit")
    lines = result.content.splitlines()
    assert lines[:5] == [f"many.txt:{n + 1}: hit {n}" for n in range(5)]
    assert "… and 46 more matches (51 in all)" in lines
    assert "[not searched, over 2 MiB: huge.txt]" in lines
    assert "[1 binary files skipped]" in lines
    assert result.summary == "51 matches in 2 files"
    wide = call(ctx, "grep", pattern="hit", path="wide.txt").content.splitlines()[0]
    assert len(wide) < 340 and " hit " in wide and wide.startswith("wide.txt:1: …")


def test_grep_says_what_is_wrong_with_a_regex(ctx: ToolContext) -> None:
    result = call(ctx, "grep", pattern="(unclosed")
    assert not result.ok
    assert result.content.startswith('bad regex "(unclosed": missing ), unterminated subpattern')


def test_grep_never_reads_outside(ctx: ToolContext) -> None:
    assert call(ctx, "grep", pattern="outside-secret").summary == "no matches"
    for path in ("../outside", "/etc", "outdir", "outdir/*.txt"):
        result = call(ctx, "grep", pattern="secret", path=path)
        assert not result.ok and SECRET.strip() not in result.content, (path, result.content)


def test_grep_stops_when_cancelled(ctx: ToolContext) -> None:
    ctx.cancel.set()
    result = call(ctx, "grep", pattern="def")
    assert not result.ok and "cancelled, 0 of" in result.content


# --- edit ---------------------------------------------------------------------------


def test_edit_replaces_the_one_place_and_keeps_the_rest(ctx: ToolContext) -> None:
    call(ctx, "read", path="src/calc.py")
    result = call(ctx, "edit", path="src/calc.py", old="return a + b", new="return b + a  # commutes\n    # ok")
    assert result.ok and result.changed == ("src/calc.py",)
    assert result.summary == "+2 −1 lines"
    assert (ctx.root / "src/calc.py").read_text() == CALC.replace("return a + b", "return b + a  # commutes\n    # ok")
    assert "-    return a + b" in result.content and "+    # ok" in result.content
    assert result.output.startswith("Edited src/calc.py: +2 −1 lines\n@@ -1,5 +1,6 @@")


def test_edit_refuses_a_file_not_read_in_this_task(ctx: ToolContext) -> None:
    result = call(ctx, "edit", path="src/calc.py", old="a + b", new="b + a")
    assert not result.ok and "read it first" in result.content
    assert (ctx.root / "src/calc.py").read_text() == CALC


def test_edit_refuses_a_whole_file_overwrite(ctx: ToolContext) -> None:
    call(ctx, "read", path="src/calc.py")
    for old in ("", "  \n", CALC, CALC.strip()):
        result = call(ctx, "edit", path="src/calc.py", old=old, new="print('gone')\n")
        assert not result.ok and "a whole-file overwrite of an existing file is refused" in result.content
    assert (ctx.root / "src/calc.py").read_text() == CALC


def test_an_empty_file_and_a_one_line_file_can_be_filled(ctx: ToolContext) -> None:
    (ctx.root / "empty.py").write_text("")
    (ctx.root / "VERSION").write_text("1.0\n")
    call(ctx, "read", path="empty.py")
    call(ctx, "read", path="VERSION")
    assert call(ctx, "edit", path="empty.py", old="", new="x = 1\n").ok
    assert call(ctx, "edit", path="VERSION", old="1.0", new="1.1").ok
    assert (ctx.root / "empty.py").read_text() == "x = 1\n"
    assert (ctx.root / "VERSION").read_text() == "1.1\n"


def test_edit_of_an_ambiguous_old_asks_for_context_or_replace_all(ctx: ToolContext) -> None:
    call(ctx, "read", path="src/calc.py")
    result = call(ctx, "edit", path="src/calc.py", old="(a, b)", new="(x, y)")
    assert not result.ok
    assert "found 2 times; give more context" in result.content and "replace_all" in result.content
    every = call(ctx, "edit", path="src/calc.py", old="(a, b)", new="(x, y)", replace_all=True)
    assert every.ok and "2 places replaced" in every.content
    assert (ctx.root / "src/calc.py").read_text().count("(x, y)") == 2


def test_edit_of_text_not_in_the_file_shows_the_closest_lines(ctx: ToolContext) -> None:
    call(ctx, "read", path="src/calc.py")
    result = call(ctx, "edit", path="src/calc.py", old="    return a * b\n", new="    return 0\n")
    assert not result.ok
    assert "`old` is not found" in result.content and "the lines most like it are:\n    return a" in result.content
    assert (ctx.root / "src/calc.py").read_text() == CALC


def test_edit_with_other_indentation_is_matched_and_reindented(ctx: ToolContext) -> None:
    call(ctx, "read", path="src/calc.py")
    shifted = call(
        ctx,
        "edit",
        path="src/calc.py",
        old="  def sub(a, b):\n      return a - b\n",
        new="  def sub(a, b):\n      return b - a\n",
    )
    assert shifted.ok and "re-indented" in shifted.content
    assert (ctx.root / "src/calc.py").read_text() == CALC.replace("return a - b", "return b - a")


def test_edit_whose_indentation_differs_unevenly_is_refused_with_the_lines(ctx: ToolContext) -> None:
    call(ctx, "read", path="src/calc.py")
    result = call(
        ctx, "edit", path="src/calc.py", old="def sub(a, b):\nreturn a - b\n", new="def sub(a, b):\nreturn 0\n"
    )
    assert not result.ok
    assert "matches lines 5-6 only once indentation is ignored" in result.content
    assert result.content.endswith("def sub(a, b):\n    return a - b\n")
    assert (ctx.root / "src/calc.py").read_text() == CALC


def test_edit_of_a_crlf_file_keeps_crlf(ctx: ToolContext) -> None:
    (ctx.root / "win.txt").write_bytes(b"one\r\ntwo\r\nthree\r\n")
    call(ctx, "read", path="win.txt")
    result = call(ctx, "edit", path="win.txt", old="one\ntwo\n", new="1\n2\n2.5\n")
    assert result.ok
    assert (ctx.root / "win.txt").read_bytes() == b"1\r\n2\r\n2.5\r\nthree\r\n"


def test_edit_refuses_paths_that_lead_out(ctx: ToolContext, outside: Path) -> None:
    before = files_outside(outside)
    ctx.read.update({"out.txt", "outdir/secret.txt", ".git/config"})
    for path, why in {
        "../outside/secret.txt": "'..'",
        "/etc/passwd": "outside the project",
        "out.txt": "through a symlink",
        "outdir/secret.txt": "through a symlink",
        ".git/config": ".git/",
    }.items():
        result = call(ctx, "edit", path=path, old="outside-secret-42", new="changed")
        assert not result.ok and why in result.content, (path, result.content)
    assert files_outside(outside) == before


# --- write --------------------------------------------------------------------------


def test_write_creates_a_new_file_and_its_folders(ctx: ToolContext) -> None:
    result = call(ctx, "write", path="pkg/sub/new.py", content="x = 1\ny = 2\n")
    assert result.ok and result.changed == ("pkg/sub/new.py",) and result.summary == "created, 2 lines"
    assert (ctx.root / "pkg/sub/new.py").read_text() == "x = 1\ny = 2\n"
    assert "pkg/sub/new.py" in ctx.read  # it can be edited next
    assert call(ctx, "edit", path="pkg/sub/new.py", old="y = 2", new="y = 3").ok


def test_write_refuses_an_existing_file(ctx: ToolContext) -> None:
    result = call(ctx, "write", path="src/calc.py", content="gone\n")
    assert not result.ok and "exists" in result.content and "edit it" in result.content
    assert (ctx.root / "src/calc.py").read_text() == CALC


def test_write_refuses_paths_that_lead_out(ctx: ToolContext, outside: Path) -> None:
    before = files_outside(outside)
    for path, why in {
        "../outside/new.txt": "'..'",
        "/tmp/new.txt": "outside the project",
        "outdir/new.txt": "through a symlink",
        "out.txt": "through a symlink",
        ".git/hooks/pre-commit": ".git/",
        "src": "is a directory",
    }.items():
        result = call(ctx, "write", path=path, content="#!/bin/sh\necho pwned\n")
        assert not result.ok and why in result.content, (path, result.content)
    assert files_outside(outside) == before
    assert not (ctx.root / ".git/hooks/pre-commit").exists()


# --- any input ----------------------------------------------------------------------

PATHS = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["..", "../x", "/", "/etc/passwd", "out.txt", "outdir", "outdir/x", ".git", ".git/HEAD", "src/"]),
    st.sampled_from(["a\0b", "x/\0/*.py", "\ud800", "\ud800/*", "a\tb/*", "\u202e.py"]),
)


@given(name=st.sampled_from(["read", "list", "grep", "edit", "write"]), path=PATHS, text=st.text(max_size=20))
def test_any_path_gets_a_result_and_nothing_outside_changes(
    tmp_path_factory: pytest.TempPathFactory, name: str, path: str, text: str
) -> None:
    base = tmp_path_factory.mktemp("any")
    outside = base / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text(SECRET)
    root = make_repo(base / "proj", {"a.py": "a = 1\nb = 2\n"})
    os.symlink(outside / "secret.txt", root / "out.txt")
    os.symlink(outside, root / "outdir")
    ctx = ToolContext(root, read={"a.py", "out.txt", path})
    args = {
        "read": {"path": path}, "list": {"pattern": path}, "grep": {"pattern": text or "x", "path": path},
        "edit": {"path": path, "old": "a = 1", "new": text}, "write": {"path": path, "content": text},
    }[name]  # fmt: skip
    result = tool(name).execute(args, ctx)
    assert isinstance(result, ToolResult) and "\n" not in result.summary
    assert [p.name for p in outside.iterdir()] == ["secret.txt"]
    assert (outside / "secret.txt").read_text() == SECRET
    assert SECRET.strip() not in result.content


# --- cost ---------------------------------------------------------------------------


def test_grep_and_read_grow_linearly_with_the_file(ctx: ToolContext) -> None:
    def make(lines: int) -> str:
        name = f"big{lines}.txt"
        (ctx.root / name).write_text(
            "".join(f"row {n:07} of text {'hit' if n % 97 == 0 else ''}\n" for n in range(lines))
        )
        return name

    sizes = (10_000, 20_000, 40_000)
    assert_linear(lambda name: call(ctx, "grep", pattern=r"\d+ of text hit", path=name), make, sizes)
    assert_linear(lambda name: call(ctx, "read", path=name), make, sizes)
