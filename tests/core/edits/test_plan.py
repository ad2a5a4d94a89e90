"""Edits + file texts in, new file texts (or every reason they do not apply) out."""

from __future__ import annotations

import pytest

from assistant.core.conversation import Message
from assistant.core.edits.parse import parse_edits
from assistant.core.edits.plan import (
    PlanError,
    locate,
    normalise_path,
    plan_changes,
    retry_message,
)
from assistant.core.edits.prompts import (
    EDIT_SYSTEM_PROMPT,
    WHOLE_FILE_SYSTEM_PROMPT,
    refactor_prompt,
)
from assistant.core.edits.types import (
    EditError,
    FileChange,
    MatchError,
    ParseError,
    SearchReplace,
    UnsafePath,
    WholeFile,
)

SOURCE = "def f():\n    x = 1\n    return x\n\n\ndef g():\n    return 2\n"


def reader(files: dict[str, str]):
    return files.get


def test_exact_unique_match() -> None:
    assert locate(SOURCE, "    x = 1\n") == (9, 19, False)


def test_exact_match_is_on_whole_lines() -> None:
    # "return 2" is also the end of no other line; "turn x" is inside a line only.
    assert locate(SOURCE, "    return 2\n") == (SOURCE.index("    return 2"), len(SOURCE), False)
    with pytest.raises(MatchError):
        locate(SOURCE, "turn x\n")


def test_ambiguous_match_counts_places() -> None:
    text = "a = 1\nb = 2\na = 1\na = 1\n"
    with pytest.raises(MatchError) as caught:
        locate(text, "a = 1\n", path="m.py")
    assert (caught.value.kind, caught.value.count, caught.value.path) == ("ambiguous", 3, "m.py")
    assert "matches 3 places" in str(caught.value)


def test_no_match() -> None:
    with pytest.raises(MatchError) as caught:
        locate(SOURCE, "    y = 1\n", path="m.py")
    assert (caught.value.kind, caught.value.count) == ("none", 0)


def test_whitespace_insensitive_second_try_reports_fuzzy() -> None:
    start, end, fuzzy = locate(SOURCE, "x = 1\nreturn x  \n")
    assert (SOURCE[start:end], fuzzy) == ("    x = 1\n    return x\n", True)


def test_fuzzy_ambiguity_counts() -> None:
    text = "if a:\n    pass\nif b:\n  pass\n"
    with pytest.raises(MatchError) as caught:
        locate(text, "pass\n")
    assert (caught.value.kind, caught.value.count) == ("ambiguous", 2)


def test_fuzzy_match_reindents_the_replacement() -> None:
    edits = [SearchReplace("m.py", "x = 1\nreturn x\n", "y = 1\nif y:\n    return y\n")]
    (change,) = plan_changes(edits, reader({"m.py": SOURCE}))
    assert change.after == "def f():\n    y = 1\n    if y:\n        return y\n\n\ndef g():\n    return 2\n"
    assert change.fuzzy_matches == 1


def test_fuzzy_match_dedents_the_replacement() -> None:
    text = "class A:\n  def f(self):\n      return 1\n"
    edits = [SearchReplace("a.py", "    def f(self):\n        return 1\n", "    def f(self):\n\n        return 2\n")]
    (change,) = plan_changes(edits, reader({"a.py": text}))
    assert change.after == "class A:\n  def f(self):\n\n      return 2\n"


def test_crlf_file_matched_by_lf_search_keeps_crlf() -> None:
    text = "a = 1\r\nb = 2\r\nc = 3\r\n"
    assert locate(text, "b = 2\n") == (7, 14, False)
    (change,) = plan_changes([SearchReplace("a.py", "b = 2\n", "b = 20\nb2 = 0\n")], reader({"a.py": text}))
    assert change.after == "a = 1\r\nb = 20\r\nb2 = 0\r\nc = 3\r\n"
    assert change.fuzzy_matches == 0


def test_file_without_final_newline_keeps_it_so() -> None:
    (change,) = plan_changes([SearchReplace("a.py", "b\n", "c\n")], reader({"a.py": "a\nb"}))
    assert change.after == "a\nc"


def test_chained_edits_on_one_file() -> None:
    edits = [
        SearchReplace("m.py", "    x = 1\n", "    x = 10\n"),
        SearchReplace("m.py", "    x = 10\n    return x\n", "    return x * 2\n"),
    ]
    (change,) = plan_changes(edits, reader({"m.py": SOURCE}))
    assert (change.path, change.before, change.fuzzy_matches) == ("m.py", SOURCE, 0)
    assert change.after == "def f():\n    return x * 2\n\n\ndef g():\n    return 2\n"


def test_new_file_from_empty_search() -> None:
    edits = [SearchReplace("./pkg//new.py", "", "X = 1\n")]
    assert plan_changes(edits, reader({})) == (FileChange("pkg/new.py", None, "X = 1\n"),)


def test_new_file_then_edited_in_the_same_proposal() -> None:
    edits = [SearchReplace("n.py", "", "X = 1\n"), SearchReplace("n.py", "X = 1\n", "X = 2\n")]
    assert plan_changes(edits, reader({})) == (FileChange("n.py", None, "X = 2\n"),)


def test_empty_search_on_existing_file_is_refused() -> None:
    with pytest.raises(PlanError) as caught:
        plan_changes([SearchReplace("m.py", "", "X = 1\n")], reader({"m.py": SOURCE}))
    assert "m.py already exists: an empty SEARCH creates a new file; quote the lines to replace" in str(caught.value)


def test_empty_search_fills_an_existing_empty_file() -> None:
    assert plan_changes([SearchReplace("e.py", "", "X = 1\n")], reader({"e.py": ""})) == (
        FileChange("e.py", "", "X = 1\n"),
    )


def test_missing_file() -> None:
    with pytest.raises(PlanError) as caught:
        plan_changes([SearchReplace("gone.py", "x\n", "y\n")], reader({}))
    (error,) = caught.value.errors
    assert type(error) is EditError and str(error).startswith("gone.py does not exist")


def test_all_errors_collected_into_one_plan_error() -> None:
    edits = [
        SearchReplace("m.py", "    x = 1\n", "    x = 2\n"),
        SearchReplace("m.py", "    nothing\n", "    z\n"),
        SearchReplace("o.py", "a\n", "b\n"),
        SearchReplace("gone.py", "x\n", "y\n"),
        SearchReplace("o.py", "c\n", "d\n"),
    ]
    files = {"m.py": SOURCE, "o.py": "a\na\nc\n"}
    with pytest.raises(PlanError) as caught:
        plan_changes(edits, reader(files))
    error = caught.value
    assert [f.number for f in error.failures] == [2, 3, 4]
    assert [type(e) for e in error.errors] == [MatchError, MatchError, EditError]
    assert str(error).startswith("3 of 5 edits do not apply: m.py: the SEARCH block starting 'nothing' matches nothing")
    assert str(error).endswith("(and 2 more)")
    assert "\n" not in str(error)


def test_one_failure_message() -> None:
    with pytest.raises(PlanError, match=r"^1 of 1 edits does not apply: m.py: .* matches nothing"):
        plan_changes([SearchReplace("m.py", "zzz\n", "y\n")], reader({"m.py": SOURCE}))


def test_retry_message_mentions_each_failing_block() -> None:
    edits = [
        SearchReplace("m.py", "    x = 1\n", "    x = 2\n"),
        SearchReplace("m.py", "def g(:\n    return 2\n", "def g():\n    return 3\n"),
        SearchReplace("m.py", "\n", "\n"),
        SearchReplace("o.py", "a\n", "b\n"),
    ]
    with pytest.raises(PlanError) as caught:
        plan_changes(edits, reader({"m.py": SOURCE, "o.py": "a\na\n"}))
    message = retry_message(caught.value)
    assert message.startswith("None of your edits were applied: 3 of 4 do not apply.")
    assert "- Block 2: m.py: the SEARCH block starting 'def g(:' matches nothing" in message
    assert "The lines of m.py most like it are:\n```\ndef g():\n    return 2\n```" in message
    assert "- Block 3: m.py already exists: an empty SEARCH creates a new file" in message
    assert "- Block 4: o.py: the SEARCH block starting 'a' matches 2 places" in message
    assert "Each SEARCH must match exactly one place" in message
    assert "Copy the SEARCH lines exactly from the file" in message


def test_retry_message_for_a_parse_error() -> None:
    with pytest.raises(ParseError) as caught:
        parse_edits("<<<<<<< SEARCH\na\n=======\nb\n>>>>>>> REPLACE\n")
    message = retry_message(caught.value)
    assert message.startswith("Your answer could not be read: block 1 has no file name")
    assert "Each SEARCH must match exactly one place" in message


def test_whole_file_replaces_or_creates() -> None:
    edits = [WholeFile("a.py", "new\n"), WholeFile("b.py", "B\n")]
    assert plan_changes(edits, reader({"a.py": "old\r\nold\r\n"})) == (
        FileChange("a.py", "old\r\nold\r\n", "new\r\n"),
        FileChange("b.py", None, "B\n"),
    )


def test_files_grouped_by_normalised_path_in_first_mention_order() -> None:
    files = {"b.py": "1\n", "pkg/a.py": "2\n"}
    edits = [
        SearchReplace("b.py", "1\n", "10\n"),
        SearchReplace(".\\pkg\\a.py", "2\n", "20\n"),
        SearchReplace("./b.py", "10\n", "100\n"),
    ]
    assert plan_changes(edits, reader(files)) == (
        FileChange("b.py", "1\n", "100\n"),
        FileChange("pkg/a.py", "2\n", "20\n"),
    )
    assert normalise_path(" ././a//b\\c.py") == "a/b/c.py"


def test_parsed_answer_applies_end_to_end() -> None:
    answer = (
        "m.py\n```python\n<<<<<<< SEARCH\ndef g():\n    return 2\n=======\n"
        "def g():\n    return 3\n>>>>>>> REPLACE\n```\n"
    )
    (change,) = plan_changes(parse_edits(answer), reader({"m.py": SOURCE}))
    assert change.after == SOURCE.replace("return 2", "return 3")


def test_refactor_prompt_messages() -> None:
    messages = refactor_prompt("src/m.py", "x = 1", "Rename x to y.", whole_file=False)
    assert messages == [
        Message("system", EDIT_SYSTEM_PROMPT),
        Message("user", "src/m.py\n```python\nx = 1\n```\n\nRename x to y.\n\nAnswer with SEARCH/REPLACE blocks for src/m.py."),
    ]
    # The prompt's own example is a block the parser reads.
    assert parse_edits(EDIT_SYSTEM_PROMPT.split("Example")[1])[0].path == "greet.py"


def test_refactor_prompt_whole_file_and_fenced_markdown() -> None:
    system, user = refactor_prompt("README.md", "```sh\nmake\n```\n", "Fix it.", whole_file=True)
    assert system == Message("system", WHOLE_FILE_SYSTEM_PROMPT)
    assert user.content.startswith("README.md\n````markdown\n```sh\nmake\n```\n````\n")
    assert parse_edits(WHOLE_FILE_SYSTEM_PROMPT, whole_file=True) == (
        WholeFile("greet.py", 'def greet(who):\n    print("hello", who)\n'),
    )


def test_replacement_takes_the_matched_lines_ending() -> None:
    text = "a\nb\r\nc\r\nd\n"
    (change,) = plan_changes([SearchReplace("m.txt", "b\nc\n", "B\nC\n")], reader({"m.txt": text}))
    assert change.after == "a\nB\r\nC\r\nd\n"


def test_delete_lines_and_whitespace_only_difference_in_trailing_spaces() -> None:
    text = "keep\ndrop  \nkeep2\n"
    (change,) = plan_changes([SearchReplace("m.txt", "drop\n", "")], reader({"m.txt": text}))
    assert (change.after, change.fuzzy_matches) == ("keep\nkeep2\n", 1)


def test_a_refused_path_fails_each_of_its_edits() -> None:
    def read(path: str) -> str | None:
        if path.startswith(".."):
            raise UnsafePath(f"{path} is outside the project")
        return SOURCE

    edits = [
        SearchReplace("../x.py", "a\n", "b\n"),
        SearchReplace("m.py", "    x = 1\n", "    x = 2\n"),
        SearchReplace("../x.py", "c\n", "d\n"),
    ]
    with pytest.raises(PlanError) as caught:
        plan_changes(edits, read)
    assert [(f.number, str(f.error)) for f in caught.value.failures] == [
        (1, "../x.py is outside the project"),
        (3, "../x.py is outside the project"),
    ]
    assert "- Block 3: ../x.py is outside the project" in retry_message(caught.value)


def test_retry_message_for_another_edit_error_and_whole_file_rules() -> None:
    message = retry_message(EditError("m.py: file is binary"), whole_file=True)
    assert message.startswith("None of your edits were applied: m.py: file is binary")
    assert "Write the complete file" in message
