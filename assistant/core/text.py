"""Outside text made safe to keep and to show.

Text reaches the app from places that do not promise valid Unicode: Python
decodes argv (and a stdin opened with `surrogateescape`) so that a byte that is
not UTF-8 becomes a lone surrogate, which SQLite, JSON APIs and terminals then
refuse to encode. `clean_text` is the one place those become U+FFFD; it is
applied where such text enters (the question of `ask`, `--set` values) and where
it is stored (every value the ledger and the session store write).

`shown` and `one_line` keep error messages to one readable line whatever value
they name (a megabyte string, a table nested a thousand deep, a newline in a key).
"""

from __future__ import annotations

import re
import reprlib
from typing import Any

REPLACEMENT = "\ufffd"
_SURROGATE = re.compile("[\ud800-\udfff]")

_REPR = reprlib.Repr()
_REPR.maxstring = 80
_REPR.maxother = 80
_REPR.maxlevel = 3
_REPR.maxlist = _REPR.maxtuple = _REPR.maxdict = _REPR.maxset = 6


def clean_text(text: str) -> str:
    """`text` with every lone surrogate replaced by U+FFFD (valid text unchanged)."""
    if text.isascii():  # the usual case, answered without a scan in Python
        return text
    return _SURROGATE.sub(REPLACEMENT, text)


def decode_bytes(data: bytes) -> str:
    """Bytes from outside (piped stdin) as text: invalid UTF-8 becomes U+FFFD."""
    return data.decode("utf-8", errors="replace")


def shown(value: Any) -> str:
    """A value as an error message names it: its repr, cut short and never nested
    deeper than a few levels (a deep table's full repr would not even finish)."""
    return one_line(_REPR.repr(value))


def named(text: str) -> str:
    """A name (a key, a path) as an error message says it: as it is when it is
    short and printable, else `shown`."""
    return text if len(text) <= 200 and text.isprintable() else shown(text)


def error_line(error: BaseException | None, limit: int = 300, *, whole: bool = False) -> str:
    """An exception nothing expected, as one short line a person can read (and
    report): its type and its message's first line (`whole`: all its lines,
    joined), at most `limit` characters."""
    if error is None:
        return "an unknown error"
    said = str(error).strip()
    message = one_line(said) if whole else (said.splitlines()[0] if said else "")
    text = f"{type(error).__name__}: {message}" if message else type(error).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"


def one_line(text: str) -> str:
    """`text` on one line: line breaks of any kind become spaces."""
    return " ".join(text.splitlines()) if text else text


__all__ = ["REPLACEMENT", "clean_text", "decode_bytes", "error_line", "named", "one_line", "shown"]
