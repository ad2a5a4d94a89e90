"""Model text in, typed edits out: the parser must read what models really write
and refuse what cannot be tied to a file."""

from __future__ import annotations

import pytest

from assistant.core.edits.parse import (
    parse_edits,
    parse_search_replace,
    parse_whole_files,
)
from assistant.core.edits.types import ParseError, SearchReplace, WholeFile


def test_well_formed_single_block() -> None:
    text = (
        "greet.py\n"
        "<<<<<<< SEARCH\n"
        "    name = 'world'\n"
        "=======\n"
        "    who = 'world'\n"
        ">>>>>>> REPLACE\n"
    )
    assert parse_search_replace(text) == (SearchReplace("greet.py", "    name = 'world'\n", "    who = 'world'\n"),)


def test_fenced_block_with_language_tag() -> None:
    text = (
        "src/app.py\n"
        "```python\n"
        "<<<<<<< SEARCH\n"
        "x = 1\n"
        "=======\n"
        "x = 2\n"
        ">>>>>>> REPLACE\n"
        "```\n"
    )
    assert parse_edits(text) == (SearchReplace("src/app.py", "x = 1\n", "x = 2\n"),)


@pytest.mark.parametrize(
    "name_line",
    [
        "src/app.py",
        "`src/app.py`",
        "**src/app.py**",
        "# src/app.py",
        "File: src/app.py",
        "**File:** `src/app.py`",
        "- src/app.py:",
        "```python src/app.py",
        "```src/app.py",
    ],
)
def test_file_name_forms(name_line: str) -> None:
    fence = "" if name_line.startswith("```") else "```python\n"
    text = f"Here is the change.\n\n{name_line}\n{fence}<<<<<<< SEARCH\na\n=======\nb\n>>>>>>> REPLACE\n```\n"
    assert parse_edits(text) == (SearchReplace("src/app.py", "a\n", "b\n"),)


def test_file_name_inside_the_fence_as_a_comment() -> None:
    text = "```python\n# src/app.py\n<<<<<<< SEARCH\na\n=======\nb\n>>>>>>> REPLACE\n```\n"
    assert parse_edits(text) == (SearchReplace("src/app.py", "a\n", "b\n"),)


def test_extensionless_known_name() -> None:
    text = "Makefile\n<<<<<<< SEARCH\nall:\n=======\nall: build\n>>>>>>> REPLACE\n"
    assert parse_edits(text) == (SearchReplace("Makefile", "all:\n", "all: build\n"),)


def test_trailing_whitespace_on_markers() -> None:
    text = "a.py  \n<<<<<<< SEARCH   \nold\n=======\t\nnew\n>>>>>>> REPLACE \n"
    assert parse_edits(text) == (SearchReplace("a.py", "old\n", "new\n"),)


@pytest.mark.parametrize("size", [5, 7, 9])
def test_marker_lengths_from_five_to_nine(size: int) -> None:
    text = f"a.py\n{'<' * size} SEARCH\nold\n{'=' * size}\nnew\n{'>' * size} REPLACE\n"
    assert parse_edits(text) == (SearchReplace("a.py", "old\n", "new\n"),)


def test_four_characters_are_not_a_marker() -> None:
    with pytest.raises(ParseError, match="no SEARCH/REPLACE block found"):
        parse_edits("a.py\n<<<< SEARCH\nold\n====\nnew\n>>>> REPLACE\n")


def test_missing_file_name_names_block_1() -> None:
    text = "Here is the fix:\n<<<<<<< SEARCH\nold\n=======\nnew\n>>>>>>> REPLACE\n"
    with pytest.raises(ParseError, match=r"^block 1 has no file name"):
        parse_edits(text)


def test_several_files() -> None:
    text = (
        "a.py\n<<<<<<< SEARCH\n1\n=======\n2\n>>>>>>> REPLACE\n"
        "\nAnd the test:\n\n"
        "tests/test_a.py\n<<<<<<< SEARCH\n3\n=======\n4\n>>>>>>> REPLACE\n"
    )
    assert parse_edits(text) == (
        SearchReplace("a.py", "1\n", "2\n"),
        SearchReplace("tests/test_a.py", "3\n", "4\n"),
    )


def test_several_blocks_reuse_the_last_name() -> None:
    text = (
        "```python\na.py\n<<<<<<< SEARCH\n1\n=======\n2\n>>>>>>> REPLACE\n```\n"
        "Also change the import:\n"
        "```python\n<<<<<<< SEARCH\n3\n=======\n4\n>>>>>>> REPLACE\n```\n"
        "<<<<<<< SEARCH\n5\n=======\n6\n>>>>>>> REPLACE\n"
    )
    assert parse_edits(text) == (
        SearchReplace("a.py", "1\n", "2\n"),
        SearchReplace("a.py", "3\n", "4\n"),
        SearchReplace("a.py", "5\n", "6\n"),
    )


def test_empty_search_creates_a_file() -> None:
    text = "pkg/new.py\n<<<<<<< SEARCH\n=======\ndef f():\n    return 1\n>>>>>>> REPLACE\n"
    assert parse_edits(text) == (SearchReplace("pkg/new.py", "", "def f():\n    return 1\n"),)


def test_crlf_model_text() -> None:
    text = "a.py\r\n<<<<<<< SEARCH\r\nold\r\n=======\r\nnew\r\n>>>>>>> REPLACE\r\n"
    assert parse_edits(text) == (SearchReplace("a.py", "old\n", "new\n"),)


def test_prose_before_and_after() -> None:
    text = (
        "Sure! I'll rename the variable.\n\n"
        "a.py\n<<<<<<< SEARCH\nold\n=======\nnew\n>>>>>>> REPLACE\n\n"
        "This keeps the behaviour the same. Let me know if a.py needs more."
    )
    assert parse_edits(text) == (SearchReplace("a.py", "old\n", "new\n"),)


def test_unterminated_block() -> None:
    with pytest.raises(ParseError, match=r"^block 1 is not closed.*>>>>>>> REPLACE"):
        parse_edits("a.py\n<<<<<<< SEARCH\nold\n=======\nnew\n")


def test_search_without_divider_names_the_block() -> None:
    text = (
        "a.py\n<<<<<<< SEARCH\n1\n=======\n2\n>>>>>>> REPLACE\n"
        "a.py\n<<<<<<< SEARCH\n3\n>>>>>>> REPLACE\n"
    )
    with pytest.raises(ParseError, match=r"^block 2 has no ======="):
        parse_edits(text)


def test_search_without_anything_after_it() -> None:
    with pytest.raises(ParseError, match=r"^block 1 is not closed.*======="):
        parse_edits("a.py\n<<<<<<< SEARCH\nold\n")


def test_replace_without_search() -> None:
    with pytest.raises(ParseError, match=r"^block 1 has a >>>>>>> REPLACE with no <<<<<<< SEARCH"):
        parse_edits("a.py\nold\n=======\nnew\n>>>>>>> REPLACE\n")


def test_no_blocks() -> None:
    with pytest.raises(ParseError, match=r"^no SEARCH/REPLACE block found"):
        parse_edits("I think the code is fine as it is.")


def test_replace_text_kept_exactly() -> None:
    replace = "    def f(self):\n\n        return  1   \n\n\n"
    text = f"a.py\n<<<<<<< SEARCH\n\tx\n\n=======\n{replace}>>>>>>> REPLACE\n"
    assert parse_edits(text) == (SearchReplace("a.py", "\tx\n\n", replace),)


def test_empty_replace_deletes_and_one_blank_line_is_kept() -> None:
    text = (
        "a.py\n<<<<<<< SEARCH\nx\n=======\n>>>>>>> REPLACE\n"
        "<<<<<<< SEARCH\ny\n=======\n\n>>>>>>> REPLACE\n"
    )
    assert parse_edits(text) == (SearchReplace("a.py", "x\n", ""), SearchReplace("a.py", "y\n", "\n"))


def test_whole_file_one_file() -> None:
    text = "Here it is:\n\ngreet.py\n```python\ndef greet():\n    print('hi')\n```\n"
    assert parse_edits(text, whole_file=True) == (WholeFile("greet.py", "def greet():\n    print('hi')\n"),)


def test_whole_file_two_files_and_name_on_fence() -> None:
    text = (
        "a.py\n```python\nA = 1\n\n```\n"
        "Then:\n"
        "```toml conf/b.toml\n[b]\nx = 2\n```\n"
    )
    assert parse_whole_files(text) == (WholeFile("a.py", "A = 1\n\n"), WholeFile("conf/b.toml", "[b]\nx = 2\n"))


def test_whole_file_markdown_with_its_own_fences() -> None:
    text = "README.md\n```markdown\n# Use\n\n```bash\nmake\n```\n\nDone.\n```\n"
    assert parse_whole_files(text) == (WholeFile("README.md", "# Use\n\n```bash\nmake\n```\n\nDone.\n"),)


def test_whole_file_longer_fence_holds_backticks() -> None:
    text = "notes.md\n````\n```\nraw\n```\n````\n"
    assert parse_whole_files(text) == (WholeFile("notes.md", "```\nraw\n```\n"),)


def test_whole_file_crlf_and_empty_content() -> None:
    assert parse_whole_files("a.py\r\n```\r\nx\r\n```\r\nb.py\r\n```\r\n```\r\n") == (
        WholeFile("a.py", "x\n"),
        WholeFile("b.py", ""),
    )


def test_whole_file_without_name() -> None:
    with pytest.raises(ParseError, match=r"^block 1 has no file name"):
        parse_whole_files("Here:\n```python\nx = 1\n```\n")


def test_whole_file_unclosed() -> None:
    with pytest.raises(ParseError, match=r"^block 1 is not closed"):
        parse_whole_files("a.py\n```python\nx = 1\n")


def test_whole_file_nothing() -> None:
    with pytest.raises(ParseError, match=r"^no file found"):
        parse_whole_files("No changes needed.")
