"""What the user typed, read for routing: `@` prefixes and the files a message names.

Prefixes come first in a message and may be combined: `@claude` / `@local` (or
any backend's name) sends this turn there; `@auto` lets the router decide;
`@quality` asks for the best answer there is; `@batch` marks bulk work. An
unknown `@word` is left in the text, untouched.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from assistant.core.routing import QUALITY, TurnKind

_PREFIX = re.compile(r"@([A-Za-z][\w-]*)\s*")
_FLAGS = {"quality": QUALITY, "best": QUALITY}
_KINDS: dict[str, TurnKind] = {"batch": "batch", "refactor": "refactor"}
# Words that may name a file: a path with a slash or a dot in it.
_PATHISH = re.compile(r"[\w.~/-]*[./][\w./-]*\w")
MAX_MENTIONED = 20


@dataclass(frozen=True, slots=True)
class TurnInput:
    text: str  # what is sent to the model, prefixes removed
    forced: str | None = None
    auto: bool = False  # `@auto`: the router decides even in a fixed mode
    flags: frozenset[str] = frozenset()
    kind: TurnKind = "chat"


def parse_turn(text: str, backends: Collection[str]) -> TurnInput:
    forced: str | None = None
    auto = False
    flags: set[str] = set()
    kind: TurnKind = "chat"
    rest = text.lstrip()
    while match := _PREFIX.match(rest):
        word = match.group(1).lower()
        if word in backends:
            forced = word
        elif word == "auto":
            auto, forced = True, None
        elif word in _FLAGS:
            flags.add(_FLAGS[word])
        elif word in _KINDS:
            kind = _KINDS[word]
        else:
            break  # an unknown @word belongs to the message
        rest = rest[match.end() :]
    return TurnInput(rest if rest != text.lstrip() else text, forced, auto, frozenset(flags), kind)


def mentioned_files(text: str, root: Path) -> tuple[str, ...]:
    """Existing files under `root` that the message names, as paths relative to it.

    Only files inside the project count: a path leading out of it is not this
    project's file to route on."""
    found: list[str] = []
    try:
        base = root.resolve()
    except OSError:
        return ()
    for word in dict.fromkeys(_PATHISH.findall(text)):
        candidate = (base / Path(word).expanduser()).resolve() if not word.startswith("~") else Path(word).expanduser().resolve()
        try:
            relative = candidate.relative_to(base)
        except ValueError:
            continue
        if candidate.is_file():
            found.append(relative.as_posix())
            if len(found) >= MAX_MENTIONED:
                break
    return tuple(found)
