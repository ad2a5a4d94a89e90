"""ClaudeBackend under every fault of the Messages API, over real HTTP to the loopback fake.

The rule under test: a request is sent again only while no text has arrived
(within the retry count and the total waiting budget); once text has been shown,
a failure ends the turn as "Interrupted after N tokens" and nothing is replayed.
Cancelling ends the turn at once, even during a stalled read or a retry wait.

No bound here is one a busy machine can reach: a stall cut by a read timeout is seen
by the fake (`hangups`) and in the retry's reason, and what must not be waited out
(a stall, a read, a retry wait) lasts FOREVER, so "cut short" is a bound of half of it.
How fast a cancel lands is a speed, measured in bench/, not here.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from assistant.backends.claude.backend import ClaudeBackend
from assistant.core.conversation import Message
from assistant.core.events import (
    Retrying,
    StreamEvent,
    TextDelta,
    TurnDone,
    Usage,
)
from tests.backends.claude.conftest import claude_backend
from tests.backends.claude.turns import WRONG_KEY, Turn, record
from tests.fake_anthropic import (
    DEFAULT_FAULT_TEXT,
    OVERLOADED,
    RATE_LIMITED,
    SERVER_ERROR,
    SPEND_LIMIT,
    UNAUTHORIZED,
    Answer,
    Drop,
    ErrorEvent,
    FakeAnthropic,
    NoMessageStop,
    Stall,
    StallPoint,
    Status,
    closed_port_url,
    fake_token_count,
)
from tests.patience import FOREVER, PATIENCE, wait_until

MESSAGES = [Message("system", "You are terse."), Message("user", "Say something about foxes.")]
ANSWER = "Foxes are small, clever canids."
PIECES = re.findall(r"\w+|[^\w\s]|\s+", DEFAULT_FAULT_TEXT)  # the fake's deltas of a fault's text


def run(backend: ClaudeBackend, cancel: threading.Event | None = None, on_event=None) -> Turn:
    return record(backend, MESSAGES, cancel, on_event)


def assert_answered(turn: Turn, text: str = ANSWER) -> None:
    assert turn.text == text  # exactly once: nothing replayed or lost
    final = turn.events[-2]
    assert isinstance(final, Usage) and not final.estimated
    assert final.completion_tokens == fake_token_count(text)
    assert turn.last == TurnDone("end_turn")


def assert_interrupted(turn: Turn, deltas: int, kind: str) -> None:
    assert turn.text == "".join(PIECES[:deltas])
    assert len(turn.text_deltas) == deltas
    assert turn.retries == []
    final = turn.events[-2]
    assert isinstance(final, Usage) and final.estimated
    assert turn.error.kind == kind
    assert turn.error.message.startswith(f"Interrupted after {final.completion_tokens:,} tokens"), turn.error.message


def sdk_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "claude-stream"]


@pytest.fixture
def backend(fake: FakeAnthropic) -> Iterator[ClaudeBackend]:
    b = claude_backend(fake.base_url)
    yield b
    b.close()


# -- retried before any text ------------------------------------------------------------


def test_rate_limited_then_answer(fake: FakeAnthropic, backend: ClaudeBackend) -> None:
    fake.enqueue(RATE_LIMITED(0.1), Answer(ANSWER))
    turn = run(backend)

    (retry,) = turn.retries
    assert retry.attempt == 1
    assert retry.wait_seconds == 0.1  # the server's retry-after, exactly
    assert re.search(r"rate[- ]limit", retry.reason, re.IGNORECASE)
    assert_answered(turn)
    requests = fake.message_requests()
    assert len(requests) == 2
    assert requests[1].at - requests[0].at >= 0.1
    assert turn.elapsed >= 0.1
    assert requests[0].json == requests[1].json  # the same request, sent again


@pytest.mark.parametrize(("reply", "words"), [(OVERLOADED, "overloaded"), (SERVER_ERROR, "failed")])
def test_overloaded_or_server_error_then_answer(
    fake: FakeAnthropic, backend: ClaudeBackend, reply: Status, words: str
) -> None:
    fake.enqueue(reply, Answer(ANSWER))
    turn = run(backend)
    (retry,) = turn.retries
    assert words in retry.reason.lower()
    assert 0 < retry.wait_seconds <= 0.5  # the SDK's first backoff: 0.5 s less up to 25% jitter
    assert turn.events.index(retry) < turn.events.index(turn.text_deltas[0])
    assert_answered(turn)
    assert len(fake.message_requests()) == 2


def test_retry_after_ms_header(fake: FakeAnthropic, backend: ClaudeBackend) -> None:
    fake.enqueue(Status(529, "overloaded_error", "Overloaded", headers={"retry-after-ms": "50"}), Answer(ANSWER))
    turn = run(backend)
    assert [r.wait_seconds for r in turn.retries] == [0.05]
    assert_answered(turn)


def test_connection_refused(fake: FakeAnthropic) -> None:
    backend = claude_backend(closed_port_url(), max_retries=2, retry_max_seconds=2)
    turn = run(backend)
    assert [r.attempt for r in turn.retries] == [1, 2]
    assert all("connection refused" in r.reason for r in turn.retries)
    assert turn.error.kind == "network"
    assert "connection refused" in turn.error.message
    assert "gave up after 3 tries" in turn.error.message
    # No hidden waits: the turn's only waits are the two it said (within the budget), and
    # waited (a lower bound). The SDK's own retries, which would add theirs, are off: see
    # the request counts of test_retry_count_exhausted.
    waited = sum(r.wait_seconds for r in turn.retries)
    assert waited <= 2 and turn.elapsed >= waited
    assert fake.requests == []


def test_stall_before_text_is_retried(fake: FakeAnthropic) -> None:
    backend = claude_backend(fake.base_url, read_timeout=0.3)
    fake.enqueue(Stall(after_tokens=0, seconds=2), Answer(ANSWER))
    turn = run(backend)
    # The stall was cut at the read timeout, not waited out: waited out, the first
    # stream would have ended with its text and no retry. The client hung up in it.
    (retry,) = turn.retries
    assert "timed out" in retry.reason
    assert_answered(turn)
    assert len(fake.message_requests()) == 2
    wait_until(lambda: fake.hangups, "the fake sees the client hang up")
    assert fake.hangups == [StallPoint(0, 0)]


def test_error_event_before_text_is_retried(fake: FakeAnthropic, backend: ClaudeBackend) -> None:
    fake.enqueue(ErrorEvent(after_tokens=0), Answer(ANSWER))
    turn = run(backend)
    (retry,) = turn.retries
    assert "overloaded" in retry.reason.lower()
    assert_answered(turn)
    assert len(fake.message_requests()) == 2


def test_drop_before_text_is_retried(fake: FakeAnthropic, backend: ClaudeBackend) -> None:
    fake.enqueue(Drop(after_tokens=0), Answer(ANSWER))
    turn = run(backend)
    (retry,) = turn.retries
    assert "dropped" in retry.reason
    assert_answered(turn)
    assert len(fake.message_requests()) == 2


# -- never replayed after text ------------------------------------------------------------


def test_stall_after_text_is_interrupted(fake: FakeAnthropic) -> None:
    backend = claude_backend(fake.base_url, read_timeout=0.3)
    fake.enqueue(Stall(after_tokens=3, seconds=2), Answer(ANSWER))
    turn = run(backend)
    assert_interrupted(turn, 3, "timeout")
    assert "timed out" in turn.error.message
    assert len(fake.message_requests()) == 1
    assert fake.pending == 1  # the Answer was never asked for
    assert turn.elapsed >= 0.25  # it waited for the read timeout (a lower bound)
    # Cut at the read timeout, not waited out (that would have ended with all the text):
    # the client hung up in the stall.
    wait_until(lambda: fake.hangups, "the fake sees the client hang up")
    assert fake.hangups == [StallPoint(0, 3)]


def test_error_event_after_text_is_interrupted(fake: FakeAnthropic, backend: ClaudeBackend) -> None:
    fake.enqueue(ErrorEvent(after_tokens=4), Answer(ANSWER))
    turn = run(backend)
    assert_interrupted(turn, 4, "overloaded")
    assert len(fake.message_requests()) == 1


def test_drop_after_text_is_interrupted(fake: FakeAnthropic, backend: ClaudeBackend) -> None:
    fake.enqueue(Drop(after_tokens=5), Answer(ANSWER))
    turn = run(backend)
    assert_interrupted(turn, 5, "network")
    assert "dropped" in turn.error.message
    assert len(fake.message_requests()) == 1


def test_no_message_stop_is_interrupted(fake: FakeAnthropic, backend: ClaudeBackend) -> None:
    fake.enqueue(NoMessageStop(), Answer(ANSWER))
    turn = run(backend)
    assert turn.text == DEFAULT_FAULT_TEXT  # all of it, once
    assert turn.retries == []
    assert turn.events[-2].estimated
    assert turn.error.message.startswith("Interrupted after")
    assert turn.error.kind == "network"
    assert len(fake.message_requests()) == 1


# -- never retried -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reply", "kind", "words"),
    [
        (UNAUTHORIZED, "auth", "ANTHROPIC_API_KEY"),
        (SPEND_LIMIT, "billing", "spend limit"),
        (Status(402, "billing_error", "Your credit balance is too low."), "billing", "spend limit"),
        (Status(403, "permission_error", "Not allowed to use this model."), "auth", "may not use this model"),
        (Status(404, "not_found_error", "model: claude-nope"), "request", "claude.model"),
        (Status(400, "invalid_request_error", "messages: roles must alternate"), "request", "roles must alternate"),
        (Status(413, "request_too_large", "Request exceeds the maximum size"), "context", "too large"),
        (Status(529, "overloaded_error", "Overloaded", headers={"x-should-retry": "false"}), "overloaded", "overloaded"),
    ],
    ids=["401", "spend-limit-429", "402", "403", "404", "400", "413", "529-should-retry-false"],
)
def test_not_retried(fake: FakeAnthropic, backend: ClaudeBackend, reply: Status, kind: str, words: str) -> None:
    fake.enqueue(reply, Answer(ANSWER))
    turn = run(backend)
    assert turn.retries == []
    assert turn.text == ""
    assert turn.error.kind == kind
    assert words.lower() in turn.error.message.lower()
    assert "gave up" not in turn.error.message
    assert len(fake.message_requests()) == 1
    assert fake.pending == 1


def test_wrong_key(fake: FakeAnthropic) -> None:
    backend = claude_backend(fake.base_url, api_key=WRONG_KEY)
    turn = run(backend)
    assert turn.retries == []
    assert turn.error.kind == "auth"
    assert "ANTHROPIC_API_KEY" in turn.error.message
    assert len(fake.message_requests()) == 1


def test_multiline_api_message_stays_one_line(fake: FakeAnthropic, backend: ClaudeBackend) -> None:
    """The API's own error text is quoted in the message; the message must still be one line."""
    fake.enqueue(Status(400, "invalid_request_error", "messages.0.content: Field required\nmessages.1: bad role"))
    turn = run(backend)  # check_contract: one line
    assert turn.error.kind == "request"


# -- the retry budget ---------------------------------------------------------------------------


def test_retry_after_beyond_the_budget_is_not_waited(fake: FakeAnthropic) -> None:
    # Waiting out the retry-after (FOREVER) or the budget (half of it) takes at least
    # FOREVER / 2; a turn that waits neither ends far below FOREVER / 4, however loaded.
    backend = claude_backend(fake.base_url, retry_max_seconds=FOREVER / 2)
    fake.enqueue(RATE_LIMITED(FOREVER), Answer(ANSWER))
    turn = run(backend)
    assert turn.retries == []
    assert turn.error.kind == "rate_limit"
    assert turn.elapsed < FOREVER / 4
    assert len(fake.message_requests()) == 1


def test_retry_count_exhausted(fake: FakeAnthropic) -> None:
    backend = claude_backend(fake.base_url, max_retries=2)
    quick_500 = Status(500, "api_error", "Internal server error", headers={"retry-after-ms": "50"})
    fake.enqueue(quick_500, quick_500, quick_500, Answer(ANSWER))
    turn = run(backend)
    assert [r.attempt for r in turn.retries] == [1, 2]
    assert turn.error.kind == "server"
    assert "gave up after 3 tries" in turn.error.message
    assert len(fake.message_requests()) == 3
    assert fake.pending == 1


def test_total_wait_budget(fake: FakeAnthropic) -> None:
    # Waits of 0.1 s: two fit in 0.25 s, a third would not, so it is not started.
    backend = claude_backend(fake.base_url, max_retries=10, retry_max_seconds=0.25)
    fake.enqueue(RATE_LIMITED(0.1), RATE_LIMITED(0.1), RATE_LIMITED(0.1), Answer(ANSWER))
    turn = run(backend)
    assert [r.wait_seconds for r in turn.retries] == [0.1, 0.1]
    assert turn.error.kind == "rate_limit"
    assert "gave up after 3 tries" in turn.error.message
    requests = fake.message_requests()
    assert len(requests) == 3
    assert all(b.at - a.at >= 0.1 for a, b in zip(requests, requests[1:]))  # both waits were waited


# -- cancelling ------------------------------------------------------------------------------------


def test_cancel_during_retry_wait(fake: FakeAnthropic) -> None:
    backend = claude_backend(fake.base_url, retry_max_seconds=FOREVER)
    fake.enqueue(RATE_LIMITED(FOREVER), Answer(ANSWER))
    cancel = threading.Event()
    timers: list[threading.Timer] = []

    def cancel_in_the_wait(event: StreamEvent) -> None:
        if isinstance(event, Retrying):  # the wait starts once this is out
            timers.append(threading.Timer(0.1, cancel.set))
            timers[-1].start()

    try:
        turn = run(backend, cancel, on_event=cancel_in_the_wait)
    finally:
        for timer in timers:
            timer.cancel()
    assert [r.wait_seconds for r in turn.retries] == [FOREVER]
    assert turn.last == TurnDone("cancelled")
    # The wait lasts FOREVER: only the cancel can end it below FOREVER / 2, loaded or not.
    assert turn.elapsed < FOREVER / 2
    assert len(fake.message_requests()) == 1


def test_cancel_during_stalled_read_after_text(fake: FakeAnthropic) -> None:
    # The stall and the read timeout last FOREVER: only the cancel can end the turn, or
    # the producer's read, within FOREVER / 2 (PATIENCE is a fifth of it), loaded or not.
    backend = claude_backend(fake.base_url, read_timeout=FOREVER)
    fake.enqueue(Stall(after_tokens=2, seconds=FOREVER))
    earlier = set(sdk_threads())
    cancel = threading.Event()
    cancelled_at: list[float] = []
    texts: list[str] = []
    timers: list[threading.Timer] = []

    def fire() -> None:
        cancelled_at.append(time.monotonic())
        cancel.set()

    def cancel_in_the_stall(event: StreamEvent) -> None:
        # The fake stalls after the second delta: the cancel lands in the blocked read.
        if isinstance(event, TextDelta) and event.text:
            texts.append(event.text)
            if len(texts) == 2:
                timers.append(threading.Timer(0.1, fire))
                timers[-1].start()

    try:
        turn = run(backend, cancel, on_event=cancel_in_the_stall)
        assert turn.last == TurnDone("cancelled")
        assert turn.ended - cancelled_at[0] < FOREVER / 2
        assert turn.text == "".join(PIECES[:2])
        final = turn.events[-2]
        assert isinstance(final, Usage) and final.estimated
        assert final.completion_tokens == sum(d.tokens for d in turn.text_deltas)
        assert len(fake.message_requests()) == 1
        # The socket was shut under the producer: the fake sees the hang-up in its stall,
        # and the producer thread ends (its read would otherwise block FOREVER).
        wait_until(lambda: fake.hangups, "the fake sees the client hang up")
        assert fake.hangups == [StallPoint(0, 2)]
        wait_until(lambda: not set(sdk_threads()) - earlier, "the producer thread ends")
    finally:
        for timer in timers:
            timer.cancel()
        backend.close()  # after the checks: closing the client would free the producer too


def test_cancel_before_the_response_headers(fake: FakeAnthropic) -> None:
    """A server that takes the request and never answers: cancel still returns at once."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        silent.settimeout(PATIENCE)
        port = silent.getsockname()[1]
        # The read timeout lasts FOREVER: only the cancel can end the turn within
        # FOREVER / 2, loaded or not.
        backend = claude_backend(f"http://127.0.0.1:{port}", read_timeout=FOREVER)
        cancel = threading.Event()
        cancelled_at: list[float] = []
        accepted: list[socket.socket] = []

        def take_the_request() -> None:
            """Read the request's head, answer nothing, then cancel."""
            try:
                conn, _ = silent.accept()
                accepted.append(conn)
                head = b""
                while b"\r\n\r\n" not in head and (chunk := conn.recv(4096)):
                    head += chunk
            finally:
                cancelled_at.append(time.monotonic())
                cancel.set()

        taker = threading.Thread(target=take_the_request, daemon=True)
        taker.start()
        try:
            turn = run(backend, cancel)
        finally:
            taker.join(PATIENCE)
            for conn in accepted:  # frees the producer, still waiting for headers
                conn.close()
            backend.close()
    assert turn.last == TurnDone("cancelled")
    assert turn.ended - cancelled_at[0] < FOREVER / 2
    assert not any(isinstance(e, Usage) and not e.estimated for e in turn.events)
