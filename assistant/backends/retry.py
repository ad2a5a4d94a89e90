"""When and how long to wait before sending a failed request again (Claude and the inference servers).

The delays follow the Anthropic SDK's own policy (its `_calculate_retry_timeout`):
the server's `retry-after-ms` / `retry-after` when given, otherwise exponential
backoff from 0.5 s capped at 8 s with up to 25% jitter. On top of the SDK, a
turn's retries are bounded in total waiting time, and a wait the budget cannot
cover is not started at all: the user hears at once instead of after it.
"""

from __future__ import annotations

import email.utils
import logging
import random
import threading
import time
from collections.abc import Callable, Generator, Iterator, Mapping
from dataclasses import dataclass
from typing import Protocol

from assistant.backends.stream_attempt import StreamAttempt
from assistant.core.events import BackendError, ErrorKind, Retrying, StreamEvent, TurnDone, Usage

log = logging.getLogger(__name__)

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


class Failure(Protocol):
    """What a backend's error classifier says of a failed attempt."""

    @property
    def kind(self) -> ErrorKind: ...
    @property
    def message(self) -> str: ...
    @property
    def retryable(self) -> bool: ...
    @property
    def headers(self) -> Mapping[str, str]: ...


class AttemptReader(Protocol):
    """One attempt's stream turned into events; how far it got once it ends."""

    failure: BaseException | None  # None: it ended as it should
    text_seen: bool

    def read(self, attempt: StreamAttempt, cancel: threading.Event) -> Iterator[StreamEvent]: ...

    @property
    def tokens_out(self) -> int: ...

    def usage(self, *, estimated: bool) -> Usage: ...


def retried_stream(
    new_reader: Callable[[], AttemptReader],
    open_attempt: Callable[[], StreamAttempt],
    classify: Callable[[BaseException], Failure],
    budget: RetryBudget,
    cancel: threading.Event,
    name: str,
) -> Generator[StreamEvent, None, AttemptReader | None]:
    """Attempts until one ends as it should (returned: its reader), or fails for good.

    A failure before any text is sent again while `budget` allows and the failure is
    retryable, each wait said (`Retrying`) and cut short by `cancel`; after text it is
    never replayed: the partial answer stands, marked interrupted. Either way the
    last word is one `BackendError` line (Claude's policy, and the servers')."""
    while True:
        reader = new_reader()
        yield from reader.read(open_attempt(), cancel)
        if reader.failure is None:
            return reader
        failure = classify(reader.failure)
        log.info("%s request failed (%s): %s", name, failure.kind, failure.message)
        if reader.text_seen:
            yield reader.usage(estimated=True)
            yield BackendError(f"Interrupted after {reader.tokens_out:,} tokens: {failure.message}", failure.kind)
            return None
        wait = budget.next_wait(failure.headers) if failure.retryable else None
        if wait is None:
            tries = budget.retries_done + 1
            yield BackendError(failure.message + (f" (gave up after {tries} tries)" if tries > 1 else ""), failure.kind)
            return None
        budget.spend(wait)
        yield Retrying(budget.retries_done, wait, failure.message)
        if cancel.wait(wait):
            yield TurnDone("cancelled")
            return None
