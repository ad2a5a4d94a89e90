"""What the user typed, read for routing: `@` prefixes and the files a message names.

Prefixes come first in a message and may be combined: `@claude` / `@local` (or
any backend's name) sends this turn there; `@other` to the backend that did not
answer the last turn (and so says that answer was wanting); `@auto` lets the
router decide; `@quality` asks for the best answer there is; `@edit`, `@code`,
`@explain`, `@chat` and `@batch` say what kind of turn it is (otherwise
core/routing/kinds.py reads it from the text). An unknown `@word` is left in the
text, untouched.

Both readings take time linear in the message's length, whatever it holds (a
megabyte pasted in one word, a flood of `@` or `~`): typed input must never be
slower than the model that answers it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path

from assistant.core.project import expand_home, typed_path
from assistant.core.words import AUTO, FLAG_WORDS, KIND_WORDS, OTHER, PREFIX_WORDS, TurnKind

_PREFIX = re.compile(r"@([A-Za-z][\w-]*)\s*")
# A stretch of a word that may name a file: word characters, `.`, `~`, `/`, `-`.
# One character class repeated: each match is maximal, so the scan is linear.
_PATH_RUN = re.compile(r"[\w.~/-]+")
# What may wrap a path in prose: quotes, brackets of a sentence, punctuation after it.
_WRAPPING = "\"'`()<>{},;:!?*"
MAX_MENTIONED = 20
MAX_PATH_CHARS = 4096  # PATH_MAX: a longer word cannot name a file
MAX_CHECKED = 1000  # distinct path-like words looked up on disk, per message


@dataclass(frozen=True, slots=True)
class TurnInput:
    text: str  # what is sent to the model, prefixes removed
    forced: str | None = None
    auto: bool = False  # `@auto`: the router decides even in a fixed mode
    flags: frozenset[str] = frozenset()
    kind: TurnKind | None = None  # None: not said (read from the text)
    other: bool = False  # `@other`


def parse_turn(text: str, backends: Collection[str]) -> TurnInput:
    """The prefixes at the start of `text`, and the text without them.

    The prefixes are matched in place (by position, not by cutting the text
    after each one), so a flood of them costs one pass."""
    forced: str | None = None
    auto = False
    flags: set[str] = set()
    kind: TurnKind | None = None
    other = False
    rest = text.lstrip()
    pos = 0
    while match := _PREFIX.match(rest, pos):
        word = match.group(1).lower()
        if word in backends and word not in PREFIX_WORDS:  # a plugin cannot take a prefix's meaning
            forced, other = word, False
        elif word == AUTO:
            auto, forced, other = True, None, False
        elif word == OTHER:
            other, forced = True, None
        elif word in FLAG_WORDS:
            flags.add(FLAG_WORDS[word])
        elif word in KIND_WORDS:
            kind = KIND_WORDS[word]
        else:
            break  # an unknown @word belongs to the message
        pos = match.end()
    return TurnInput(rest[pos:] if pos else text, forced, auto, frozenset(flags), kind, other)


def path_words(text: str) -> Iterator[str]:
    """Each distinct word of `text` that may name a file, in order.

    A word is split on whitespace; it counts whole (prose's quotes and trailing
    punctuation taken off, so `app/[id]/page.tsx` and `my-file.py,` are found),
    and so does each stretch of path characters in it (`(see src/x.py)`). Only
    words with a `.` or `/` count, up to `MAX_PATH_CHARS` long."""
    seen: set[str] = set()
    for word in dict.fromkeys(text.split()):  # a repeated word is looked at once
        if len(word) > MAX_PATH_CHARS or ("." not in word and "/" not in word):
            continue
        whole = word.strip(_WRAPPING).rstrip(".")
        runs = (run.rstrip(".~/-") for run in _PATH_RUN.findall(word))
        for candidate in (whole, *runs):
            if candidate and candidate not in seen and ("." in candidate or "/" in candidate):
                seen.add(candidate)
                yield candidate


def mentioned_files(text: str, root: Path, cwd: Path | None = None) -> tuple[str, ...]:
    """Existing files of the project at `root` that the message names, as paths
    relative to `root`.

    A name is read as a person typed it, relative to where they stand (`cwd`,
    default the current folder; a session whose root does not hold that folder
    reads names from its root); `~/` is their home. Only files inside the project
    count: a path leading out of it is not this project's file to route on. At
    most `MAX_CHECKED` distinct path-like words are looked up, so a message of
    thousands of dotted words costs a bounded number of disk lookups."""
    try:
        base = Path(os.path.realpath(root))
        here = _standing_in(base, cwd)
    except (OSError, ValueError):
        return ()
    found: list[str] = []
    for checked, word in enumerate(path_words(text)):
        if checked >= MAX_CHECKED or len(found) >= MAX_MENTIONED:
            break
        # One lookup first (most words name nothing); then the typed path's rule,
        # which resolves every folder on the way and so costs one lookup per folder.
        if not os.path.isfile(os.path.join(here, expand_home(word))):
            continue
        try:
            relative = typed_path(word, root=base, cwd=here)
            if relative not in found:
                found.append(relative)
        except (ValueError, OSError):  # outside the project, not a path, unencodable
            continue
    return tuple(found)


def _standing_in(root: Path, cwd: Path | None) -> Path:
    """Where typed names start from: `cwd` (default the current folder) when it is
    inside `root`, else `root` itself."""
    here = Path(os.path.realpath(cwd if cwd is not None else os.getcwd()))
    return here if here == root or root in here.parents else root
