"""ClaudeBackend against a hostile or broken server: generated responses, over real HTTP.

The fake Messages API (tests/fake_anthropic.py) sends `Raw` responses built here:
garbage and unknown SSE events, invalid JSON, truncated streams, usage figures
that are negative, huge, NaN or not numbers, error bodies of any text or bytes,
wrong content types, and statuses from a generated set. Whatever arrives, a turn
keeps the stream contract (tests/backends/claude/turns.py): it ends with a TurnDone or a
BackendError whose message is one short line, never another exception; every
recorded figure is a non-negative integer within bounds; text is valid Unicode;
and the turn cannot hang: its retry waits stay within the budget (as its Retrying
events say) and it ends well within PATIENCE. One server and one backend serve
every example.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import fields

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.backends.claude.backend import ClaudeBackend
from assistant.backends.claude.events import MAX_TOKEN_FIGURE
from assistant.core.config import Config
from assistant.core.conversation import Message
from assistant.core.events import BackendError, TextDelta, TurnDone, Usage
from assistant.core.plugins import plugin_options
from assistant.core.window.offline_tokens import TokenCalibration
from tests.backends.claude.conftest import claude_config
from tests.backends.claude.turns import Turn, record
from tests.conftest import TEST_KEY
from tests.fake_anthropic import FakeAnthropic, Raw, sse
from tests.patience import PATIENCE

MESSAGES = [Message("system", "You are terse."), Message("user", "Say something.")]
MAX_MESSAGE = 500  # characters of a BackendError's message
MAX_RETRIES = 1
RETRY_MAX_SECONDS = 0.3


@pytest.fixture(scope="module")
def server() -> Iterator[FakeAnthropic]:
    with FakeAnthropic(api_key=TEST_KEY) as fake:
        yield fake


@pytest.fixture(scope="module")
def backend(server: FakeAnthropic) -> Iterator[ClaudeBackend]:
    """Quick timeouts; a retry only when the server asks for a short one (retry-after)."""
    config = claude_config(
        server.base_url, Config(), max_retries=MAX_RETRIES, retry_max_seconds=RETRY_MAX_SECONDS, read_timeout=2.0
    )
    settings_ = plugin_options(ClaudeBackend, config, "backends", "claude")
    claude = ClaudeBackend(settings_, api_key=TEST_KEY, calibration=TokenCalibration(None))
    claude.load()
    yield claude
    claude.close()


def hostile_turn(server: FakeAnthropic, backend: ClaudeBackend, reply: Raw) -> Turn:
    server.enqueue(reply)
    turn = record(backend, MESSAGES)
    assert server.pending == 0, "the reply was not consumed: examples would leak into each other"
    check_hostile(turn)
    return turn


def check_hostile(turn: Turn) -> None:
    """On top of the stream contract: figures sane, text valid, errors short, no hang."""
    # Whatever the server asks (retry-after: 1e308, inf, a date), the turn waits only
    # within its budget, and says so; every read is cut by the 2 s read timeout.
    assert len(turn.retries) <= MAX_RETRIES, turn.retries
    assert sum(r.wait_seconds for r in turn.retries) <= RETRY_MAX_SECONDS, turn.retries
    # A hang guard, not a speed: a working turn takes well under a second, loaded or not.
    assert turn.elapsed < PATIENCE, f"{turn.elapsed:.1f} s"
    for event in turn.events:
        if isinstance(event, Usage):
            for f in fields(event):
                value = getattr(event, f.name)
                if f.name in ("estimated", "model") or value is None:
                    continue
                assert type(value) is int and 0 <= value <= MAX_TOKEN_FIGURE, f"{f.name}={value!r}"
            assert isinstance(event.model, str) and event.model.isprintable() and len(event.model) <= 200
        elif isinstance(event, TextDelta):
            assert isinstance(event.text, str) and type(event.tokens) is int and event.tokens >= 0
            event.text.encode("utf-8")  # no lone surrogates: the terminal and the ledger take it
        elif isinstance(event, BackendError):
            message = event.message
            assert len(message) <= MAX_MESSAGE and message.isprintable(), repr(message)
    final = turn.last
    assert isinstance(final, TurnDone | BackendError)


# -- generated server output -------------------------------------------------------------

ANY_CHAR = st.characters(exclude_categories=())  # lone surrogates included (JSON can carry them)
TEXT = st.text(ANY_CHAR, max_size=30) | st.sampled_from(["[/oops]", "[bold]x[/bold]", "a\nb\r\nc", "\x00\x1b[31m", ""])
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=6,
)
FIGURE = st.sampled_from([-1, -(2**63), 2**63, 10**30, 1.5, math.nan, math.inf, "12", "abc", None, True, [], {}]) | JSON
USAGE_KEYS = ["input_tokens", "output_tokens", "cache_read_input_tokens", "cache_creation_input_tokens"]
USAGE = st.fixed_dictionaries(
    {},
    optional={
        **dict.fromkeys(USAGE_KEYS, st.integers(0, 50) | FIGURE),
        "cache_creation": st.fixed_dictionaries(
            {}, optional={"ephemeral_1h_input_tokens": FIGURE, "ephemeral_5m_input_tokens": FIGURE}
        )
        | JSON,
    },
)
STOP_REASON = st.sampled_from(["end_turn", "max_tokens", "stop_sequence", "refusal", "pause_turn", None]) | JSON


def _message(usage: object, model: object) -> dict[str, object]:
    return {"id": "msg_1", "type": "message", "role": "assistant", "content": [], "model": model, "usage": usage}


MESSAGE_START = st.builds(
    lambda message: ("message_start", {"type": "message_start", "message": message}),
    st.builds(_message, USAGE | JSON, st.just("claude-test") | TEXT | JSON) | JSON,
)
BLOCK = st.fixed_dictionaries({"type": st.just("text"), "text": TEXT | JSON}) | st.fixed_dictionaries(
    {"type": st.sampled_from(["thinking", "tool_use", "image"]) | TEXT}
) | JSON
BLOCK_START = st.builds(
    lambda index, block: ("content_block_start", {"type": "content_block_start", "index": index, "content_block": block}),
    st.just(0) | JSON,
    BLOCK,
)
DELTA = (
    st.fixed_dictionaries({"type": st.just("text_delta"), "text": TEXT | JSON})
    | st.fixed_dictionaries({"type": st.just("thinking_delta"), "thinking": TEXT | JSON})
    | st.fixed_dictionaries({"type": st.sampled_from(["input_json_delta", "signature_delta"]) | TEXT})
    | JSON
)
BLOCK_DELTA = st.builds(
    lambda delta: ("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": delta}), DELTA
)
MESSAGE_DELTA = st.builds(
    lambda delta, usage: ("message_delta", {"type": "message_delta", "delta": delta, "usage": usage}),
    st.fixed_dictionaries({"stop_reason": STOP_REASON}) | JSON,
    USAGE | JSON,
)
ERROR_EVENT = st.builds(
    lambda kind, message: ("error", {"type": "error", "error": {"type": kind, "message": message}}),
    st.sampled_from(["overloaded_error", "api_error", "rate_limit_error"]) | TEXT | JSON,
    TEXT | JSON,
)
KNOWN = ["message_start", "content_block_start", "content_block_delta", "content_block_stop", "message_delta",
         "message_stop", "ping", "error"]  # fmt: skip
ODD_EVENT = st.one_of(
    st.tuples(st.sampled_from(KNOWN) | TEXT.filter(lambda t: "\n" not in t and "\r" not in t), JSON),  # any JSON
    st.tuples(st.sampled_from(KNOWN), st.binary(max_size=40)),  # invalid JSON, invalid UTF-8
    st.tuples(st.none(), JSON),  # data without an event name
)
EVENT = MESSAGE_START | BLOCK_START | BLOCK_DELTA | MESSAGE_DELTA | ERROR_EVENT | ODD_EVENT

VALID_START = sse("message_start", {"type": "message_start", "message": _message({"input_tokens": 5}, "claude-test")})
VALID_TEXT = sse(
    "content_block_start", {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}
)
VALID_END = sse(
    "message_delta", {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 3}}
) + sse("message_stop", {"type": "message_stop"})


def _json(value: object) -> bytes:
    return json.dumps(value).encode()


def _split(data: bytes, cuts: list[int]) -> tuple[bytes, ...]:
    """`data` as HTTP chunks split at `cuts` (an SSE event may span chunks)."""
    points = sorted({c % (len(data) + 1) for c in cuts} | {0, len(data)})
    return tuple(data[a:b] for a, b in zip(points, points[1:]))


@st.composite
def streams(draw: st.DrawFn) -> Raw:
    """A 200 event stream: a valid start (or not), hostile events, a valid end (or not)."""
    body = VALID_START + VALID_TEXT if draw(st.booleans()) else b""
    for name, data in draw(st.lists(EVENT, max_size=6)):
        body += sse(name, data)
    if draw(st.booleans()):
        body += VALID_END
    content_type = draw(st.sampled_from(["text/event-stream", "application/json", "text/html", None]))
    return Raw(200, _split(body, draw(st.lists(st.integers(0, 10**6), max_size=4))), content_type, cut=draw(st.booleans()))


STATUSES = [200, 201, 202, 301, 302, 400, 401, 402, 403, 404, 408, 409, 413, 418, 422, 429, 451, 500, 502, 503,
            504, 529, 599]  # fmt: skip
RETRY_AFTER = st.sampled_from(
    ["0", "0.01", "-1", "nan", "inf", "1e308", "abc", "", "Mon, 01 Jan 99999 00:00:00 GMT", "Mon, 01 Jan 1900 00:00:00 GMT"]
) | st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=40)


@st.composite
def error_responses(draw: st.DrawFn) -> Raw:
    """A status from the set, and a body of any shape: Anthropic's, other JSON, HTML, bytes."""
    status = draw(st.sampled_from(STATUSES))
    body = draw(
        st.builds(
            lambda kind, message: _json({"type": "error", "error": {"type": kind, "message": message}}),
            st.sampled_from(["rate_limit_error", "overloaded_error", "billing_error"]) | TEXT | JSON,
            TEXT | JSON | st.just("x" * 100_000),
        )
        | st.builds(_json, JSON)
        | st.just(b"<html><body>502 Bad Gateway [/oops]</body></html>")
        | st.binary(max_size=200)
    )
    headers = {"retry-after": draw(RETRY_AFTER)} if draw(st.booleans()) else {}
    if draw(st.booleans()):
        headers["x-should-retry"] = draw(st.sampled_from(["true", "false", "maybe"]))
    content_type = draw(st.sampled_from(["application/json", "text/html", "text/event-stream", None]))
    return Raw(status, (body,), content_type, headers, chunked=draw(st.booleans()))


@given(reply=streams())
def test_a_hostile_event_stream(server: FakeAnthropic, backend: ClaudeBackend, reply: Raw) -> None:
    hostile_turn(server, backend, reply)


@given(reply=error_responses())
def test_a_hostile_error_response(server: FakeAnthropic, backend: ClaudeBackend, reply: Raw) -> None:
    turn = hostile_turn(server, backend, reply)
    if reply.status >= 400 and not turn.retries:
        assert isinstance(turn.last, BackendError)


# -- pinned cases: each a regression found by the generated ones ----------------------------


def _stream(*events: bytes, end: bool = True) -> Raw:
    return Raw(200, (VALID_START + VALID_TEXT + b"".join(events) + (VALID_END if end else b""),))


def _delta(delta: object) -> bytes:
    return sse("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": delta})


@pytest.mark.parametrize(
    "reply",
    [
        _stream(_delta({"type": "text_delta", "text": 5})),
        _stream(_delta({"type": "text_delta"})),
        _stream(_delta(7)),
        _stream(sse("content_block_delta", {"type": "content_block_delta"})),
        _stream(sse("message_start", {"type": "message_start", "message": [1]})),
        _stream(sse("message_delta", {"type": "message_delta", "delta": {"stop_reason": ["x"]}, "usage": {}})),
        _stream(sse("message_delta", {"type": "message_delta"})),
        _stream(sse("content_block_start", {"type": "content_block_start", "content_block": {"type": "text", "text": 1}})),
    ],
    ids=["text-is-a-number", "text-missing", "delta-is-a-number", "delta-missing", "message-is-a-list",
         "stop-reason-is-a-list", "message-delta-bare", "block-text-is-a-number"],  # fmt: skip
)
def test_malformed_events_end_the_turn_cleanly(server: FakeAnthropic, backend: ClaudeBackend, reply: Raw) -> None:
    """Regression: each raised AttributeError/TypeError out of stream() (a traceback)."""
    hostile_turn(server, backend, reply)


@pytest.mark.parametrize("value", [-5, 2**63, 10**30, 1.5, math.nan, "12", True, None, [1]])
def test_usage_figures_are_never_negative_or_absurd(server: FakeAnthropic, backend: ClaudeBackend, value: object) -> None:
    """Regression: the figures went into Usage as sent (-5, 2**63, NaN, "12")."""
    usage = dict.fromkeys(USAGE_KEYS, value)
    start = sse("message_start", {"type": "message_start", "message": _message(usage, "claude-test")})
    text = _delta({"type": "text_delta", "text": "Hello."})
    end = sse("message_delta", {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": usage})
    stop = sse("message_stop", {"type": "message_stop"})
    turn = hostile_turn(server, backend, Raw(200, (start, VALID_TEXT, text, end, stop)))
    assert turn.text == "Hello." and isinstance(turn.last, TurnDone)


def test_text_with_lone_surrogates_is_valid_unicode(server: FakeAnthropic, backend: ClaudeBackend) -> None:
    """Regression: JSON's "\\ud800" arrived as a lone surrogate, which `ask` cannot print."""
    turn = hostile_turn(server, backend, _stream(_delta({"type": "text_delta", "text": "a\ud800b"})))
    assert turn.text == "a\ufffdb"


def test_an_absurd_model_name_is_not_taken(server: FakeAnthropic, backend: ClaudeBackend) -> None:
    start = sse("message_start", {"type": "message_start", "message": _message({"input_tokens": 5}, "x\n" * 500)})
    turn = hostile_turn(server, backend, Raw(200, (start, VALID_TEXT, VALID_END)))
    assert all(u.model in ("", backend.settings.model) for u in turn.usages)


@pytest.mark.parametrize(
    ("kind", "message"),
    [(["a", "list"], "fine"), ("rate_limit_error", 42), ("api_error", {"nested": "x"}),
     ("overloaded_error\nsecond line", "x" * 100_000), ("api_error", "[/oops] [bold]")],  # fmt: skip
    ids=["type-is-a-list", "message-is-a-number", "message-is-an-object", "two-lines-and-100-KB", "markup"],
)
def test_an_error_body_of_any_shape_is_one_short_line(
    server: FakeAnthropic, backend: ClaudeBackend, kind: object, message: object
) -> None:
    """Regression: a non-text `error.message` raised AttributeError; a long one was kept whole."""
    body = _json({"type": "error", "error": {"type": kind, "message": message}})
    turn = hostile_turn(server, backend, Raw(500, (body,), "application/json"))
    assert isinstance(turn.last, BackendError)


def test_a_retry_after_date_out_of_range(server: FakeAnthropic, backend: ClaudeBackend) -> None:
    """Regression: `retry-after: <a date in year 99999>` raised ValueError out of stream()."""
    headers = {"retry-after": "Mon, 01 Jan 99999 00:00:00 GMT"}
    turn = hostile_turn(server, backend, Raw(429, (b"{}",), "application/json", headers))
    assert isinstance(turn.last, BackendError) and turn.last.kind == "rate_limit"


def test_a_megabyte_text_delta(server: FakeAnthropic, backend: ClaudeBackend) -> None:
    """1 MB in one delta (one long word, the worst case for a tokenizer) is read whole,
    without a hang (check_hostile); how fast is for bench/, not for a loaded machine."""
    for text in ("a" * 2**20, "lorem ipsum " * (2**20 // 12)):
        turn = hostile_turn(server, backend, _stream(_delta({"type": "text_delta", "text": text})))
        assert turn.text == text


@pytest.mark.slow
@settings(max_examples=1000)
@given(reply=streams() | error_responses())
def test_deep_hostile_responses(server: FakeAnthropic, backend: ClaudeBackend, reply: Raw) -> None:
    hostile_turn(server, backend, reply)


def test_an_absurd_prompt_count_is_not_learned(server: FakeAnthropic, backend: ClaudeBackend) -> None:
    """A believable figure (10**9 tokens for a two-line prompt) that would skew every
    later offline estimate by a factor of millions is recorded, but not learned."""
    model = backend.settings.model
    before = backend.calibration.get(model)
    start = sse("message_start", {"type": "message_start", "message": _message({"input_tokens": 10**9}, model)})
    turn = hostile_turn(server, backend, Raw(200, (start, VALID_TEXT, VALID_END)))
    assert turn.api_usages[-1].prompt_tokens == 10**9
    assert backend.calibration.get(model) == before


COUNT_BODY = st.builds(lambda value: _json({"input_tokens": value}), st.integers(0, 99) | FIGURE) | st.builds(
    _json, JSON
) | st.binary(max_size=100)


@given(status=st.sampled_from([200, 400, 429, 500, 529]), body=COUNT_BODY)
def test_a_hostile_count_tokens_answer(
    server: FakeAnthropic, backend: ClaudeBackend, status: int, body: bytes
) -> None:
    """Regression: a body of `null` or `{}` raised AttributeError out of count_tokens(),
    and `{"input_tokens": -1}` became the window's count."""
    server.count_tokens_raw = Raw(status, (body,), "application/json")
    backend._offline_until = 0.0  # a failed count sends the next ones offline for a minute
    try:
        count = backend.count_tokens(MESSAGES)
    finally:
        server.count_tokens_raw = None
    assert type(count.tokens) is int and 0 <= count.tokens <= MAX_TOKEN_FIGURE
