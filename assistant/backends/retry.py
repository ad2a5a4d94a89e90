"""When and how long to wait before sending a failed request again (Claude and the inference servers).

The delays follow the Anthropic SDK's own policy (its `_calculate_retry_timeout`):
the server's `retry-after-ms` / `retry-after` when given, otherwise exponential
backoff from 0.5 s capped at 8 s with up to 25% jitter. On top of the SDK, a
turn's retries are bounded in total waiting time, and a wait the budget cannot
cover is not started at all: the user hears at once instead of after it.
"""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

INITIAL_RETRY_DELAY = 0.5
MAX_RETRY_DELAY = 8.0


def retry_after_seconds(headers: Mapping[str, str], now: Callable[[], float] = time.time) -> float | None:
    """The server's requested wait: `retry-after-ms`, else `retry-after` (seconds or an HTTP date)."""
    try:
        return float(headers["retry-after-ms"]) / 1000
    except (KeyError, TypeError, ValueError):
        pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    date = email.utils.parsedate_tz(value)
    try:
        return None if date is None else float(email.utils.mktime_tz(date) - now())
    except (ValueError, OverflowError):  # a date out of range (year 99999): no hint
        return None


def backoff_delay(retries_done: int, headers: Mapping[str, str], rand: Callable[[], float] = random.random) -> float:
    after = retry_after_seconds(headers)
    if after is not None and after > 0:
        return after
    delay = min(INITIAL_RETRY_DELAY * 2.0 ** min(retries_done, 1000), MAX_RETRY_DELAY)
    return max(delay * (1 - 0.25 * rand()), 0.0)


@dataclass(slots=True)
class RetryBudget:
    """Retries left for one turn: a count and a total waiting time."""

    max_retries: int
    max_seconds: float
    retries_done: int = 0
    waited: float = 0.0

    def next_wait(self, headers: Mapping[str, str], rand: Callable[[], float] = random.random) -> float | None:
        """Seconds to wait before the next attempt, or None when the budget is spent."""
        if self.retries_done >= self.max_retries:
            return None
        wait = backoff_delay(self.retries_done, headers, rand)
        if self.waited + wait > self.max_seconds:
            return None
        return wait

    def spend(self, wait: float) -> None:
        self.retries_done += 1
        self.waited += wait
