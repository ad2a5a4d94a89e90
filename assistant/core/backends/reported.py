"""Figures a remote server reports, believed only within bounds.

An SDK builds its objects from the server's JSON without validating them, so a
usage figure may be -100, true, 1e12, NaN or "12", a time may be negative or
infinite, a model name a megabyte of terminal escapes. Every figure from outside
passes through here before a turn, the ledger or the screen sees it: a figure out
of bounds is treated as not reported (the app's own count stands, as it does for a
missing one), and `believed` says so in the log, so a lying server is visible
without ever being stored. Claude's stream reader and the inference servers' use
the same rules.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from assistant.core.text import shown

log = logging.getLogger(__name__)

MAX_TOKEN_FIGURE = 10**9  # a usage figure above this is not believed: no context is near it
MAX_MODEL_NAME = 200
# Faster than any engine generates or evaluates a prompt: a rate above it comes from a
# time the server got wrong (0.000001 ms for a thousand tokens).
MAX_TOKENS_PER_SECOND = 10**6


def figure(value: Any, limit: int = MAX_TOKEN_FIGURE) -> int | None:
    """`value` when it is a believable token count (an int, not a bool, in [0, limit]), else None."""
    if type(value) is int and 0 <= value <= limit:
        return value
    return None


def seconds(value: Any, limit: float) -> float | None:
    """`value` as a float when it is a believable duration (a finite number, not a
    bool, in [0, limit]), else None."""
    if type(value) not in (int, float):
        return None
    number = float(value)
    return number if math.isfinite(number) and 0 <= number <= limit else None


def believable_rate(tokens: int, seconds_taken: float) -> bool:
    """Whether `tokens` in `seconds_taken` is a speed an engine can have."""
    return seconds_taken <= 0 or tokens / seconds_taken <= MAX_TOKENS_PER_SECOND


def believed(value: Any, checked: Any, what: str) -> Any:  # noqa: ANN401 - whatever the check returns
    """`checked` (the result of checking `value`), logging a value that was sent but
    not believed: a missing figure is not news, a wrong one is."""
    if checked is None and value is not None:
        log.warning("%s: %s is not believable; not used", what, shown(value))
    return checked


def model_name(value: Any, default: str) -> str:
    """The model the server says served the turn, when it is a plausible name."""
    if isinstance(value, str) and 0 < len(value) <= MAX_MODEL_NAME and value.isprintable():
        return value
    return default


__all__ = ["MAX_MODEL_NAME", "MAX_TOKEN_FIGURE", "believable_rate", "believed", "figure", "model_name", "seconds"]
