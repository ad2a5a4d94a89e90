"""The Claude backend: Anthropic's streaming Messages API through the `anthropic` SDK.

Figures come from the API itself: the prompt's usage (cache reads and writes
included) from `message_start`, the output tokens from the final
`message_delta`. Until they arrive, the backend reports an offline estimate
marked as one.

Retries are ours, not the SDK's (it is built with `max_retries=0`): a request
is sent again only while no text has arrived, with the SDK's own backoff and
within a total time budget. Once text has been shown, a failure ends the turn
as interrupted and keeps the partial answer; nothing is replayed.

The HTTP stream is read by a producer thread so that cancelling never waits on
the network: `stream()` returns within one event of `cancel`, and the socket
is shut down under the producer so it stops too.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from assistant.backends.claude.events import (
    MAX_TOKEN_FIGURE,
    WRITE_1H,
    MalformedEvent,
    field,
    figure,
    figures,
    kind_of,
    model_name,
    part,
    stop_reason,
    text_field,
)
from assistant.backends.claude.request import (
    StreamTruncated,
    build_request,
    count_tokens_request,
    prompt_text,
)
from assistant.core.backends.protocol import BackendUnavailable, Capabilities, LoadProgress, TokenCount, load_failure
from assistant.backends.claude.options import API_KEY_ENV, ClaudeOptions
from assistant.core.config import Config
from assistant.core.conversation import Message
from assistant.core.events import StopReason, StreamEvent, TextDelta, ToolUse, TurnDone, Usage
from assistant.core.tool_calls import ToolCall, ToolSpec
from assistant.core.paths import Paths
from assistant.core.typed_secrets import mask_secrets
from assistant.core.accounting.pricing import price_table
from assistant.backends.retry import RetryBudget, retried_stream
from assistant.backends.stream_attempt import Failed, Finished, StreamAttempt
from assistant.core.window.offline_tokens import CALIBRATION_FILE, MESSAGE_OVERHEAD, TiktokenCounter, TokenCalibration

if TYPE_CHECKING:
    import anthropic

log = logging.getLogger(__name__)

DEFAULT_CONTEXT_WINDOW = 200_000
OFFLINE_BACKOFF_SECONDS = 60.0  # after a failed count_tokens, estimate for this long
# A prompt's API count over tiktoken's outside this range is a server's error, not
# a tokenizer difference: it is not learned (it would skew every later estimate).
PLAUSIBLE_RATIO = (0.1, 10.0)


class ClaudeBackend:
    name = "claude"
    Options = ClaudeOptions  # `[backends.claude]`

    def __init__(
        self,
        settings: ClaudeOptions,
        *,
        api_key: str | None,
        system_prompt: str = "",
        context_window: int = DEFAULT_CONTEXT_WINDOW,
        context_source: str = "",
        calibration: TokenCalibration | None = None,
    ) -> None:
        """`context_window`: the model's, in tokens; `context_source`: what says so,
        with the setting that changes it (said when a turn does not fit)."""
        self.settings = settings
        self._api_key = api_key
        self._system_prompt = system_prompt
        self._context_window = context_window
        self._context_source = context_source
        self.calibration = calibration or TokenCalibration(None)
        self.counter = TiktokenCounter()
        self._client: anthropic.Anthropic | None = None
        self._offline_until = 0.0
        self.load_seconds: float | None = None

    @classmethod
    def from_config(cls, config: Config, options: ClaudeOptions) -> ClaudeBackend:
        price = price_table(config.prices).lookup(options.model)
        known = price.context_window if price else None
        setting = f'[prices."{options.model}"] context_window'
        return cls(
            options,
            api_key=os.environ.get(API_KEY_ENV) or options.api_key or None,  # the environment's key first
            system_prompt=options.system_prompt,
            context_window=known or DEFAULT_CONTEXT_WINDOW,
            context_source=f"{options.model}'s, {setting}" if known
            else f"assumed: {options.model} is not in the price table; {setting} sets it",
            calibration=TokenCalibration(Paths.resolve().data_dir / CALIBRATION_FILE),
        )

    # -- the Backend protocol ---------------------------------------------------

    @property
    def model_name(self) -> str:
        return self.settings.model

    @property
    def capabilities(self) -> Capabilities:
        s = self.settings
        return Capabilities(
            context_size=self._context_window,
            local=False,
            tokenizer="anthropic",
            max_concurrency=s.max_concurrency,
            requests_per_second=s.requests_per_second,
            window_tokens=s.window_tokens or None,
            answer_tokens=s.max_tokens,
            context_source=self._context_source,
            settings_table=f"[backends.{self.name}]",
            tool_calls=True,
        )

    @property
    def loaded(self) -> bool:
        return self._client is not None

    @property
    def host(self) -> str:
        client = self._client
        return str(client.base_url).rstrip("/") if client is not None else (self.settings.base_url or "api.anthropic.com")

    def load(self, progress: LoadProgress | None = None) -> None:
        if self._client is not None:
            return
        if not self._api_key:
            raise BackendUnavailable(
                "Claude is unavailable: no API key. Set ANTHROPIC_API_KEY "
                "(or run `assistant config --set-key`), or use /model local.",
                kind="unavailable",
            )
        started = time.monotonic()
        import anthropic

        s = self.settings
        timeout = anthropic.Timeout(s.read_timeout, connect=s.connect_timeout)
        self._client = anthropic.Anthropic(
            api_key=self._api_key,
            base_url=s.base_url or None,  # None: ANTHROPIC_BASE_URL, else Anthropic's
            max_retries=0,  # retries are ours: never after text has arrived
            timeout=timeout,
        )
        self.counter.load()
        if progress is not None:
            progress(1.0)
        self.load_seconds = time.monotonic() - started

    def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            client.close()

    def count_tokens(self, messages: Sequence[Message]) -> TokenCount:
        """The API's count when it answers; otherwise tiktoken scaled by the learned ratio.
        A count is asked for before the router decides: what is counted has its typed
        secrets masked (core/typed_secrets.py), as a turn kept here must not reach the API."""
        masked = [replace(m, content=mask_secrets(m.content)) for m in messages]
        request = build_request(self.settings, masked, self._system_prompt)
        raw = self._raw_count(request)
        client = self._client
        if client is not None and time.monotonic() >= self._offline_until:
            try:
                result = client.messages.count_tokens(
                    **count_tokens_request(request), timeout=self.settings.count_tokens_timeout
                )
                tokens = figure(field(result, "input_tokens"))
                if tokens is None:
                    raise MalformedEvent("count_tokens answered without a believable input_tokens")
            except Exception as exc:  # offline, rate-limited, old server: estimate instead
                log.info("count_tokens failed, estimating offline: %s", type(exc).__name__)
                self._offline_until = time.monotonic() + OFFLINE_BACKOFF_SECONDS
            else:
                self.learn(tokens, raw)
                return TokenCount(tokens)
        return self.calibration.estimate(self.settings.model, raw)

    def learn(self, api_tokens: int, raw_tokens: int) -> None:
        """Learn the API's count of a prompt over tiktoken's, unless it is implausible."""
        low, high = PLAUSIBLE_RATIO
        if low <= api_tokens / max(raw_tokens, 1) <= high:
            self.calibration.learn(self.settings.model, api_tokens, raw_tokens)

    def window_counter(self) -> ClaudeCounter:
        return ClaudeCounter(self)

    def _raw_count(self, request: dict[str, Any]) -> int:
        texts = prompt_text(request)
        return sum(self.counter.count_text(t) for t in texts) + MESSAGE_OVERHEAD * len(texts)

    # -- streaming ----------------------------------------------------------------

    def stream(
        self, messages: Sequence[Message], cancel: threading.Event, *, tools: Sequence[ToolSpec] = ()
    ) -> Iterator[StreamEvent]:
        if (failure := load_failure(self)) is not None:
            yield failure
            return
        from assistant.backends.claude.errors import classify

        assert self._client is not None
        request = build_request(self.settings, messages, self._system_prompt, tools)
        raw = self._raw_count(request)
        estimate = self.calibration.estimate(self.settings.model, raw).tokens
        yield Usage(prompt_tokens=estimate, completion_tokens=0, estimated=True, model=self.settings.model)
        client = self._client
        yield from retried_stream(
            lambda: _TurnReader(self, raw),
            lambda: StreamAttempt(lambda: client.messages.create(**request, stream=True), "claude-stream"),
            lambda exc: classify(exc, self.host),
            RetryBudget(self.settings.max_retries, self.settings.retry_max_seconds),
            cancel,
            "claude",
        )


class _TurnReader:
    """Turns one attempt's SSE events into stream events, and remembers how far it got.

    Events are read through `claude.events`, which trusts nothing the server sent: a
    malformed event ends the attempt as a failure (`MalformedEvent`), never as an
    exception out of `stream()`.
    """

    def __init__(self, backend: ClaudeBackend, raw_prompt_count: int) -> None:
        self.backend = backend
        self.raw = raw_prompt_count
        self.count = backend.counter.count_text
        self.started = False  # message_start arrived
        self.start: dict[str, int] = {}  # message_start's usage figures
        self.final: dict[str, int] = {}  # message_delta's (cumulative) usage figures
        self.model = backend.settings.model
        self.tokens_out = 0  # estimated while streaming, the API's at message_delta
        self.stop_reason: StopReason = "end_turn"
        self.stopped = False  # message_stop arrived
        self.text_seen = False
        self.failure: BaseException | None = None
        # The tool_use blocks being streamed, by index: (id, name, the JSON so far).
        self.calls: dict[int, tuple[str, str, list[str]]] = {}

    def read(self, attempt: StreamAttempt, cancel: threading.Event) -> Iterator[StreamEvent]:
        try:
            yield from self._read(attempt, cancel)
        finally:
            # Learned (and saved to disk) once the turn's events are out, never between
            # the prompt's usage and the first token.
            usage = self.usage(estimated=False)
            if not usage.estimated:
                self.backend.learn(usage.prompt_tokens, self.raw)

    def _read(self, attempt: StreamAttempt, cancel: threading.Event) -> Iterator[StreamEvent]:
        while True:
            event = attempt.next(cancel)
            if event is None:  # cancelled
                if self.started:
                    yield self.usage(estimated=True)
                yield TurnDone("cancelled")
                return
            if isinstance(event, Failed):
                self.failure = event.exc
                return
            if isinstance(event, Finished):  # the body ended without message_stop
                self.failure = StreamTruncated("the stream ended before message_stop")
                return
            try:
                yield from self._event(event)
            except MalformedEvent as exc:
                attempt.abort()
                self.failure = exc
                return
            if self.stopped:
                # Let the producer read the body's last bytes, so the connection goes
                # back to the SDK's pool: the next turn then skips the TCP/TLS handshake.
                attempt.finish()
                return

    def _event(self, event: Any) -> Iterator[StreamEvent]:
        """The stream events one SSE event gives; unknown event types give none."""
        kind = kind_of(event)
        if kind == "content_block_delta":
            delta = part(event, "delta", kind)
            delta_kind = kind_of(delta)
            if delta_kind == "text_delta":
                text = text_field(delta, "text", kind)
                tokens = self.count(text) if text else 0
                self.tokens_out += tokens
                self.text_seen = True
                yield TextDelta(text, tokens)
            elif delta_kind == "thinking_delta":
                # Thinking is generated (and billed) output, never shown as the answer.
                tokens = self.count(text_field(delta, "thinking", kind))
                self.tokens_out += tokens
                yield TextDelta("", tokens)
            elif delta_kind == "input_json_delta":
                # A tool call's arguments, streamed as JSON text: generated output, said
                # as one `ToolUse` when its block stops.
                piece = text_field(delta, "partial_json", kind)
                call = self.calls.get(field(event, "index"))
                if call is None:
                    raise MalformedEvent("an input_json_delta outside a tool_use block")
                call[2].append(piece)
                tokens = self.count(piece) if piece else 0
                self.tokens_out += tokens
                self.text_seen = True  # a call is output: the request is not sent again
                yield TextDelta("", tokens)
        elif kind == "content_block_stop":
            call = self.calls.pop(field(event, "index"), None)
            if call is not None:
                call_id, name, pieces = call
                yield ToolUse(ToolCall(call_id, name, "".join(pieces) or "{}"))
        elif kind == "message_start":
            message = part(event, "message", kind)
            self.started = True
            self.start = figures(field(message, "usage"))
            self.model = model_name(field(message, "model"), self.model)
            usage = self.usage(estimated=False)
            yield Usage(
                usage.prompt_tokens,
                0,
                cache_read_tokens=usage.cache_read_tokens,
                cache_write_tokens=usage.cache_write_tokens,
                cache_write_1h_tokens=usage.cache_write_1h_tokens,
                estimated=usage.estimated,
                model=self.model,
            )
        elif kind == "message_delta":
            self.final = figures(field(event, "usage"))
            self.tokens_out = self.final.get("output_tokens", self.tokens_out)
            self.stop_reason = stop_reason(field(field(event, "delta"), "stop_reason"))
        elif kind == "message_stop":
            yield self.usage(estimated=False)
            yield TurnDone(self.stop_reason)
            self.stopped = True
        elif kind == "content_block_start":
            block = part(event, "content_block", kind)
            if kind_of(block) == "tool_use":
                call_id, name = text_field(block, "id", kind), text_field(block, "name", kind)
                index = field(event, "index")
                if not call_id or not name or not isinstance(index, int):
                    raise MalformedEvent("a tool_use block without an id, a name or an index")
                self.calls[index] = (call_id, name, [])
            elif kind_of(block) == "text":
                text = text_field(block, "text", kind)
                if text:
                    self.text_seen = True
                    tokens = self.count(text)
                    self.tokens_out += tokens
                    yield TextDelta(text, tokens)

    def usage(self, *, estimated: bool) -> Usage:
        """The turn's usage: message_start's prompt figures (the cumulative ones in
        message_delta win when present) and the output count so far. A prompt the
        server gave no believable count of stays an estimate."""
        estimate = self.backend.calibration.estimate(self.model, self.raw).tokens
        if not self.started:
            return Usage(estimate, self.tokens_out, estimated=True)

        def pick(name: str) -> int | None:
            return self.final.get(name, self.start.get(name))

        read, write = pick("cache_read_input_tokens") or 0, pick("cache_creation_input_tokens") or 0
        uncached = pick("input_tokens")
        prompt = estimate if uncached is None else min(uncached + read + write, MAX_TOKEN_FIGURE)
        return Usage(
            prompt_tokens=prompt,
            completion_tokens=self.tokens_out,
            cache_read_tokens=read,
            cache_write_tokens=write,
            cache_write_1h_tokens=min(self.start.get(WRITE_1H, 0), write),
            estimated=estimated or uncached is None,
            model=self.model,
        )


class ClaudeCounter:
    """The sliding window's counter for Claude: per message, tiktoken scaled by the
    learned ratio (no network); a whole prompt, the API's count when online. The
    window asks for the whole count only near its budget, as it is a round trip."""

    exact_is_cheap = False

    def __init__(self, backend: ClaudeBackend) -> None:
        self.backend = backend

    def message_tokens(self, message: Message) -> int:
        raw = self.backend.counter.count_text(message.content) + MESSAGE_OVERHEAD
        return self.backend.calibration.estimate(self.backend.settings.model, raw).tokens

    def prompt_tokens(self, messages: Sequence[Message]) -> TokenCount:
        return self.backend.count_tokens(messages)
