"""The fake Messages API server, exercised through the real ``anthropic`` SDK (never mocked).

These tests pin down both the fake's wire format and what each scripted fault looks like
from the SDK's side, so tests built on the fake know which exceptions to expect.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request

import anthropic
import pytest

from tests.fake_anthropic import (
    OVERLOADED,
    RATE_LIMITED,
    SERVER_ERROR,
    SPEND_LIMIT,
    Answer,
    Drop,
    ErrorEvent,
    FakeAnthropic,
    NoMessageStop,
    RecordedRequest,
    Stall,
    StallPoint,
    Status,
    closed_port_url,
    fake_token_count,
)
from tests.patience import FOREVER, PATIENCE, wait_until

KEY = "sk-ant-test"
MODEL = "claude-test-1"
USER = [{"role": "user", "content": "Say hello."}]


@pytest.fixture
def server():
    with FakeAnthropic(api_key=KEY) as fake:
        yield fake


def client_for(server: FakeAnthropic, **options) -> anthropic.Anthropic:
    options.setdefault("max_retries", 0)
    options.setdefault("api_key", KEY)
    return anthropic.Anthropic(base_url=server.base_url, **options)


@pytest.fixture
def client(server):
    with client_for(server) as c:
        yield c


def stream_events(client, **kwargs):
    kwargs.setdefault("model", MODEL)
    kwargs.setdefault("max_tokens", 1000)
    kwargs.setdefault("messages", USER)
    return client.messages.create(stream=True, **kwargs)


def prompt_tokens(system: str, *user_texts: str) -> int:
    return fake_token_count(system) + sum(fake_token_count(t) + 3 for t in user_texts)


# --------------------------------------------------------------------------- tokenizer


def test_fake_token_count_splits_words_punctuation_and_spaces():
    assert fake_token_count("") == 0
    assert fake_token_count("Hello there, world.") == 7  # Hello, " ", there, ",", " ", world, "."
    assert fake_token_count("a  b\n\nc") == 5


# --------------------------------------------------------------------------- streaming


def test_stream_event_order_text_and_usage(server, client):
    text = "Hello there, world."
    server.enqueue(Answer(text))
    events = list(stream_events(client))
    n = fake_token_count(text)

    # The SDK drops `ping` from parsed events (see test_raw_sse_wire_format).
    assert [e.type for e in events] == (
        ["message_start", "content_block_start"]
        + ["content_block_delta"] * n
        + ["content_block_stop", "message_delta", "message_stop"]
    )
    start = events[0].message
    assert start.id.startswith("msg_fake_") and start.role == "assistant" and start.content == []
    assert start.model == MODEL and start.stop_reason is None and start.stop_sequence is None
    input_tokens = prompt_tokens("", "Say hello.")
    assert start.usage.input_tokens == input_tokens
    assert start.usage.output_tokens == 1
    assert start.usage.cache_creation_input_tokens == 0 and start.usage.cache_read_input_tokens == 0
    assert start.usage.cache_creation.ephemeral_5m_input_tokens == 0
    assert start.usage.cache_creation.ephemeral_1h_input_tokens == 0
    assert events[1].content_block.type == "text" and events[1].content_block.text == ""

    deltas = [e.delta.text for e in events if e.type == "content_block_delta"]
    assert "".join(deltas) == text and all(fake_token_count(d) == 1 for d in deltas)

    delta = events[-2]
    assert delta.delta.stop_reason == "end_turn" and delta.delta.stop_sequence is None
    assert delta.usage.output_tokens == n
    assert delta.usage.input_tokens == input_tokens
    assert delta.usage.cache_creation_input_tokens == 0 and delta.usage.cache_read_input_tokens == 0


def test_raw_sse_wire_format(server, client):
    server.enqueue(Answer("One two."))
    with client.messages.with_streaming_response.create(
        model=MODEL, max_tokens=100, messages=USER, stream=True
    ) as response:
        assert response.headers["content-type"] == "text/event-stream"
        assert response.headers["transfer-encoding"] == "chunked"
        assert response.headers["request-id"].startswith("req_fake_")
        raw = list(anthropic.Stream.raw_events(response.http_response))
    names = [e.event for e in raw]
    assert names == (
        ["message_start", "content_block_start", "ping"]
        + ["content_block_delta"] * 4
        + ["content_block_stop", "message_delta", "message_stop"]
    )
    for event in raw:  # every event's data names its own type, as documented
        assert json.loads(event.data)["type"] == event.event


def test_stream_helper_text_stream_and_final_message(server, client):
    text = "The helper accumulates deltas, then reports usage."
    server.enqueue(Answer(text, tokens_per_delta=3))
    with client.messages.stream(model=MODEL, max_tokens=1000, messages=USER) as stream:
        pieces = list(stream.text_stream)
        final = stream.get_final_message()
    assert "".join(pieces) == text
    assert len(pieces) == -(-fake_token_count(text) // 3)
    assert final.content[0].text == text
    assert final.stop_reason == "end_turn"
    assert final.usage.output_tokens == fake_token_count(text)
    assert final.usage.input_tokens == prompt_tokens("", "Say hello.")


def test_thinking_block_comes_first(server, client):
    server.enqueue(Answer("Answer.", thinking="Let me think about it."))
    with client.messages.stream(model=MODEL, max_tokens=1000, messages=USER) as stream:
        final = stream.get_final_message()
    thinking, text = final.content
    assert thinking.type == "thinking" and thinking.thinking == "Let me think about it." and thinking.signature
    assert text.type == "text" and text.text == "Answer."
    assert final.usage.output_tokens == fake_token_count("Let me think about it.") + fake_token_count("Answer.")


def test_non_streaming_create(server, client):
    server.enqueue(Answer("Plain reply.", stop_reason="stop_sequence", model="claude-other"))
    message = client.messages.create(model=MODEL, max_tokens=1000, messages=USER)
    assert message.type == "message" and message.role == "assistant"
    assert message.model == "claude-other"
    assert [(b.type, b.text) for b in message.content] == [("text", "Plain reply.")]
    assert message.stop_reason == "stop_sequence"
    assert message.usage.input_tokens == prompt_tokens("", "Say hello.")
    assert message.usage.output_tokens == fake_token_count("Plain reply.")
    assert message.usage.cache_creation.ephemeral_5m_input_tokens == 0


def test_max_tokens_truncates(server, client):
    server.enqueue(Answer("one two three four"), Answer("one two three four"))
    message = client.messages.create(model=MODEL, max_tokens=3, messages=USER)
    assert message.content[0].text == "one two" and message.stop_reason == "max_tokens"
    assert message.usage.output_tokens == 3
    events = list(stream_events(client, max_tokens=3))
    assert "".join(e.delta.text for e in events if e.type == "content_block_delta") == "one two"
    assert events[-2].delta.stop_reason == "max_tokens"


def test_default_answer_when_queue_empty():
    with FakeAnthropic(default_answer="Default!", model="served-model") as fake, client_for(fake) as c:
        message = c.messages.create(model=MODEL, max_tokens=10, messages=USER)
    assert message.content[0].text == "Default!" and message.model == "served-model"


# --------------------------------------------------------------------------- prompt caching


def cached_request(client, system: str, messages, ttl: str | None = None, stream: bool = False):
    control = {"type": "ephemeral", **({"ttl": ttl} if ttl else {})}
    call = client.messages.create(
        model=MODEL,
        max_tokens=100,
        system=[{"type": "text", "text": system, "cache_control": control}],
        messages=messages,
        stream=stream,
    )
    if not stream:
        return call.usage
    return next(e for e in call if e.type == "message_start").message.usage


def test_prompt_caching_write_then_read(server, client):
    system = "You are a careful assistant. " * 20
    first = [{"role": "user", "content": "Question one?"}]
    usage = cached_request(client, system, first)
    assert usage.cache_creation_input_tokens == fake_token_count(system)
    assert usage.cache_creation.ephemeral_5m_input_tokens == fake_token_count(system)
    assert usage.cache_read_input_tokens == 0
    assert usage.input_tokens == fake_token_count("Question one?") + 3

    # Same prefix, longer conversation with its own breakpoint: read the system, write the new segment.
    longer = [
        {"role": "user", "content": "Question one?"},
        {"role": "assistant", "content": "Answer one."},
        {
            "role": "user",
            "content": [{"type": "text", "text": "Question two?", "cache_control": {"type": "ephemeral"}}],
        },
    ]
    usage = cached_request(client, system, longer, stream=True)
    segment = prompt_tokens("", "Question one?", "Answer one.", "Question two?")
    assert usage.cache_read_input_tokens == fake_token_count(system)
    assert usage.cache_creation_input_tokens == segment
    assert usage.input_tokens == 0

    # Repeat: the whole prefix is read now.
    usage = cached_request(client, system, longer)
    assert usage.cache_read_input_tokens == fake_token_count(system) + segment
    assert usage.cache_creation_input_tokens == 0

    # One byte different in the system prompt: nothing read.
    usage = cached_request(client, system + "!", first)
    assert usage.cache_read_input_tokens == 0
    assert usage.cache_creation_input_tokens == fake_token_count(system + "!")

    server.clear_cache()
    assert cached_request(client, system, first).cache_read_input_tokens == 0


def test_one_hour_ttl_and_cache_scoped_by_model(server, client):
    system = "Long lived instructions."
    usage = cached_request(client, system, USER, ttl="1h")
    assert usage.cache_creation.ephemeral_1h_input_tokens == fake_token_count(system)
    assert usage.cache_creation.ephemeral_5m_input_tokens == 0
    assert cached_request(client, system, USER, ttl="1h").cache_read_input_tokens == fake_token_count(system)
    other = client.messages.create(
        model="another-model",
        max_tokens=10,
        system=[{"type": "text", "text": system, "cache_control": {"type": "ephemeral", "ttl": "1h"}}],
        messages=USER,
    )
    assert other.usage.cache_read_input_tokens == 0


def test_tools_come_first_in_the_cached_prefix(server, client):
    tool = {"name": "read_file", "description": "Read a file.", "input_schema": {"type": "object"}}
    tools = [{**tool, "cache_control": {"type": "ephemeral"}}]
    counted = client.messages.count_tokens(model=MODEL, tools=tools, messages=USER).input_tokens
    usage = client.messages.create(model=MODEL, max_tokens=10, tools=tools, messages=USER).usage
    assert usage.cache_creation_input_tokens == counted - prompt_tokens("", "Say hello.") > 0
    again = client.messages.create(model=MODEL, max_tokens=10, tools=tools, system="new system", messages=USER)
    assert again.usage.cache_read_input_tokens == usage.cache_creation_input_tokens


def test_min_cache_tokens_and_breakpoint_limit():
    with FakeAnthropic(min_cache_tokens=1024) as fake, client_for(fake) as c:
        usage = cached_request(c, "short prompt", USER)
        assert usage.cache_creation_input_tokens == 0 and usage.cache_read_input_tokens == 0
        long_system = "word " * 600  # 1200 tokens
        assert cached_request(c, long_system, USER).cache_creation_input_tokens == 1200
        assert cached_request(c, long_system, USER).cache_read_input_tokens == 1200

        block = {"type": "text", "text": "x", "cache_control": {"type": "ephemeral"}}
        with pytest.raises(anthropic.BadRequestError, match="maximum of 4"):
            c.messages.create(model=MODEL, max_tokens=10, system=[block] * 5, messages=USER)


def test_count_tokens_matches_usage_and_consumes_no_reply(server, client):
    system = [{"type": "text", "text": "System prompt here.", "cache_control": {"type": "ephemeral"}}]
    messages = [{"role": "user", "content": "Count me."}, {"role": "assistant", "content": "Sure."},
                {"role": "user", "content": "Thanks."}]
    server.enqueue(Answer("queued"))
    counted = client.messages.count_tokens(model=MODEL, system=system, messages=messages)
    assert server.pending == 1
    message = client.messages.create(model=MODEL, max_tokens=10, system=system, messages=messages)
    assert message.content[0].text == "queued"
    u = message.usage
    assert counted.input_tokens == u.input_tokens + u.cache_read_input_tokens + u.cache_creation_input_tokens
    assert counted.input_tokens == prompt_tokens("System prompt here.", "Count me.", "Sure.", "Thanks.")
    assert [urllib_path(r) for r in server.requests] == ["/v1/messages/count_tokens", "/v1/messages"]

    server.count_tokens_fails = 500
    with pytest.raises(anthropic.InternalServerError):
        client.messages.count_tokens(model=MODEL, messages=messages)


def urllib_path(request: RecordedRequest) -> str:
    return request.path.split("?")[0]


# --------------------------------------------------------------------------- HTTP errors


def test_rate_limit_carries_retry_after(server, client):
    server.enqueue(RATE_LIMITED(7))
    with pytest.raises(anthropic.RateLimitError) as info:
        client.messages.create(model=MODEL, max_tokens=10, messages=USER)
    assert info.value.response.headers["retry-after"] == "7"
    assert info.value.type == "rate_limit_error"
    assert info.value.request_id == info.value.body["request_id"]


def test_spend_limit_is_a_rate_limit_error(server, client):
    server.enqueue(SPEND_LIMIT)
    with pytest.raises(anthropic.RateLimitError, match="regain access on 2026-12-01"):
        list(stream_events(client))


def test_overloaded_server_error_and_custom_status(server, client):
    server.enqueue(OVERLOADED, SERVER_ERROR, Status(403, "permission_error", "no", headers={"x-extra": "1"}))
    with pytest.raises(anthropic.OverloadedError) as info:
        client.messages.create(model=MODEL, max_tokens=10, messages=USER)
    assert info.value.status_code == 529
    with pytest.raises(anthropic.InternalServerError) as info:
        list(stream_events(client))
    assert info.value.status_code == 500 and info.value.type == "api_error"
    with pytest.raises(anthropic.PermissionDeniedError) as info:
        client.messages.create(model=MODEL, max_tokens=10, messages=USER)
    assert info.value.response.headers["x-extra"] == "1"


def test_sdk_retry_honours_retry_after(server):
    server.enqueue(RATE_LIMITED(0.2), Answer("after retry"))
    with client_for(server, max_retries=1) as c:
        message = c.messages.create(model=MODEL, max_tokens=10, messages=USER)
    assert message.content[0].text == "after retry"
    first, second = server.message_requests()
    assert second.at - first.at >= 0.2
    assert second.headers["x-stainless-retry-count"] == "1"


def test_wrong_key_is_authentication_error(server):
    server.enqueue(Answer("not consumed"))
    with client_for(server, api_key="sk-ant-wrong") as c, pytest.raises(anthropic.AuthenticationError):
        c.messages.create(model=MODEL, max_tokens=10, messages=USER)
    assert server.pending == 1


def test_missing_anthropic_version_is_bad_request(server):
    request = urllib.request.Request(
        server.base_url + "/v1/messages",
        data=json.dumps({"model": MODEL, "max_tokens": 5, "messages": USER}).encode(),
        headers={"x-api-key": KEY, "content-type": "application/json"},
    )
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(request, timeout=PATIENCE)
    body = json.loads(info.value.read())
    assert info.value.code == 400 and body["error"]["type"] == "invalid_request_error"
    assert body["type"] == "error" and body["request_id"].startswith("req_fake_")


def test_connection_refused():
    c = anthropic.Anthropic(api_key=KEY, base_url=closed_port_url(), max_retries=0)
    with c, pytest.raises(anthropic.APIConnectionError):
        c.messages.create(model=MODEL, max_tokens=10, messages=USER)


# --------------------------------------------------------------------------- mid-stream faults


def test_error_event_mid_stream(server, client):
    server.enqueue(ErrorEvent(3, "overloaded_error", "Overloaded"))
    seen = []
    with pytest.raises(anthropic.APIStatusError) as info:
        for event in stream_events(client):
            seen.append(event)  # noqa: PERF402 - keep what arrived before the error
    deltas = [e.delta.text for e in seen if e.type == "content_block_delta"]
    assert len(deltas) == 3
    # The HTTP status was 200, so the SDK raises the APIStatusError base class.
    assert type(info.value) is anthropic.APIStatusError
    assert info.value.type == "overloaded_error" and info.value.api_message == "Overloaded"


def test_error_event_before_any_text(server, client):
    server.enqueue(ErrorEvent(0, "api_error", "Internal"))
    seen = []
    with pytest.raises(anthropic.APIStatusError):
        for event in stream_events(client):
            seen.append(event.type)
    assert seen == ["message_start"]


def test_drop_breaks_the_body(server, client):
    server.enqueue(Drop(2))
    deltas = []
    with pytest.raises(anthropic.APIConnectionError) as info:
        for event in stream_events(client):
            if event.type == "content_block_delta":
                deltas.append(event.delta.text)
    assert len(deltas) == 2 and not isinstance(info.value, anthropic.APITimeoutError)


def test_stall_trips_read_timeout(server):
    # The stall lasts FOREVER: the read timeout is the only thing that can end this loop.
    server.enqueue(Stall(2, FOREVER))
    deltas = []
    with client_for(server, timeout=anthropic.Timeout(5, read=0.3)) as c:
        with pytest.raises(anthropic.APITimeoutError):
            for event in stream_events(c):
                if event.type == "content_block_delta":
                    deltas.append(event.delta.text)
    assert len(deltas) == 2
    # The client hung up in the stall, which the fake then ends.
    wait_until(lambda: server.hangups, "the fake sees the client hang up")
    assert server.stalls == server.hangups == [StallPoint(0, 2)]


def test_stall_then_continues_for_a_patient_client(server, client):
    text = "slow but complete"
    server.enqueue(Stall(1, 0.3, text=text))
    started = time.monotonic()
    events = list(stream_events(client))
    assert time.monotonic() - started >= 0.3
    assert "".join(e.delta.text for e in events if e.type == "content_block_delta") == text
    assert events[-1].type == "message_stop"
    assert server.stalls == [StallPoint(0, 1)] and server.hangups == []  # waited out, not cut


def test_a_hangup_in_a_stall_is_recorded(server, client):
    server.enqueue(Stall(3, FOREVER))
    stream = stream_events(client)
    deltas = 0
    for event in stream:
        deltas += event.type == "content_block_delta"
        if deltas == 3:
            break
    wait_until(lambda: server.stalls, "the stall begins")
    assert server.hangups == []  # a client that waits is not a hang-up
    stream.close()  # mid-body: the connection is closed, not reused
    wait_until(lambda: server.hangups, "the fake sees the client hang up")
    assert server.hangups == [StallPoint(0, 3)]


def test_no_message_stop(server, client):
    server.enqueue(NoMessageStop(text="almost done"))
    types = [e.type for e in stream_events(client)]
    assert types[-1] == "message_delta" and "message_stop" not in types


def test_stop_ends_streams_in_progress():
    fake = FakeAnthropic().start()
    # The stall and the client's read timeout last FOREVER: only stop() can end the stream
    # within PATIENCE (a fifth of FOREVER), so load cannot make this pass or fail.
    fake.enqueue(Stall(1, FOREVER))
    errors = []

    def consume():
        try:
            with client_for(fake, timeout=anthropic.Timeout(FOREVER)) as c:
                list(stream_events(c))
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    thread = threading.Thread(target=consume, daemon=True)
    thread.start()
    wait_until(lambda: fake.stalls, "the stream stalls")
    fake.stop()
    thread.join(timeout=PATIENCE)
    assert not thread.is_alive(), "stop() left a stalled stream running"
    assert errors and isinstance(errors[0], anthropic.APIConnectionError)
    assert fake.hangups == []  # the server ended it, not the client


# --------------------------------------------------------------------------- recording and concurrency


def test_recorded_requests_are_exact(server, client):
    server.enqueue(Answer("x"))
    list(stream_events(client, system="sys"))
    client.messages.create(model=MODEL, max_tokens=5, messages=USER)
    first, second = server.message_requests()
    assert json.loads(first.body) == first.json
    assert first.json == {"model": MODEL, "max_tokens": 1000, "messages": USER, "system": "sys", "stream": True}
    assert "stream" not in second.json
    for request in (first, second):
        assert request.path == "/v1/messages"
        assert request.headers["anthropic-version"]
        # anthropic 2.x sends the key as a bearer token; older SDKs as x-api-key.
        assert request.headers.get("x-api-key") == KEY or request.headers["authorization"] == f"Bearer {KEY}"
        assert int(request.headers["content-length"]) == len(request.body)
    assert first.at <= second.at


def test_concurrent_clients_each_get_one_reply(server):
    replies = [f"reply number {i}" for i in range(8)]
    server.enqueue_many(Answer(r) for r in replies)
    results: list[str] = []
    lock = threading.Lock()

    def run():
        with client_for(server) as c:
            text = "".join(e.delta.text for e in stream_events(c) if e.type == "content_block_delta")
        with lock:
            results.append(text)

    threads = [threading.Thread(target=run) for _ in replies]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=PATIENCE)
    assert sorted(results) == sorted(replies)
    assert len(server.message_requests()) == len(replies) and server.pending == 0


# --------------------------------------------------------------------------- pacing


def test_pacing_never_sends_ahead_of_the_rate(server, client):
    """Deltas go out on the paced timeline, never early. Whether the fake keeps up
    with 2,000 tok/s is a speed, which load can break: bench/claude_stream.py paces
    it at that rate and prints the rate a bare SDK client sees."""
    server.tokens_per_second = 2000.0
    server.enqueue(Answer("a " * 1000))  # 2000 tokens, one per delta
    started = time.monotonic()  # before the request, so before the first delta is sent
    count = 0
    for event in stream_events(client, max_tokens=5000):
        count += event.type == "content_block_delta"
    # A lower bound: load only ever delays a delta, so it cannot break this.
    assert count == 2000 and time.monotonic() - started >= 1999 / 2000
