"""A chat turn's kind, read from its text: the documented rules, and that any input gets one at once."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.core.routing import kinds
from assistant.core.routing.kinds import WINDOW, classify
from assistant.core.words import KINDS

FILES = ("calc.py",)

# (text, files, kind): one row per rule, per priority conflict and per way of typing.
EXAMPLES = [
    # edit: an edit verb on code that exists
    ("can you fix this function?", (), "edit"),
    ("fix it", (), "edit"),
    ("Fix it.", (), "edit"),
    ("simplify this", (), "edit"),
    ("clean this up", (), "edit"),
    ("clean up this code", (), "edit"),
    ("Make it faster.", (), "edit"),
    ("make this loop faster", (), "edit"),
    ("rewrite this in Rust", (), "edit"),
    ("rename the variable x to total", FILES, "edit"),
    ("fix the typo in README.md", ("README.md",), "edit"),
    ("Refactor calc.py to use dataclasses", FILES, "edit"),
    ("add logging to it", (), "edit"),
    ("add type hints", FILES, "edit"),
    ("type-annotate my script", (), "edit"),
    ("optimise my python script", (), "edit"),
    ("speed up this query", (), "edit"),
    ("extract a helper from this method", (), "edit"),
    ("```\ndef f(x): return x\n```\nadd type hints", (), "edit"),
    ("```py\nfor i in range(10): print(i)\n```\nrewrite it as a comprehension", (), "edit"),
    ("I have this function. Can you make it faster?", (), "edit"),
    ("what does it do? and then delete the following", (), "edit"),
    # politeness lead-ins, capitals and punctuation in front of an edit
    ("hey, could you please simplify this", (), "edit"),
    ("Please, PLEASE refactor THIS FUNCTION!!!", (), "edit"),
    ("ok so i need you to tidy up my code", (), "edit"),
    ("Let's convert this class to a dataclass", (), "edit"),
    ("go ahead and remove those tests", (), "edit"),
    ("hi! i'd like you to update this file.", (), "edit"),
    ("how do I fix this function?", (), "edit"),
    ("Could you fix that?", (), "edit"),
    # code: a creation verb and a code word
    ("write a function that parses dates", (), "code"),
    ("how do I write a function that parses dates?", (), "code"),
    ("how do I write a regex for emails?", (), "code"),
    ("can you write a script that renames photos", (), "code"),
    ("can you give me a bash one-liner", (), "code"),
    ("WRITE A SQL QUERY THAT COUNTS USERS!!!", (), "code"),
    ("generate unit tests for parse_date", (), "code"),
    ("write tests for this function", (), "code"),
    ("make a cli that lists files", (), "code"),
    ("make me a small python script", FILES, "code"),
    ("create a Dockerfile", (), "code"),
    ("show me how to write a decorator", (), "code"),
    ("give me an example of a decorator", (), "code"),
    ("what's the best way to implement an LRU cache class?", (), "code"),
    ("please scaffold a FastAPI endpoint", (), "code"),
    ("write a function. what is a closure?", (), "code"),
    # explain: a question or an explain request, and neither of the above
    ("what does this function do?", FILES, "explain"),
    ("what does this function do?", (), "explain"),
    ("explain decorators", (), "explain"),
    ("Explain this code", FILES, "explain"),
    ("review this function", (), "explain"),
    ("is Python slow", (), "explain"),
    ("why does it crash? thanks", (), "explain"),
    ("how do I rename a git branch?", (), "explain"),
    ("could you rename a git branch", (), "explain"),
    ("what's the difference between a list and a tuple", (), "explain"),
    ("difference between list and tuple", (), "explain"),
    ("eli5 monads", (), "explain"),
    ("tell me about asyncio", (), "explain"),
    ("walk me through this module", (), "explain"),
    ("show me how decorators work", (), "explain"),
    ("I don't understand this code", (), "explain"),
    ("how are you supposed to use asyncio?", (), "explain"),
    ("When should I use a generator", (), "explain"),
    ("Summarize the following", (), "explain"),
    ("¿Qué es esto?", (), "explain"),
    # chat: everything else
    ("", (), "chat"),
    ("   \n\t ", (), "chat"),
    ("thanks!", (), "chat"),
    ("hi, how are you?", (), "chat"),
    ("hi there, how are you?", (), "chat"),
    ("Hello there! How is it going?", (), "chat"),
    ("good morning, how are you?", (), "chat"),
    ("hey everyone, how's your day going so far?", (), "chat"),
    ("good morning!", (), "chat"),
    ("what's up", (), "chat"),
    ("Thanks, that works now.", (), "chat"),
    ("rename a git branch", (), "chat"),
    ("please rename a git branch", (), "chat"),
    ("rename this branch", (), "chat"),
    ("fix the typo in README.md", (), "chat"),
    ("write a poem about code", (), "chat"),
    ("write a cover letter for a python developer job", (), "chat"),
    ("convert 5 km to miles", (), "chat"),
    ("do it", (), "chat"),
    ("have a nice day", (), "chat"),
    ("what a great answer", (), "chat"),
    ("tell me a joke", (), "chat"),
    ("Bonjour, comment ça va", (), "chat"),
    ("Guten Morgen, wie geht's", (), "chat"),
    ("こんにちは、元気ですか", (), "chat"),
    ("```\nprint('hello')\n```", (), "chat"),
]


@pytest.mark.parametrize(("text", "files", "kind"), EXAMPLES)
def test_examples(text: str, files: tuple[str, ...], kind: str) -> None:
    assert classify(text, files) == kind


def test_the_table_covers_every_kind_classify_returns() -> None:
    assert {kind for _, _, kind in EXAMPLES} == set(KINDS) - {"batch", "task"}  # callers set those two
    assert len(EXAMPLES) >= 50


# The examples the module docstring gives, which must keep holding.
DOCUMENTED = [
    ("can you simplify this function?", (), "edit"),
    ("fix it", (), "edit"),
    ("Refactor calc.py to use dataclasses", FILES, "edit"),
    ("add logging to it", (), "edit"),
    ("rename a git branch", (), "chat"),
    ("how do I rename a git branch?", (), "explain"),
    ("write a function that parses dates", (), "code"),
    ("how do I write a regex for emails?", (), "code"),
    ("can you give me a bash one-liner", (), "code"),
    ("write a poem about code", (), "chat"),
    ("what does this function do?", (), "explain"),
    ("explain decorators", (), "explain"),
    ("is Python slow", (), "explain"),
    ("why does it crash? thanks", (), "explain"),
    ("thanks!", (), "chat"),
    ("hi, how are you?", (), "chat"),
    ("hi there, how are you?", (), "chat"),
    ("good morning!", (), "chat"),
    ("hey, could you please fix it", (), "edit"),
]


@pytest.mark.parametrize(("text", "files", "kind"), DOCUMENTED)
def test_the_docstring_examples_hold(text: str, files: tuple[str, ...], kind: str) -> None:
    doc = re.sub(r"\s+", " ", kinds.__doc__ or "")
    assert f'"{text}"' in doc
    assert classify(text, files) == kind


def test_batch_is_never_read_from_text() -> None:
    assert classify("@batch refactor every file") != "batch"
    assert classify("rename these files in one batch", FILES) == "edit"


def test_a_file_name_that_is_empty_names_no_file() -> None:
    assert classify("fix the typo", ("",)) == "chat"
    assert classify("fix the typo", ("", "a.py")) == "edit"


# -- greetings and small talk ------------------------------------------------------

OPENERS = ("hi", "hey", "hello", "hi there", "hey there", "hello there", "hello everyone", "hi all",
           "good morning", "good evening", "howdy")
SMALL_TALK = ("how are you?", "how's it going?", "how is your day going?", "what's up?", "how are you doing today?")
ABOUT_CODE = [(text, files, kind) for text, files, kind in EXAMPLES if kind != "chat"]


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(OPENERS), st.sampled_from([", ", "! ", ". ", " "]), st.sampled_from(SMALL_TALK))
def test_a_greeting_with_small_talk_is_chat(opener: str, mark: str, talk: str) -> None:
    assert classify(f"{opener}{mark}{talk}") == "chat"
    assert classify(f"{opener.title()}{mark}{talk.upper()}") == "chat"


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(OPENERS),
    st.sampled_from([", ", "! ", ". ", " "]),
    st.one_of(st.just(""), st.sampled_from(SMALL_TALK).map(lambda talk: talk + " ")),
    st.sampled_from(ABOUT_CODE),
)
def test_a_greeting_or_small_talk_in_front_leaves_a_question_about_code_its_kind(
    opener: str, mark: str, talk: str, example: tuple[str, tuple[str, ...], str]
) -> None:
    text, files, kind = example
    assert classify(f"{opener}{mark}{talk}{text}", files) == kind


# -- any input ----------------------------------------------------------------------

# Every character, lone surrogates and NUL included.
ANY_TEXT = st.text(alphabet=st.characters(exclude_categories=()))
# Words the rules look at, so that the properties also run through every rule.
VOCABULARY = sorted(
    {
        *("?", "!", ".", ";", "\n", ",", "```", "'", "-", "\x00", "\ud800", "é"),
        *(phrase for group in (
            kinds.GREETINGS, kinds.REQUEST_LEAD_INS, kinds.QUESTION_LEAD_INS,
            kinds.SMALL_TALK, kinds.EDIT_VERBS, kinds.CREATION_VERBS, kinds.CODE_NOUNS,
            kinds.POINTERS, kinds.STANDALONE_POINTERS, kinds.TOPIC_WORDS, kinds.WH_WORDS,
            kinds.AUXILIARIES, kinds.NOT_QUESTIONS, kinds.EXPLAIN_REQUESTS,
            kinds.OBJECT_PRONOUNS, kinds.PARTICLES,
        ) for phrase in group),
    }
)
WORDY_TEXT = st.lists(st.sampled_from(VOCABULARY), max_size=30).map(" ".join)
TEXTS = st.one_of(ANY_TEXT, WORDY_TEXT)
FILE_LISTS = st.lists(ANY_TEXT, max_size=3).map(tuple)


@settings(max_examples=300, deadline=None)
@given(TEXTS, FILE_LISTS)
def test_any_text_gets_a_kind_and_the_same_one_twice(text: str, files: tuple[str, ...]) -> None:
    kind = classify(text, files)
    assert kind in KINDS
    assert kind != "batch"
    assert classify("".join(list(text)), tuple(files)) == kind


def _heads(draw_text: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Texts at least WINDOW long: a drawn text padded with a repeated filler."""
    fillers = st.sampled_from([" ", "a", "?", "```", "fix this ", "why ", "\n"])
    return st.tuples(draw_text, fillers, st.integers(0, 40)).map(
        lambda drawn: (drawn[0] + drawn[1] * WINDOW)[: WINDOW + drawn[2]]
    )


@settings(max_examples=150, deadline=None)
@given(_heads(TEXTS), TEXTS, TEXTS, FILE_LISTS)
def test_nothing_after_the_window_changes_the_kind(
    head: str, tail: str, other_tail: str, files: tuple[str, ...]
) -> None:
    assert len(head) >= WINDOW
    assert classify(head + tail, files) == classify(head + other_tail, files)


@pytest.mark.parametrize(
    "text",
    [
        "why " * 250_000,
        "a" * 1_000_000,
        "?" * 1_000_000,
        "```" * 333_334,
        "fix this " * 111_112,
        "can you please " * 66_667,
        "\x00\ud800" * 500_000,
    ],
    ids=["why", "a", "question-marks", "fences", "fix-this", "lead-ins", "nul-surrogate"],
)
def test_a_megabyte_gets_a_kind(text: str) -> None:
    assert len(text) >= 1_000_000
    assert classify(text, FILES) in KINDS
