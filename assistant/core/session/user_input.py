"""What the user typed: `@` prefixes, and the files, folders and globs a message names.

Prefixes come first in a message and may be combined: `@claude` / `@local` (or
any backend's name) sends this turn there; `@other` to the backend that did not
answer the last turn (and so says that answer was wanting); `@auto` lets the
router decide; `@quality` asks for the best answer there is; `@edit`, `@code`,
`@explain`, `@chat` and `@batch` say what kind of turn it is (otherwise
core/routing/kinds.py reads it from the text). An unknown `@word` is left in the
text, untouched. A prefix is a whole word: `@code/x.py` names a folder `code`.

Further on, an `@` before a path names what the turn should hold (attached.py):
a file (`@src/calc.py`, found with the plainly written names), a folder
(`@src/`) or a glob (`@tests/**/test_*.py`), read as a person typed them.

Every reading takes time linear in the message's length, whatever it holds (a
megabyte pasted in one word, a flood of `@` or `~`): typed input must never be
slower than the model that answers it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path

from assistant.core.globs import is_glob, split_pattern
from assistant.core.project import OutsideProject, expand_home, typed_path, within_root
from assistant.core.words import AUTO, FLAG_WORDS, KIND_WORDS, OTHER, PREFIX_WORDS, TurnKind

# A prefix ends its word: one followed by a path's `/`, `.` or `~` is a path (`@code/x.py`).
_PREFIX = re.compile(r"@([A-Za-z][\w-]*)(?![\w/.~-])\s*")
# A stretch of a word that may name a file: word characters, `.`, `~`, `/`, `-`.
# One character class repeated: each match is maximal, so the scan is linear.
_PATH_RUN = re.compile(r"[\w.~/-]+")
# What may wrap a path in prose: quotes, brackets of a sentence, punctuation after it.
_WRAPPING = "\"'`()<>{},;:!?*"
# Around an `@` word, which may be a glob (`*`, `?`, `[`): what opens and closes it in prose.
_AT_OPENING = "\"'`(<{"
_AT_CLOSING = "\"'`)>},;:!?"
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


@dataclass(frozen=True, slots=True)
class AtPattern:
    """`@folder/` or `@glob`: the project's files under `folder` (relative to the
    root, "" for the root itself) whose path below it matches `segments`."""

    typed: str  # as the message has it, `@` included
    folder: str
    segments: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AtMentions:
    """What the `@` words of a message name: files (also those whose names prose
    would cut, `@app/[id]/page.tsx`), folders and globs, and the words that look
    like paths but name nothing the turn may hold, each with why."""

    files: tuple[str, ...] = ()  # relative to the root
    patterns: tuple[AtPattern, ...] = ()
    unknown: tuple[tuple[str, str], ...] = ()  # (`@word`, why)


def at_words(text: str) -> Iterator[str]:
    """Each distinct `@word` of `text` without its `@` and the prose around it
    (`(@src/)` → `src/`, `@a.py,` → `a.py`), up to `MAX_PATH_CHARS` long."""
    seen: set[str] = set()
    for word in dict.fromkeys(text.split()):
        if len(word) > MAX_PATH_CHARS + 8:
            continue
        word = word.lstrip(_AT_OPENING)
        if not word.startswith("@"):
            continue
        name = word[1:].rstrip(_AT_CLOSING)
        if name.endswith(".") and not name.endswith(("..", "/.")) and name != ".":  # the sentence's full stop
            name = name[:-1]
        if name and len(name) <= MAX_PATH_CHARS and name not in seen:
            seen.add(name)
            yield name


def at_mentions(text: str, root: Path, cwd: Path | None = None) -> AtMentions:
    """What the `@` words of `text` name in the project at `root`, read from where
    the person stands (as `mentioned_files` reads names). A word that is no path
    (`@property`) is prose, and says nothing. At most `MAX_MENTIONED` `@` words
    are looked at."""
    try:
        base = Path(os.path.realpath(root))
        here = _standing_in(base, cwd)
    except (OSError, ValueError):
        return AtMentions()
    files: list[str] = []
    patterns: list[AtPattern] = []
    unknown: list[tuple[str, str]] = []
    for looked, name in enumerate(at_words(text)):
        if looked >= MAX_MENTIONED:
            break
        try:
            path = Path(here, expand_home(name))
            if os.path.isfile(path):
                files.append(typed_path(name, root=base, cwd=here))
            elif os.path.isdir(path) or is_glob(name):
                patterns.append(_pattern(name, base, here))
            elif _PATH_RUN.fullmatch(name) and ("." in name or "/" in name) and not mentioned_files(name, base, here):
                unknown.append((f"@{name}", "no such file or folder in the project"))
        except OutsideProject:
            unknown.append((f"@{name}", "is outside the project"))
        except (OSError, ValueError):  # NUL, an unencodable name, a loop of links: no path
            continue
    return AtMentions(tuple(dict.fromkeys(files)), tuple(patterns), tuple(unknown))


def _pattern(name: str, root: Path, here: Path) -> AtPattern:
    """`@folder` or `@glob` as a folder of the project and the glob below it (a
    folder's is `**`: everything in it). OutsideProject when the folder is not in it."""
    typed = expand_home(name)
    segments = split_pattern(typed)
    literal = next((i for i, segment in enumerate(segments) if is_glob(segment)), len(segments))
    folder = within_root(Path(Path(typed).anchor or here, *segments[:literal]), root)
    if folder is None:
        raise OutsideProject(f"@{name}: is outside the project")
    return AtPattern(f"@{name}", folder.as_posix() if folder.parts else "", tuple(segments[literal:]) or ("**",))


def _standing_in(root: Path, cwd: Path | None) -> Path:
    """Where typed names start from: `cwd` (default the current folder) when it is
    inside `root`, else `root` itself."""
    here = Path(os.path.realpath(cwd if cwd is not None else os.getcwd()))
    return here if here == root or root in here.parents else root
