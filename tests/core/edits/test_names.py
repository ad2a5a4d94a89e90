"""File names with spaces and brackets in model answers (issue 10, item 6): brackets,
parentheses, braces and commas are ordinary path characters; a space only in a path
the model was asked about, so that prose never becomes a file name."""

from __future__ import annotations

import pytest

from assistant.core.edits.parse import parse_edits
from assistant.core.edits.prompts import refactor_prompt
from assistant.core.edits.types import ParseError, SearchReplace, WholeFile

BODY = "<<<<<<< SEARCH\nold\n=======\nnew\n>>>>>>> REPLACE\n"


@pytest.mark.parametrize("name", ["app/[id]/page.tsx", "app/(group)/[...slug]/page.tsx", "a,b{c}.py", "@scope/x.ts"])
@pytest.mark.parametrize("decorated", ["{}", "`{}`", "**{}**", "File: {}", "- {}", "# {}"])
def test_bracketed_names_need_no_help(name: str, decorated: str) -> None:
    """Was: "block 1 has no file name"."""
    assert parse_edits(decorated.format(name) + "\n" + BODY) == (SearchReplace(name, "old\n", "new\n"),)


@pytest.mark.parametrize("decorated", ["{}", "`{}`", "**{}**", "File: {}"])
def test_a_known_name_with_spaces_is_read(decorated: str) -> None:
    name = "docs/my notes.md"
    text = decorated.format(name) + "\n" + BODY
    assert parse_edits(text, known_paths=[name]) == (SearchReplace(name, "old\n", "new\n"),)
    with pytest.raises(ParseError, match="no file name"):
        parse_edits(text)


def test_a_known_name_with_spaces_on_the_fence_line() -> None:
    name = "docs/my notes.md"
    answer = f"```markdown {name}\n# Notes\n```\n"
    assert parse_edits(answer, whole_file=True, known_paths=[name]) == (WholeFile(name, "# Notes\n"),)
    sr = f"```text {name}\n{BODY}```\n"
    assert parse_edits(sr, known_paths=[name]) == (SearchReplace(name, "old\n", "new\n"),)


def test_prose_is_never_a_file_name() -> None:
    for prose in ["Here is the change:", "I changed (the) function.", "See [the docs] for more", "Done, see below",
                  "e.g. this", "Note: calc.py was changed"]:
        with pytest.raises(ParseError, match="no file name"):
            parse_edits(prose + "\n" + BODY, known_paths=["docs/my notes.md"])


def test_the_prompt_asks_to_repeat_an_unusual_name_as_it_is() -> None:
    (_, user) = refactor_prompt("docs/my notes.md", "# x\n", "tidy", whole_file=False)
    assert user.content.startswith("docs/my notes.md\n")
    assert "exactly as given, on its own line: docs/my notes.md" in user.content
    (_, plain) = refactor_prompt("calc.py", "x\n", "tidy", whole_file=False)
    assert "exactly as given" not in plain.content
