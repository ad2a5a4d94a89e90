"""The server backend's faults on a loopback stub (what a real server cannot do on
cue): retried before any text with the wait said, interrupted after it, one line
each, and a stream without usage marked estimated."""

from __future__ import annotations

import threading
import time

import pytest

from assistant.backends.server.backend import ServerBackend
from assistant.core.config import ServerConfig
from assistant.core.conversation import Message
from assistant.core.events import BackendError, Retrying, TextDelta, TurnDone, Usage
from tests.backends.server.stub import Reply, StubServer

ASK = [Message("user", "Name three prime numbers.")]


def run(stub: StubServer, **settings: object) -> list:
    b = ServerBackend("gpu", ServerConfig(base_url=stub.base_url, **{"max_retries": 3, "read_timeout": 1.0, **settings}))
    b.load()
    try:
        return list(b.stream(ASK, threading.Event()))
    finally:
        b.close()


def text(events: list) -> str:
    return "".join(e.text for e in events if isinstance(e, TextDelta))


@pytest.mark.parametrize(("status", "kind"), [(429, "rate_limit"), (503, "overloaded"), (500, "server")])
def test_a_refusal_before_any_text_is_retried_and_the_wait_said(status: int, kind: str) -> None:
    with StubServer([Reply(status, headers={"retry-after": "0.05"}), Reply()]) as stub:
        events = run(stub)
    [retry] = [e for e in events if isinstance(e, Retrying)]
    assert retry.wait_seconds == pytest.approx(0.05) and str(status) in retry.reason
    assert text(events) == "Two three five" and isinstance(events[-1], TurnDone)
    assert stub.requests[0]["stream_options"] == {"include_usage": True}
    assert "cache_prompt" not in stub.requests[0]  # llama-server's own field, sent to llama-server only


def test_retries_end_with_one_line_saying_how_many_tries() -> None:
    with StubServer([Reply(503, headers={"retry-after": "0.01"})]) as stub:
        events = run(stub, max_retries=2)
    error = events[-1]
    assert isinstance(error, BackendError) and error.kind == "overloaded"
    assert error.message.endswith("(gave up after 3 tries)") and "\n" not in error.message


@pytest.mark.parametrize(
    ("status", "kind", "said"),
    [(401, "auth", "refused the key"), (404, "request", "no such model"), (400, "request", "refused the request")],
)
def test_what_a_retry_cannot_mend_is_said_at_once(status: int, kind: str, said: str) -> None:
    with StubServer([Reply(status)]) as stub:
        events = run(stub)
    assert not [e for e in events if isinstance(e, Retrying)] and len(stub.requests) == 1
    assert isinstance(events[-1], BackendError) and events[-1].kind == kind and said in events[-1].message


def test_a_stall_after_text_keeps_the_partial_answer_marked_interrupted() -> None:
    with StubServer([Reply(stall_after=2), Reply()]) as stub:
        started = time.monotonic()
        events = run(stub, read_timeout=0.5)
        took = time.monotonic() - started
    # The stalled connection stays open: only a read timeout ends it. Under half the
    # default one (60 s) it was the 0.5 s asked for; a working run takes about a second.
    assert text(events) == "Two three" and took < ServerConfig().read_timeout / 2, took
    error = events[-1]
    assert isinstance(error, BackendError) and error.kind == "timeout"
    assert error.message.startswith("Interrupted after 2 tokens") and len(stub.requests) == 1  # never replayed


def test_a_stream_without_usage_is_counted_and_marked_estimated() -> None:
    with StubServer([Reply(usage=False)]) as stub:
        events = run(stub)
    [usage] = [e for e in events if isinstance(e, Usage)]
    assert usage.estimated and usage.completion_tokens == 3 and isinstance(events[-1], TurnDone)


def test_a_server_without_timings_is_measured_by_the_app_alone() -> None:
    from assistant.core.accounting.metrics import TurnMetrics

    with StubServer([Reply(words=tuple(f" w{i}" for i in range(30)))]) as stub:
        metrics = TurnMetrics()
        for event in run(stub):
            metrics.observe(event)
    stats = metrics.snapshot()
    assert not stats.engine_timed and stats.generation_tps == stats.client_tps and stats.client_tps


def test_where_the_server_cannot_count_its_usage_calibrates_the_estimate() -> None:
    with StubServer([Reply()]) as stub:  # the stub reports 12 prompt tokens for any prompt
        b = ServerBackend("gpu", ServerConfig(base_url=stub.base_url))
        b.load()
        before = b.count_tokens(ASK)
        list(b.stream(ASK, threading.Event()))
        after = b.count_tokens(ASK)
        b.close()
    assert before.estimated and after.estimated
    assert after.tokens == 12 != before.tokens  # the same prompt, counted as the server counted it


def test_a_server_still_loading_its_model_says_so_and_serves_once_loaded() -> None:
    from assistant.core.backends.protocol import BackendUnavailable

    with StubServer([Reply()], loading=1) as stub:
        b = ServerBackend("gpu", ServerConfig(base_url=stub.base_url))
        with pytest.raises(BackendUnavailable) as caught:
            b.load()
        assert caught.value.kind == "load" and "gpu is loading its model" in str(caught.value)
        b.load()  # loaded now: the next try connects
        assert text(list(b.stream(ASK, threading.Event()))) == "Two three five"
        b.close()
