"""A loopback fake of Anthropic's Messages API, for testing the real ``anthropic`` SDK.

The SDK is never mocked: point ``anthropic.Anthropic(base_url=server.base_url)`` at a
:class:`FakeAnthropic` and every byte goes through the SDK's real HTTP client, SSE
decoder, error mapping and retry logic.

What it implements, following Anthropic's documented wire format
(https://docs.anthropic.com/en/api/messages-streaming, /en/api/errors,
/en/docs/build-with-claude/prompt-caching, /en/api/messages-count-tokens):

``POST /v1/messages``
    Non-streaming: one Message JSON object. Streaming (``"stream": true``): a
    ``text/event-stream`` body, chunked, one HTTP chunk per event::

        event: message_start        {"type":"message_start","message":{... "content":[], "usage":{...,"output_tokens":1}}}
        event: content_block_start  (thinking block first, when the reply has thinking)
        event: ping
        event: content_block_delta  thinking_delta ..., signature_delta
        event: content_block_stop
        event: content_block_start  {"type":"text","text":""}
        event: content_block_delta  {"type":"text_delta","text":...}   one per `tokens_per_delta` tokens
        event: content_block_stop
        event: message_delta        {"delta":{"stop_reason":...,"stop_sequence":null},"usage":{cumulative}}
        event: message_stop

    Errors before the stream: ``{"type":"error","error":{"type":...,"message":...},
    "request_id":"req_..."}`` with the documented status (400 invalid_request_error,
    401 authentication_error, 403 permission_error, 404 not_found_error, 413
    request_too_large, 429 rate_limit_error, 500 api_error, 529 overloaded_error).
    Errors inside a stream: ``event: error`` / ``data: {"type":"error","error":{...}}``.

``POST /v1/messages/count_tokens``
    ``{"input_tokens": N}``; consumes nothing from the reply queue.

Tokens and prompt caching
    Tokens are counted by :func:`fake_token_count` (a deterministic regex tokenizer;
    text deltas are split by the same regex). The prompt is the block sequence
    tools -> system -> messages (the documented cache-prefix order); each message adds 3
    tokens to its first block. Blocks with ``cache_control`` (``{"type":"ephemeral",
    "ttl":"5m"|"1h"}``, at most 4, or the top-level ``cache_control`` that marks the last
    block) are breakpoints. A breakpoint's cache key hashes the model and every block up
    to it (roles included, ``cache_control`` stripped), so a one-byte change anywhere in
    the prefix misses. A request reads the longest cached prefix ending at a breakpoint
    or at a block boundary up to ``LOOKBACK_BLOCKS`` (20) blocks before one, as the API
    does
    (``cache_read_input_tokens``) and writes every later breakpoint
    (``cache_creation_input_tokens``, split by TTL into ``cache_creation.ephemeral_5m_input_tokens``
    / ``ephemeral_1h_input_tokens``); ``input_tokens`` is what follows the last
    breakpoint. ``input_tokens + cache_read + cache_creation`` always equals what
    ``count_tokens`` reports. The cache is per API key, in memory, with real expiry
    (``time.monotonic``); a read refreshes the entry. Prefixes shorter than
    ``min_cache_tokens`` (Anthropic's minimum is 1024 for most models; default 0 here)
    are neither written nor read.

Scripted replies (one consumed per valid ``POST /v1/messages``, in enqueue order;
``Answer(default_answer)`` when the queue is empty):

* :class:`Answer` – a normal reply (optionally with thinking, truncated at ``max_tokens``).
* :class:`Status` – an HTTP error response, e.g. ``Status(429, "rate_limit_error", "slow down",
  headers={"retry-after": "1"})``; a spend limit looks like ``Status(429, "rate_limit_error",
  "You have reached your specified API usage limits. You will regain access on 2026-12-01
  at 00:00 UTC.")`` (see :data:`SPEND_LIMIT`).
* :class:`Stall` – the stream pauses for ``seconds`` after ``after_tokens`` deltas
  (recorded in ``stalls``; a client that hangs up during it ends it, recorded in ``hangups``).
* :class:`ErrorEvent` – ``event: error`` after ``after_tokens`` deltas, then a clean end.
* :class:`Drop` – the socket is closed after ``after_tokens`` deltas (no terminating chunk).
* :class:`NoMessageStop` – everything but ``message_stop``, then a clean end.
* :class:`Raw` – any response at all, sent byte for byte (a status, headers, body chunks,
  optionally cut short): what a broken or hostile server might send. :func:`sse` builds
  one event's bytes, valid or not.

For the faults, ``after_tokens=0`` means "right after message_start". On a
non-streaming request, a ``Stall`` delays the whole response, an ``ErrorEvent`` becomes
the matching HTTP error, a ``Drop`` closes the connection without a response, and
``NoMessageStop`` is a normal reply.

What anthropic 2.17 raises, as pinned by tests/backends/claude/test_fake_anthropic.py:
429 -> ``RateLimitError`` (``exc.response.headers["retry-after"]``), 529 -> ``OverloadedError``
(a subclass of ``InternalServerError``), 500 -> ``InternalServerError``, 401 ->
``AuthenticationError``, closed port -> ``APIConnectionError``; while iterating a stream:
``ErrorEvent`` -> ``APIStatusError`` itself (status 200, ``exc.type`` is the error type),
``Drop`` -> ``APIConnectionError``, ``Stall`` past the read timeout -> ``APITimeoutError``
(its subclass). Only the SDK's public errors are asserted, never its transport's types.

Stalls, observed: ``server.stalls`` lists every ``Stall`` that began and ``server.hangups``
every one the client hung up in (closed its connection before the stall ended), each as a
:class:`StallPoint` (the request's index in ``requests``, the deltas sent before it). A
test tells "the client cut the stall short" (a read timeout, a cancel) from "it was waited
out" by ``hangups``, with no clock. A stall looks for a hang-up every ``HANGUP_POLL_SECONDS``.

Authentication: with ``api_key`` set, the key must arrive as ``x-api-key`` or as
``authorization: Bearer <key>`` (anthropic 2.x sends the latter); otherwise 401.
Requests without ``anthropic-version`` get 400. Neither consumes a queued reply.

Pacing: with ``tokens_per_second`` set, deltas (thinking and text) go out on an absolute
timeline starting at the first delta (the delta ending at cumulative token ``t`` is sent
``(t - t_first) / tokens_per_second`` seconds after the first), so the rate does not
drift; the value is read once when a stream starts.

Example::

    with FakeAnthropic(api_key="sk-ant-test") as server:
        server.enqueue(RATE_LIMITED(2), Answer("Hello there, world."))
        client = anthropic.Anthropic(api_key="sk-ant-test", base_url=server.base_url, max_retries=0)
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import socket
import socketserver
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

__all__ = [
    "ERROR_STATUS",
    "OVERLOADED",
    "RATE_LIMITED",
    "SERVER_ERROR",
    "SPEND_LIMIT",
    "UNAUTHORIZED",
    "Answer",
    "Drop",
    "ErrorEvent",
    "FakeAnthropic",
    "NoMessageStop",
    "Raw",
    "RecordedRequest",
    "Reply",
    "Stall",
    "StallPoint",
    "Status",
    "closed_port_url",
    "fake_token_count",
    "sse",
    "tool_call",
]

_TOKEN_RE = re.compile(r"\w+|[^\w\s]|\s+")

DEFAULT_FAULT_TEXT = "The quick brown fox jumps over the lazy dog, then naps in the warm afternoon sun."

#: Documented HTTP status for each error type.
ERROR_STATUS: dict[str, int] = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "billing_error": 402,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "timeout_error": 504,
    "overloaded_error": 529,
}
_TYPE_FOR_STATUS = {status: kind for kind, status in ERROR_STATUS.items()}

_TTL_SECONDS = {"5m": 300.0, "1h": 3600.0}
_MAX_BREAKPOINTS = 4
_CONNECTION_ERRORS = (ConnectionError, TimeoutError, OSError)
HANGUP_POLL_SECONDS = 0.05  # how often a stall looks for a client that hung up, or a stop


def fake_token_count(text: str) -> int:
    """The fake's tokenizer: the number of ``\\w+``, single punctuation, and whitespace-run pieces."""
    return len(_TOKEN_RE.findall(text))


def _tokens(text: str) -> list[str]:
    # The three alternatives cover every character, so "".join(_tokens(s)) == s.
    return _TOKEN_RE.findall(text)


def closed_port_url() -> str:
    """A base URL on 127.0.0.1 where nothing listens (for the connection-refused case)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


# --------------------------------------------------------------------------- replies


@dataclass(frozen=True)
class Answer:
    """A normal reply: optional thinking block, then a text block, then any ``tool_uses``
    ((name, input) pairs: one ``tool_use`` block each, its input streamed as
    ``input_json_delta`` pieces, and ``stop_reason`` "tool_use"). With tool uses and no
    text, no text block is sent."""

    text: str = "OK."
    stop_reason: str = "end_turn"
    thinking: str = ""
    tokens_per_delta: int = 1
    model: str | None = None
    tool_uses: tuple[tuple[str, dict], ...] = ()


def tool_call(name: str, **arguments: Any) -> Answer:
    """A reply that only calls the tool ``name`` with ``arguments``."""
    return Answer("", tool_uses=((name, arguments),))


@dataclass(frozen=True)
class Status:
    """An HTTP error response with Anthropic's error body and a ``request-id`` header.

    ``Status(429, "rate_limit_error", "You have reached your specified API usage limits.
    You will regain access on 2026-12-01 at 00:00 UTC.")`` is what a spend limit looks like.
    """

    code: int
    error_type: str
    message: str = ""
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Stall:
    """Stream ``after_tokens`` text deltas, send nothing for ``seconds``, then finish normally."""

    after_tokens: int
    seconds: float
    text: str = DEFAULT_FAULT_TEXT


@dataclass(frozen=True)
class ErrorEvent:
    """Stream ``after_tokens`` deltas, then ``event: error`` and a clean end of the body."""

    after_tokens: int
    error_type: str = "overloaded_error"
    message: str = "Overloaded"
    text: str = DEFAULT_FAULT_TEXT


@dataclass(frozen=True)
class Drop:
    """Stream ``after_tokens`` deltas, then close the socket without the terminating chunk."""

    after_tokens: int
    text: str = DEFAULT_FAULT_TEXT


@dataclass(frozen=True)
class NoMessageStop:
    """Stream everything through ``message_delta`` but never ``message_stop``; end the body cleanly."""

    text: str = DEFAULT_FAULT_TEXT


@dataclass(frozen=True)
class Raw:
    """A response sent exactly as given: for servers that break the protocol.

    ``chunks`` go out as one HTTP chunk each (so an SSE stream can be split anywhere),
    or, with ``chunked=False``, as a body with ``content-length``. ``cut`` closes the
    socket after the chunks, before the body's end (a truncated stream).
    ``content_type=None`` sends no content-type header. The connection is always
    closed after a raw response, so nothing left of it can reach the next request.
    """

    status: int = 200
    chunks: tuple[bytes, ...] = ()
    content_type: str | None = "text/event-stream"
    headers: dict[str, str] = field(default_factory=dict)
    chunked: bool = True
    cut: bool = False


def sse(event: str | None, data: object) -> bytes:
    """One server-sent event: ``event: NAME`` (unless None) and ``data:`` lines.

    ``data`` that is bytes or str is sent as it is (invalid JSON included); anything
    else as JSON.
    """
    if isinstance(data, bytes):
        payload = data
    elif isinstance(data, str):
        payload = data.encode("utf-8", "surrogatepass")
    else:
        payload = json.dumps(data).encode()
    head = b"event: %s\n" % event.encode("utf-8", "surrogatepass") if event is not None else b""
    lines = b"".join(b"data: %s\n" % line for line in payload.split(b"\n"))
    return head + lines + b"\n"


Reply = Answer | Status | Stall | ErrorEvent | Drop | NoMessageStop | Raw


def RATE_LIMITED(retry_after: float = 1) -> Status:
    """A 429 rate_limit_error with a ``retry-after`` header (seconds)."""
    value = str(int(retry_after)) if float(retry_after).is_integer() else str(retry_after)
    return Status(
        429,
        "rate_limit_error",
        "This request would exceed the rate limit for your organization of 50 requests per minute.",
        headers={"retry-after": value},
    )


OVERLOADED = Status(529, "overloaded_error", "Overloaded")
SERVER_ERROR = Status(500, "api_error", "Internal server error")
UNAUTHORIZED = Status(401, "authentication_error", "invalid x-api-key")
SPEND_LIMIT = Status(
    429,
    "rate_limit_error",
    "You have reached your specified API usage limits. You will regain access on 2026-12-01 at 00:00 UTC.",
)


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the server received it."""

    path: str
    headers: dict[str, str]
    body: bytes
    json: dict
    at: float


@dataclass(frozen=True)
class StallPoint:
    """Where a ``Stall`` held a response: ``requests[request]``, after ``deltas`` deltas."""

    request: int
    deltas: int


# --------------------------------------------------------------------------- prompt accounting


class _BadRequest(Exception):
    """A request the real API would reject with 400 invalid_request_error."""


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _strip_cache_control(block: dict) -> dict:
    return {k: v for k, v in block.items() if k != "cache_control"}


def _block_text(block: Any) -> str:
    """The text a block is counted by."""
    if isinstance(block, str):
        return block
    if not isinstance(block, dict):
        return _canonical(block)
    kind = block.get("type")
    if kind == "text":
        return str(block.get("text", ""))
    if kind == "thinking":
        return str(block.get("thinking", ""))
    if kind == "tool_use":
        return str(block.get("name", "")) + _canonical(block.get("input", {}))
    if kind == "tool_result":
        content = block.get("content", "")
        if isinstance(content, list):
            return "".join(_block_text(part) for part in content)
        return str(content)
    return _canonical(_strip_cache_control(block))


def _ttl(block: dict) -> str | None:
    control = block.get("cache_control")
    if control is None:
        return None
    if not isinstance(control, dict) or control.get("type") != "ephemeral":
        raise _BadRequest("cache_control.type: Input should be 'ephemeral'")
    ttl = control.get("ttl", "5m")
    if ttl not in _TTL_SECONDS:
        raise _BadRequest("cache_control.ttl: Input should be '5m' or '1h'")
    return ttl


@dataclass
class _Breakpoint:
    end: int  # cumulative tokens up to and including the breakpoint block
    ttl: str
    key: str
    index: int = 0  # the block's position in the prompt


# A breakpoint also reads a cached prefix ending up to this many blocks before it
# (Anthropic: "checks for cache hits at all previous content block boundaries, up to
# about 20 blocks before your explicit breakpoint").
LOOKBACK_BLOCKS = 20


def _prompt(body: dict) -> tuple[int, list[_Breakpoint], list[tuple[int, str]]]:
    """Total prompt tokens and the cache breakpoints, in prefix order (tools, system, messages)."""
    model = body.get("model")
    messages = body.get("messages")
    if not isinstance(model, str) or not model:
        raise _BadRequest("model: Field required")
    if not isinstance(messages, list):
        raise _BadRequest("messages: Field required")

    blocks: list[tuple[str, dict, int]] = []  # (role, block, tokens)
    _check_tools(body.get("tools"), messages)
    for tool in body.get("tools") or []:
        blocks.append(("tools", tool, fake_token_count(_canonical(_strip_cache_control(tool)))))
    system = body.get("system")
    if isinstance(system, str):
        system = [{"type": "text", "text": system}] if system else []
    for block in system or []:
        if not isinstance(block, dict):
            raise _BadRequest("system: Input should be a valid string or a list of text blocks")
        blocks.append(("system", block, fake_token_count(_block_text(block))))
    for index, message in enumerate(messages):
        if not isinstance(message, dict) or message.get("role") not in ("user", "assistant"):
            raise _BadRequest(f"messages.{index}.role: Input should be 'user' or 'assistant'")
        content = message.get("content")
        if isinstance(content, str):
            content = [{"type": "text", "text": content}]
        if not isinstance(content, list):
            raise _BadRequest(f"messages.{index}.content: Field required")
        for position, block in enumerate(content):
            if not isinstance(block, dict):
                raise _BadRequest(f"messages.{index}.content.{position}: Input should be an object")
            overhead = 3 if position == 0 else 0
            blocks.append((message["role"], block, fake_token_count(_block_text(block)) + overhead))

    ttls = [_ttl(block) for _, block, _ in blocks]
    top = body.get("cache_control")
    if top is not None and blocks and ttls[-1] is None:
        ttls[-1] = _ttl({"cache_control": top})
    count = sum(1 for ttl in ttls if ttl is not None)
    if count > _MAX_BREAKPOINTS:
        raise _BadRequest(
            f"A maximum of {_MAX_BREAKPOINTS} blocks with cache_control may be provided. Found {count}."
        )

    hasher = hashlib.sha256(_canonical({"model": model}).encode())
    total = 0
    breakpoints: list[_Breakpoint] = []
    boundaries: list[tuple[int, str]] = []  # (tokens up to the end of block i, its prefix key)
    for index, ((role, block, tokens), ttl) in enumerate(zip(blocks, ttls)):
        total += tokens
        hasher.update(b"\n" + _canonical([role, _strip_cache_control(block)]).encode())
        key = hasher.copy().hexdigest()
        boundaries.append((total, key))
        if ttl is not None:
            breakpoints.append(_Breakpoint(total, ttl, key, index))
    return total, breakpoints, boundaries


_TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


def _check_tools(tools: Any, messages: list) -> None:
    """The documented rules of tool use: each tool a name and an object input_schema;
    a tool_use or tool_result block only with tools defined; every tool_use answered by
    a tool_result in the very next user message, those results first in it, each
    naming a tool_use of the assistant message just before."""
    if tools is not None:
        if not isinstance(tools, list):
            raise _BadRequest("tools: Input should be a valid list")
        for index, tool in enumerate(tools):
            if not isinstance(tool, dict):
                raise _BadRequest(f"tools.{index}: Input should be an object")
            if not isinstance(tool.get("name"), str) or not _TOOL_NAME.match(tool["name"]):
                raise _BadRequest(f"tools.{index}.name: String should match pattern '^[a-zA-Z0-9_-]{{1,64}}$'")
            schema = tool.get("input_schema")
            if not isinstance(schema, dict) or schema.get("type") != "object":
                raise _BadRequest(f"tools.{index}.input_schema.type: Input should be 'object'")
    open_ids: list[str] = []
    for index, message in enumerate(messages):
        content = message.get("content") if isinstance(message, dict) else None
        blocks = [b for b in content if isinstance(b, dict)] if isinstance(content, list) else []
        kinds = [b.get("type") for b in blocks]
        if ("tool_use" in kinds or "tool_result" in kinds) and not tools:
            raise _BadRequest("Requests which include `tool_use` or `tool_result` blocks must define tools.")
        if open_ids:
            results = [b.get("tool_use_id") for b in blocks if b.get("type") == "tool_result"]
            if message.get("role") != "user" or set(results) != set(open_ids):
                raise _BadRequest(
                    f"messages.{index}: `tool_use` ids were found without `tool_result` blocks immediately after: "
                    + ", ".join(i for i in open_ids if i not in results)
                )
            if kinds[: len(results)] != ["tool_result"] * len(results):
                raise _BadRequest(f"messages.{index}: tool_result blocks must come first in the user message")
            open_ids = []
        elif "tool_result" in kinds:
            raise _BadRequest(
                f"messages.{index}.content: unexpected `tool_use_id` found in `tool_result` blocks: each "
                "`tool_result` block must have a corresponding `tool_use` block in the previous message."
            )
        if message.get("role") == "assistant":
            open_ids = [b.get("id") for b in blocks if b.get("type") == "tool_use"]
            if any(not isinstance(i, str) or not i for i in open_ids):
                raise _BadRequest(f"messages.{index}: a tool_use block needs an id")


# --------------------------------------------------------------------------- server


class FakeAnthropic:
    """A threaded loopback HTTP server speaking Anthropic's Messages API (see module docstring).

    Use as a context manager (or ``start()`` / ``stop()``). Thread-safe: several
    clients may talk to it at once; replies are handed out in ``enqueue`` order.
    """

    def __init__(
        self,
        tokens_per_second: float | None = None,
        api_key: str | None = None,
        model: str | None = None,
        default_answer: str = "OK.",
        min_cache_tokens: int = 0,
    ) -> None:
        self.tokens_per_second = tokens_per_second
        self.api_key = api_key
        self.model = model
        self.default_answer = default_answer
        self.min_cache_tokens = min_cache_tokens
        #: With no reply queued: a function of the request's body that gives the reply
        #: (a server answering each prompt by what it asks); else ``default_answer``.
        self.responder: Callable[[dict], Reply] | None = None
        #: When set to an HTTP status, count_tokens answers that error instead.
        self.count_tokens_fails: int | None = None
        #: When set, count_tokens answers this raw response instead (every time).
        self.count_tokens_raw: Raw | None = None
        self._lock = threading.Lock()
        self._queue: deque[Reply] = deque()
        self._requests: list[RecordedRequest] = []
        self._stalls: list[StallPoint] = []
        self._hangups: list[StallPoint] = []
        self._cache: dict[tuple[str | None, str], float] = {}
        self._counter = 0
        self._stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        #: TCP connections accepted so far (a client that keeps its connection alive opens one).
        self.connections_accepted = 0
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    # lifecycle ---------------------------------------------------------------

    def start(self) -> FakeAnthropic:
        if self._httpd is not None:
            return self
        self._stopping.clear()
        self._httpd = _Server(("127.0.0.1", 0), _Handler, self)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, name="fake-anthropic", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        self._stopping.set()
        httpd.shutdown()
        with self._lock:
            connections = list(self._connections)
        for conn in connections:  # wake handlers idling on keep-alive connections
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeAnthropic:  # noqa: PYI034
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("FakeAnthropic is not running")
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    # scripting ---------------------------------------------------------------

    def enqueue(self, *replies: Reply) -> None:
        """Queue replies for the next ``POST /v1/messages`` requests, in order."""
        self.enqueue_many(replies)

    def enqueue_many(self, replies: Iterable[Reply]) -> None:
        replies = list(replies)
        for reply in replies:
            if not isinstance(reply, (Answer, Status, Stall, ErrorEvent, Drop, NoMessageStop, Raw)):
                raise TypeError(f"not a reply: {reply!r}")
        with self._lock:
            self._queue.extend(replies)

    @property
    def pending(self) -> int:
        """How many queued replies have not been consumed yet."""
        with self._lock:
            return len(self._queue)

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received, in arrival order (a copy)."""
        with self._lock:
            return list(self._requests)

    @property
    def stalls(self) -> list[StallPoint]:
        """Every ``Stall`` that began holding a response, in order (a copy)."""
        with self._lock:
            return list(self._stalls)

    @property
    def hangups(self) -> list[StallPoint]:
        """Every ``Stall`` the client hung up in before it ended, in order (a copy)."""
        with self._lock:
            return list(self._hangups)

    def message_requests(self) -> list[RecordedRequest]:
        """Only the ``POST /v1/messages`` requests."""
        return [r for r in self.requests if urlsplit(r.path).path == "/v1/messages"]

    def clear_cache(self) -> None:
        with self._lock:
            self._cache.clear()

    # internals ---------------------------------------------------------------

    def _record(self, request: RecordedRequest) -> int:
        with self._lock:
            self._requests.append(request)
            self._counter += 1
            return self._counter

    def _next_reply(self, body: dict) -> Reply:
        with self._lock:
            if self._queue:
                return self._queue.popleft()
        if self.responder is not None:
            return self.responder(body)
        return Answer(self.default_answer)

    def _input_usage(self, body: dict, api_key: str | None) -> dict[str, Any]:
        total, breakpoints, boundaries = _prompt(body)
        breakpoints = [bp for bp in breakpoints if bp.end >= self.min_cache_tokens]
        now = time.monotonic()
        read = 0
        e5 = e1 = 0
        with self._lock:
            # The longest cached prefix: at a breakpoint, or at a block boundary
            # up to LOOKBACK_BLOCKS before one.
            for bp in reversed(breakpoints):
                for i in range(bp.index, max(bp.index - LOOKBACK_BLOCKS, -1), -1):
                    end, key = boundaries[i]
                    expiry = self._cache.get((api_key, key))
                    if end >= self.min_cache_tokens and expiry is not None and expiry > now:
                        read = end
                        self._cache[(api_key, key)] = max(expiry, now + _TTL_SECONDS[bp.ttl])
                        break
                if read:
                    break
            previous = read
            for bp in (bp for bp in breakpoints if bp.end > read):
                if bp.ttl == "1h":
                    e1 += bp.end - previous
                else:
                    e5 += bp.end - previous
                previous = bp.end
                key = (api_key, bp.key)
                self._cache[key] = max(self._cache.get(key, 0.0), now + _TTL_SECONDS[bp.ttl])
            if len(self._cache) > 10_000:
                self._cache = {k: v for k, v in self._cache.items() if v > now}
        cached = breakpoints[-1].end if breakpoints else 0
        return {
            "input_tokens": total - cached,
            "cache_creation_input_tokens": e5 + e1,
            "cache_read_input_tokens": read,
            "cache_creation": {"ephemeral_5m_input_tokens": e5, "ephemeral_1h_input_tokens": e1},
        }


def _credential(headers: dict[str, str]) -> str | None:
    """The API key a request carries: ``x-api-key``, or an ``authorization: Bearer`` token.

    anthropic 2.x sends ``api_key`` as ``Authorization: Bearer <key>``; older SDKs and
    curl examples use ``x-api-key``. Both are accepted.
    """
    if "x-api-key" in headers:
        return headers["x-api-key"]
    scheme, _, token = headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], handler: type, fake: FakeAnthropic) -> None:
        self.fake = fake
        super().__init__(address, handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind does a reverse DNS lookup (getfqdn); not needed on loopback.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], _CONNECTION_ERRORS):
            return  # a client that went away; not worth a traceback
        super().handle_error(request, client_address)


class _Abort(Exception):
    """The stream must end now (server stopping, or the client is gone)."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    # connection plumbing -----------------------------------------------------

    def setup(self) -> None:
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().setup()
        with self.server.fake._lock:
            self.server.fake._connections.add(self.request)
            self.server.fake.connections_accepted += 1

    def finish(self) -> None:
        with self.server.fake._lock:
            self.server.fake._connections.discard(self.request)
        try:
            super().finish()
        except _CONNECTION_ERRORS:
            pass

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def handle_one_request(self) -> None:
        try:
            super().handle_one_request()
        except _CONNECTION_ERRORS:
            self.close_connection = True

    # routing -------------------------------------------------------------------

    def do_GET(self) -> None:
        self._dispatch(b"")

    def do_POST(self) -> None:
        self._dispatch(self._read_body())

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("transfer-encoding", "").lower():
            parts = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(parts)
                parts.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("content-length") or 0)
        return self.rfile.read(length) if length else b""

    def _dispatch(self, raw: bytes) -> None:
        fake = self.server.fake
        headers = {name.lower(): value for name, value in self.headers.items()}
        try:
            parsed = json.loads(raw) if raw else {}
        except ValueError:
            parsed = None
        body = parsed if isinstance(parsed, dict) else {}
        n = fake._record(RecordedRequest(self.path, headers, raw, body, time.monotonic()))
        self.request_id = f"req_fake_{n}"
        self.n = n
        path = urlsplit(self.path).path

        if self.command != "POST" or path not in ("/v1/messages", "/v1/messages/count_tokens"):
            return self._error(404, "not_found_error", f"Not found: {self.command} {path}")
        api_key = _credential(headers)
        if fake.api_key is not None and api_key != fake.api_key:
            return self._error(401, "authentication_error", "invalid x-api-key")
        if "anthropic-version" not in headers:
            return self._error(400, "invalid_request_error", "anthropic-version: header is required")
        if parsed is None or not isinstance(parsed, dict):
            return self._error(400, "invalid_request_error", "The request body is not valid JSON.")

        if path == "/v1/messages/count_tokens":
            if fake.count_tokens_raw is not None:
                return self._raw(fake.count_tokens_raw)
            if fake.count_tokens_fails is not None:
                code = fake.count_tokens_fails
                return self._error(code, _TYPE_FOR_STATUS.get(code, "api_error"), "count_tokens failed (fake)")
            try:
                total, _, _ = _prompt(body)
            except _BadRequest as exc:
                return self._error(400, "invalid_request_error", str(exc))
            return self._json(200, {"input_tokens": total})

        max_tokens = body.get("max_tokens")
        if not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or max_tokens < 1:
            return self._error(400, "invalid_request_error", "max_tokens: Field required (a positive integer)")
        try:
            _prompt(body)  # validate before consuming a reply
        except _BadRequest as exc:
            return self._error(400, "invalid_request_error", str(exc))

        reply = fake._next_reply(body)
        if isinstance(reply, Status):
            return self._error(reply.code, reply.error_type, reply.message, reply.headers)
        if isinstance(reply, Raw):
            return self._raw(reply)
        usage = fake._input_usage(body, api_key)
        if body.get("stream") is True:
            return self._stream(reply, body, usage)
        return self._whole(reply, body, usage)

    # plain responses -----------------------------------------------------------

    def _json(self, code: int, payload: dict, extra: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(code)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        extra = extra or {}
        if not any(name.lower() == "request-id" for name in extra):
            self.send_header("request-id", self.request_id)
        for name, value in extra.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    def _error(self, code: int, error_type: str, message: str, extra: dict[str, str] | None = None) -> None:
        payload = {"type": "error", "error": {"type": error_type, "message": message}, "request_id": self.request_id}
        self._json(code, payload, extra)

    def _raw(self, reply: Raw) -> None:
        self.close_connection = True
        self.send_response(reply.status)
        if reply.content_type is not None:
            self.send_header("content-type", reply.content_type)
        self.send_header("request-id", self.request_id)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("connection", "close")
        if reply.chunked:
            self.send_header("transfer-encoding", "chunked")
        else:  # a cut body falls short of what it declares
            self.send_header("content-length", str(sum(map(len, reply.chunks)) + reply.cut))
        self.end_headers()
        try:
            for chunk in reply.chunks:
                if not reply.chunked:
                    self.wfile.write(chunk)
                elif chunk:  # an empty chunk would end the body
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                self.wfile.flush()
            if reply.cut:
                self.connection.shutdown(socket.SHUT_RDWR)
            elif reply.chunked:
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()
        except _CONNECTION_ERRORS:
            pass

    # stalls --------------------------------------------------------------------

    def _hold(self, seconds: float, deltas: int) -> bool:
        """Send nothing for `seconds` (a Stall); True when the response must end now:
        the server is stopping, or the client hung up (recorded in `hangups`)."""
        fake = self.server.fake
        point = StallPoint(self.n - 1, deltas)
        with fake._lock:
            fake._stalls.append(point)
        deadline = time.monotonic() + seconds
        conn = self.connection
        try:
            while (left := deadline - time.monotonic()) > 0:
                if fake._stopping.is_set():
                    return True
                # The client sends nothing while it waits for the body: a readable
                # socket is its end of the connection (b"" or a reset).
                conn.settimeout(min(left, HANGUP_POLL_SECONDS))
                try:
                    peeked = conn.recv(1, socket.MSG_PEEK)
                except TimeoutError:
                    continue
                except OSError:
                    peeked = b""
                if fake._stopping.is_set():
                    return True  # stop() shut the socket: not the client's doing
                if not peeked:
                    with fake._lock:
                        fake._hangups.append(point)
                    return True
                fake._stopping.wait(min(left, HANGUP_POLL_SECONDS))  # stray bytes: just wait
        finally:
            try:
                conn.settimeout(None)
            except OSError:
                pass
        return fake._stopping.is_set()

    # message construction ------------------------------------------------------

    def _plan(self, reply: Reply, body: dict) -> tuple[str, str, str, str]:
        """(model, thinking, text, stop_reason) after max_tokens truncation."""
        fake = self.server.fake
        answer = reply if isinstance(reply, Answer) else None
        model = (answer and answer.model) or fake.model or body["model"]
        thinking = answer.thinking if answer else ""
        text = reply.text
        stop_reason = answer.stop_reason if answer else "end_turn"
        if answer is not None and answer.tool_uses and stop_reason == "end_turn":
            stop_reason = "tool_use"
        limit = body["max_tokens"]
        thinking_tokens, text_tokens = _tokens(thinking), _tokens(text)
        if len(thinking_tokens) + len(text_tokens) > limit:
            stop_reason = "max_tokens"
            thinking = "".join(thinking_tokens[:limit])
            text = "".join(text_tokens[: max(0, limit - len(thinking_tokens))])
        return model, thinking, text, stop_reason

    def _message_id(self) -> str:
        return f"msg_fake_{self.n}"

    @staticmethod
    def _signature(thinking: str) -> str:
        return base64.b64encode(hashlib.sha256(thinking.encode()).digest()).decode()

    def _whole(self, reply: Reply, body: dict, usage: dict[str, Any]) -> None:
        if isinstance(reply, Drop):
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if isinstance(reply, ErrorEvent):
            return self._error(ERROR_STATUS.get(reply.error_type, 500), reply.error_type, reply.message)
        if isinstance(reply, Stall) and self._hold(reply.seconds, deltas=0):
            self.close_connection = True
            return
        model, thinking, text, stop_reason = self._plan(reply, body)
        content: list[dict[str, Any]] = []
        if thinking:
            content.append({"type": "thinking", "thinking": thinking, "signature": self._signature(thinking)})
        uses = self._tool_uses(reply)
        if text or not (thinking or uses):
            content.append({"type": "text", "text": text})
        content += [{"type": "tool_use", "id": i, "name": n, "input": a} for i, n, a in uses]
        message = {
            "id": self._message_id(),
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": content,
            "stop_reason": stop_reason,
            "stop_sequence": None,
            "usage": {**usage, "output_tokens": fake_token_count(thinking) + fake_token_count(text)
                      + sum(fake_token_count(_canonical(a)) for _, _, a in uses)},
        }
        self._json(200, message)

    def _tool_uses(self, reply: Reply) -> list[tuple[str, str, dict]]:
        """(id, name, input) of each tool_use block of the reply."""
        if not isinstance(reply, Answer):
            return []
        return [(f"toolu_fake_{self.n}_{i}", name, dict(args)) for i, (name, args) in enumerate(reply.tool_uses)]

    # streaming -------------------------------------------------------------------

    def _stream(self, reply: Reply, body: dict, usage: dict[str, Any]) -> None:
        fake = self.server.fake
        model, thinking, text, stop_reason = self._plan(reply, body)
        per_delta = max(1, reply.tokens_per_delta) if isinstance(reply, Answer) else 1
        cut = reply.after_tokens if isinstance(reply, (Stall, ErrorEvent, Drop)) else None
        rate = fake.tokens_per_second

        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("cache-control", "no-cache")
        self.send_header("transfer-encoding", "chunked")
        self.send_header("request-id", self.request_id)
        self.end_headers()

        state = {"deltas": 0, "t0": None, "first": 0}

        def send(name: str, data: dict) -> None:
            if fake._stopping.is_set():
                raise _Abort
            payload = f"event: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()
            self.wfile.write(b"%x\r\n%s\r\n" % (len(payload), payload))
            self.wfile.flush()

        def fault() -> bool:
            """Apply the fault at the cut point; True when the stream must end here."""
            if isinstance(reply, Stall):
                began = time.monotonic()
                if self._hold(reply.seconds, state["deltas"]):
                    raise _Abort
                if state["t0"] is not None:
                    state["t0"] += time.monotonic() - began
                return False
            if isinstance(reply, ErrorEvent):
                send("error", {"type": "error", "error": {"type": reply.error_type, "message": reply.message}})
                self.wfile.write(b"0\r\n\r\n")
                return True
            raise _Abort  # Drop

        def paced(cumulative: int) -> None:
            if rate is None or rate <= 0:
                return
            if state["t0"] is None:
                state["t0"], state["first"] = time.monotonic(), cumulative
                return
            deadline = state["t0"] + (cumulative - state["first"]) / rate
            remaining = deadline - time.monotonic()
            if remaining > 0.05 and fake._stopping.wait(remaining - 0.02):
                raise _Abort
            remaining = deadline - time.monotonic()
            if remaining > 0:
                time.sleep(remaining)

        def deltas(index: int, pieces: list[str], kind: str, cumulative: int) -> tuple[int, bool]:
            for start in range(0, len(pieces), per_delta):
                chunk = pieces[start : start + per_delta]
                cumulative += len(chunk)
                paced(cumulative)
                send(
                    "content_block_delta",
                    {"type": "content_block_delta", "index": index, "delta": {"type": kind, kind[:-6]: "".join(chunk)}},
                )
                state["deltas"] += 1
                if cut is not None and state["deltas"] == cut and fault():
                    return cumulative, True
            return cumulative, False

        try:
            message = {
                "id": self._message_id(),
                "type": "message",
                "role": "assistant",
                "content": [],
                "model": model,
                "stop_reason": None,
                "stop_sequence": None,
                "usage": {**usage, "output_tokens": 1},
            }
            send("message_start", {"type": "message_start", "message": message})
            if cut == 0 and fault():
                return
            index, cumulative, pinged = 0, 0, False
            if thinking:
                block = {"type": "thinking", "thinking": "", "signature": ""}
                send("content_block_start", {"type": "content_block_start", "index": index, "content_block": block})
                send("ping", {"type": "ping"})
                pinged = True
                cumulative, ended = deltas(index, _tokens(thinking), "thinking_delta", cumulative)
                if ended:
                    return
                signature = {"type": "signature_delta", "signature": self._signature(thinking)}
                send("content_block_delta", {"type": "content_block_delta", "index": index, "delta": signature})
                send("content_block_stop", {"type": "content_block_stop", "index": index})
                index += 1
            uses = self._tool_uses(reply)
            if text or not (thinking or uses):
                block = {"type": "text", "text": ""}
                send("content_block_start", {"type": "content_block_start", "index": index, "content_block": block})
                if not pinged:
                    send("ping", {"type": "ping"})
                cumulative, ended = deltas(index, _tokens(text), "text_delta", cumulative)
                if ended:
                    return
                # A fault point beyond the last delta still happens, before the block closes.
                if cut is not None and state["deltas"] < cut and fault():
                    return
                send("content_block_stop", {"type": "content_block_stop", "index": index})
                index += 1
            json_tokens = 0
            for call_id, name, arguments in uses:
                block = {"type": "tool_use", "id": call_id, "name": name, "input": {}}
                send("content_block_start", {"type": "content_block_start", "index": index, "content_block": block})
                encoded = json.dumps(arguments)
                json_tokens += fake_token_count(_canonical(arguments))
                # Split anywhere (the API's pieces are not whole tokens or values).
                for start in range(0, len(encoded), 7):
                    piece = {"type": "input_json_delta", "partial_json": encoded[start : start + 7]}
                    send("content_block_delta", {"type": "content_block_delta", "index": index, "delta": piece})
                send("content_block_stop", {"type": "content_block_stop", "index": index})
                index += 1
            delta_usage = {
                "output_tokens": fake_token_count(thinking) + fake_token_count(text) + json_tokens,
                "input_tokens": usage["input_tokens"],
                "cache_creation_input_tokens": usage["cache_creation_input_tokens"],
                "cache_read_input_tokens": usage["cache_read_input_tokens"],
            }
            send(
                "message_delta",
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": stop_reason, "stop_sequence": None},
                    "usage": delta_usage,
                },
            )
            if not isinstance(reply, NoMessageStop):
                send("message_stop", {"type": "message_stop"})
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except _Abort:
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        except _CONNECTION_ERRORS:
            self.close_connection = True
