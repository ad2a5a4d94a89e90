"""Generated input for the prompt's readers (`parse_turn`, `mentioned_files`):
arbitrary Unicode (surrogates and NUL included), prefix and `@` floods, `~`,
`../` floods and long words. Properties: nothing escapes, the answer has its
shape, and a name that is there is found."""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.core.session.user_input import MAX_MENTIONED, mentioned_files, parse_turn
from assistant.core.words import KINDS

BACKENDS = ("local", "claude")
PREFIXES = ["@local", "@claude", "@auto", "@quality", "@best", "@batch", "@refactor", "@edit", "@code", "@explain", "@chat",
            "@other", "@LOCAL", "@Claude"]

# Every code point, lone surrogates and NUL included (what a paste or a pipe can bring).
anything = st.text(st.characters(exclude_categories=()), max_size=300)
pathish = st.text(st.sampled_from("a.~/-_ @[]`\\\0\ud800é"), max_size=60)
floods = st.builds(
    lambda unit, n: unit * n,
    st.sampled_from(["~", "a/", "../", "@", "@local", "@local ", "[", "`", ".", "~/", "\0", "\ud800", "x" * 97]),
    st.integers(0, 3000),
)
messages = st.one_of(anything, pathish, floods, st.lists(st.one_of(anything, pathish, floods), max_size=5).map(" ".join))


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("project")
    for name in ("a.py", "sub/b.md", "sub/deep/c.txt", "app/[id]/page.tsx", "~home.py", "dots.in.name.cfg"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("x\n")
    return root


@given(st.lists(st.sampled_from(PREFIXES), max_size=8), anything)
def test_prefixes_come_off_and_the_rest_is_the_message(prefixes: list[str], body: str) -> None:
    body = body.lstrip()
    if body.startswith("@"):
        body = "x" + body
    parsed = parse_turn(" ".join([*prefixes, body]), BACKENDS)
    assert parsed.text == body
    assert parsed.forced is None or parsed.forced in BACKENDS
    assert parsed.kind is None or parsed.kind in KINDS


@given(messages)
def test_parse_turn_answers_anything_with_a_suffix_of_it(text: str) -> None:
    parsed = parse_turn(text, BACKENDS)
    assert text.endswith(parsed.text)
    assert parsed.forced is None or parsed.forced in BACKENDS


def check_mentions(project: Path, text: str) -> None:
    """No exception; at most MAX_MENTIONED distinct existing files, named inside the project."""
    found = mentioned_files(text, project, cwd=project)
    assert isinstance(found, tuple) and len(found) <= MAX_MENTIONED
    assert len(set(found)) == len(found)
    for name in found:
        assert not PurePosixPath(name).is_absolute() and ".." not in PurePosixPath(name).parts
        assert (project / name).is_file()


@given(messages)
def test_mentioned_files_answers_anything_with_files_of_the_project(project: Path, text: str) -> None:
    check_mentions(project, text)


@given(messages, st.sampled_from(["a.py", "sub/b.md", "app/[id]/page.tsx", "~home.py", "dots.in.name.cfg"]), messages)
def test_a_named_file_is_found_among_anything(project: Path, before: str, name: str, after: str) -> None:
    found = mentioned_files(f"{before} {name} {after}", project, cwd=project)
    assert name in found or len(found) == MAX_MENTIONED


@given(st.integers(0, 40), st.sampled_from(["sub/b.md", "sub/deep/c.txt"]))
def test_dot_dot_floods_lead_nowhere_outside(project: Path, ups: int, name: str) -> None:
    found = mentioned_files("../" * ups + name, project, cwd=project / "sub" / "deep")
    assert found == ((name,) if ups == 2 else ())


@given(messages)
def test_no_home_folder_is_no_error(project: Path, text: str) -> None:
    saved = os.environ.pop("HOME", None)
    try:
        mentioned_files("~ ~/a.py ~nobody/a.py " + text, project, cwd=project)
    finally:
        if saved is not None:
            os.environ["HOME"] = saved


@pytest.mark.slow
@settings(max_examples=2000)
@given(messages)
def test_deep_mentioned_files_answers_anything(project: Path, text: str) -> None:
    check_mentions(project, text)


def test_a_backend_named_like_a_prefix_does_not_take_its_meaning() -> None:
    """A plugin backend called `quality` (config refuses such a server) leaves
    `@quality` a flag, `@other` the other backend, `@edit` a kind."""
    named_like_words = (*BACKENDS, "quality", "other", "edit")
    parsed = parse_turn("@quality @edit fix it", named_like_words)
    assert parsed.forced is None and parsed.flags and parsed.kind == "edit" and parsed.text == "fix it"
    assert parse_turn("@other again", named_like_words).other
