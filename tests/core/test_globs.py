"""Path globs (core/globs.py): the privacy patterns and `/drop` read them alike,
and a pattern full of `**` costs steps in proportion to its size times the
path's, never exponentially many (issue 24, item 16: `**/**/**/nomatch` against
an 80-deep path took 30 s per file per turn)."""

from __future__ import annotations

from collections.abc import Sequence
from fnmatch import fnmatchcase

from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.core import globs
from assistant.core.globs import match_path


def naive(segments: Sequence[str], parts: Sequence[str], *, anchored: bool, inside: bool, folders_only: bool) -> bool:
    """The definition, by brute force over every start and end of the match."""

    def full(segs: Sequence[str], ps: Sequence[str]) -> bool:
        if not segs:
            return not ps
        head, rest = segs[0], segs[1:]
        if head == "**":
            first = 1 if not rest else 0
            return any(full(rest, ps[i:]) for i in range(first, len(ps) + 1))
        return bool(ps) and fnmatchcase(ps[0], head) and full(rest, ps[1:])

    if not segments:
        return False
    starts = [0] if anchored else range(len(parts))
    if folders_only:
        ends = range(1, len(parts))
    elif inside:
        ends = range(1, len(parts) + 1)
    else:
        ends = range(len(parts), len(parts) + 1)
    return any(full(segments, parts[i:k]) for i in starts for k in ends if k > i)


SEGMENT = st.sampled_from(["a", "b", "*", "**", "a*", "?", "[ab]", "*b"])
NAME = st.sampled_from(["a", "b", "ab", "ba", "c"])


@settings(max_examples=400, deadline=None)
@given(st.lists(SEGMENT, max_size=5), st.lists(NAME, max_size=7), st.booleans(), st.booleans(), st.booleans())
def test_the_matcher_agrees_with_the_definition(segments, parts, anchored, inside, folders_only) -> None:
    options = {"anchored": anchored, "inside": inside, "folders_only": folders_only}
    assert match_path(segments, parts, **options) == naive(segments, parts, **options)


def test_a_pattern_of_double_stars_costs_steps_in_proportion_to_its_size(monkeypatch) -> None:
    calls = 0

    def counted(name: str, pattern: str) -> bool:
        nonlocal calls
        calls += 1
        return fnmatchcase(name, pattern)

    monkeypatch.setattr(globs, "fnmatchcase", counted)
    segments, parts = ["**", "**", "**", "nomatch"], ["d"] * 80
    assert not match_path(segments, parts, anchored=False, inside=True)
    assert calls <= len(segments) * (len(parts) + 1)  # each (segment, name) pair once; naive: ~80^3
