"""ClaudeBackend on its happy paths: the real `anthropic` SDK over HTTP to the loopback fake.

Nothing is mocked: every turn goes through the SDK's HTTP client and SSE decoder
to `tests.fake_anthropic.FakeAnthropic`, which counts tokens with
`fake_token_count` and keeps a real prompt cache.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from assistant.backends.claude.backend import ClaudeBackend
from assistant.core.backends.protocol import BackendUnavailable, TokenCount
from assistant.core.conversation import Message
from assistant.core.events import (
    BackendError,
    Retrying,
    TextDelta,
    TurnDone,
    Usage,
)
from tests.backends.claude.conftest import TEST_KEY, claude_backend, claude_config, claude_from
from tests.backends.claude.turns import Turn, record
from tests.fake_anthropic import Answer, FakeAnthropic, fake_token_count

MODEL = "claude-sonnet-5-5"  # the default claude.model
SYSTEM = "You are a terse assistant who answers in one sentence."
USER = "Tell me briefly why the sky looks blue on a clear afternoon."
ANSWER = "Sunlight scatters off air molecules, and blue light scatters the most."
MESSAGES = [Message("system", SYSTEM), Message("user", USER)]
# The fake's prompt count: system block, then each message's first block plus 3 tokens of overhead.
PROMPT_TOKENS = fake_token_count(SYSTEM) + fake_token_count(USER) + 3


def run(backend: ClaudeBackend, messages: list[Message] = MESSAGES, cancel: threading.Event | None = None) -> Turn:
    return record(backend, messages, cancel)


@pytest.fixture
def backend(fake: FakeAnthropic):
    b = claude_backend(fake.base_url)
    yield b
    b.close()


# -- a streamed answer ----------------------------------------------------------------


def test_streamed_answer_events_in_order(fake: FakeAnthropic, backend: ClaudeBackend) -> None:
    fake.enqueue(Answer(ANSWER))
    turn = run(backend)

    assert turn.text == ANSWER
    assert len(turn.deltas) == fake_token_count(ANSWER)  # one SSE delta per fake token, none lost or repeated
    assert all(d.tokens >= 0 for d in turn.deltas) and sum(d.tokens for d in turn.deltas) > 0

    first = turn.events[0]
    assert isinstance(first, Usage) and first.estimated
    assert first.prompt_tokens > 0 and first.completion_tokens == 0

    # message_start's usage, before any text: the API's prompt figures.
    start = turn.events[1]
    assert isinstance(start, Usage) and not start.estimated
    assert turn.events.index(start) < turn.events.index(turn.deltas[0])
    assert start.prompt_tokens == PROMPT_TOKENS
    assert start.completion_tokens == 0
    # A first request reads nothing and writes the whole prompt to the cache.
    assert start.cache_read_tokens == 0
    assert start.cache_write_tokens == PROMPT_TOKENS
    assert start.model == MODEL

    final = turn.events[-2]
    assert isinstance(final, Usage) and not final.estimated
    assert final.prompt_tokens == PROMPT_TOKENS
    assert final.completion_tokens == fake_token_count(ANSWER)
    assert final.model == MODEL
    assert turn.last == TurnDone("end_turn")
    assert not any(isinstance(e, Retrying) for e in turn.events)
    assert len(fake.message_requests()) == 1

    # The same prompt, counted by the API, agrees with message_start's total.
    assert backend.count_tokens(MESSAGES) == TokenCount(start.prompt_tokens, estimated=False)


def test_usage_model_is_the_served_model(fake: FakeAnthropic, backend: ClaudeBackend) -> None:
    served = "claude-sonnet-5-5-20261001"
    fake.enqueue(Answer(ANSWER, model=served))
    turn = run(backend)
    assert turn.events[0].model == MODEL  # the estimate: what was asked for
    assert [u.model for u in turn.api_usages] == [served, served]


def test_next_turn_reads_the_previous_turn_from_the_cache(fake: FakeAnthropic, backend: ClaudeBackend) -> None:
    fake.enqueue(Answer(ANSWER))
    first = run(backend)
    follow_up = "And why are sunsets red or orange instead?"
    messages = [*MESSAGES, Message("assistant", first.text), Message("user", follow_up)]
    fake.enqueue(Answer("Longer paths scatter the blue away."))
    second = run(backend, messages)

    start = second.api_usages[0]
    total = PROMPT_TOKENS + fake_token_count(ANSWER) + 3 + fake_token_count(follow_up) + 3
    assert start.prompt_tokens == total
    assert start.cache_read_tokens == PROMPT_TOKENS  # turn 1's request is a byte-exact prefix
    assert start.cache_write_tokens == total - PROMPT_TOKENS
    assert start.uncached_prompt_tokens == 0
    assert second.last == TurnDone("end_turn")


def test_thinking_is_counted_but_never_shown(fake: FakeAnthropic, backend: ClaudeBackend) -> None:
    thinking = "The user wants a short physics answer: Rayleigh scattering."
    fake.enqueue(Answer(ANSWER, thinking=thinking))
    turn = run(backend)

    assert turn.text == ANSWER
    assert "Rayleigh" not in turn.text
    final = turn.events[-2]
    assert isinstance(final, Usage) and not final.estimated
    assert final.completion_tokens == fake_token_count(thinking) + fake_token_count(ANSWER)
    # Thinking deltas count generated tokens without adding text.
    assert sum(d.tokens for d in turn.deltas if not d.text) > 0
    assert turn.last == TurnDone("end_turn")


def test_max_tokens_truncation(fake: FakeAnthropic) -> None:
    backend = claude_backend(fake.base_url, max_tokens=5)
    fake.enqueue(Answer(ANSWER))
    turn = run(backend)
    assert turn.text == "Sunlight scatters off"  # its first 5 fake tokens
    assert fake_token_count(turn.text) == 5
    assert turn.events[-2].completion_tokens == 5
    assert turn.last == TurnDone("max_tokens")
    assert fake.message_requests()[0].json["max_tokens"] == 5


# -- the request ----------------------------------------------------------------------


def test_request_body_defaults(fake: FakeAnthropic, backend: ClaudeBackend) -> None:
    run(backend)
    (request,) = fake.message_requests()
    body = request.json
    assert body["model"] == MODEL
    assert body["max_tokens"] == 4096
    assert body["stream"] is True
    assert body["system"] == [{"type": "text", "text": SYSTEM, "cache_control": {"type": "ephemeral"}}]
    assert body["cache_control"] == {"type": "ephemeral"}
    assert body["messages"] == [{"role": "user", "content": [{"type": "text", "text": USER}]}]
    assert "temperature" not in body
    assert request.headers.get("authorization") == f"Bearer {TEST_KEY}" or request.headers.get("x-api-key") == TEST_KEY
    assert "anthropic-version" in request.headers


@pytest.mark.parametrize("temperature", [0.0, 0.7])
def test_temperature_sent_when_set(fake: FakeAnthropic, temperature: float) -> None:
    turn = run(claude_backend(fake.base_url, temperature=temperature))
    assert turn.last == TurnDone("end_turn"), turn.last
    (request,) = fake.message_requests()
    assert request.json["temperature"] == temperature


def test_cache_ttl_1h(fake: FakeAnthropic) -> None:
    turn = run(claude_backend(fake.base_url, cache_ttl="1h"))
    body = fake.message_requests()[0].json
    marker = {"type": "ephemeral", "ttl": "1h"}
    assert body["cache_control"] == marker
    assert body["system"][0]["cache_control"] == marker
    for usage in turn.api_usages:
        assert usage.cache_write_tokens == PROMPT_TOKENS
        assert usage.cache_write_1h_tokens == PROMPT_TOKENS


def test_default_ttl_writes_are_not_1h(fake: FakeAnthropic, backend: ClaudeBackend) -> None:
    turn = run(backend)
    assert [u.cache_write_1h_tokens for u in turn.api_usages] == [0, 0]


def test_prompt_caching_off_sends_no_markers(fake: FakeAnthropic) -> None:
    turn = run(claude_backend(fake.base_url, prompt_caching=False))
    body = fake.message_requests()[0].json
    assert "cache_control" not in body
    assert "cache_control" not in body["system"][0]
    start = turn.api_usages[0]
    assert (start.prompt_tokens, start.cache_read_tokens, start.cache_write_tokens) == (PROMPT_TOKENS, 0, 0)


def test_claude_system_prompt_replaces_the_conversations(fake: FakeAnthropic) -> None:
    run(claude_backend(fake.base_url, system_prompt="You are Claude, be brief."))
    assert fake.message_requests()[0].json["system"][0]["text"] == "You are Claude, be brief."


# -- keys and endpoints -----------------------------------------------------------------


def test_no_api_key_is_unavailable(fake: FakeAnthropic) -> None:
    backend = claude_from(claude_config(fake.base_url, api_key=""))
    with pytest.raises(BackendUnavailable) as raised:
        backend.load()
    assert "ANTHROPIC_API_KEY" in str(raised.value)
    assert raised.value.kind == "unavailable"
    assert not backend.loaded

    events = list(backend.stream(MESSAGES, threading.Event()))
    assert len(events) == 1
    assert isinstance(events[0], BackendError) and events[0].kind == "unavailable"
    assert "ANTHROPIC_API_KEY" in events[0].message and "\n" not in events[0].message
    assert fake.requests == []


def test_api_key_from_the_environment(fake: FakeAnthropic, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", TEST_KEY)
    backend = claude_backend(fake.base_url, api_key="")
    fake.enqueue(Answer(ANSWER))
    assert run(backend).text == ANSWER


def test_anthropic_base_url_honoured_when_base_url_empty(fake: FakeAnthropic, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_BASE_URL", fake.base_url)
    backend = claude_backend("")
    assert backend.host.startswith(fake.base_url)
    fake.enqueue(Answer(ANSWER))
    turn = run(backend)
    assert turn.text == ANSWER
    assert len(fake.message_requests()) == 1


# -- counting tokens ------------------------------------------------------------------------


def test_count_tokens_online(fake: FakeAnthropic, backend: ClaudeBackend) -> None:
    count = backend.count_tokens(MESSAGES)
    assert count == TokenCount(PROMPT_TOKENS, estimated=False)
    (request,) = [r for r in fake.requests if r.path.startswith("/v1/messages/count_tokens")]
    assert request.json["model"] == MODEL
    assert "max_tokens" not in request.json
    assert fake.message_requests() == []  # counting never starts a turn


def test_count_tokens_estimates_when_the_api_fails(fake: FakeAnthropic, backend: ClaudeBackend) -> None:
    fake.count_tokens_fails = 500
    count = backend.count_tokens(MESSAGES)
    assert count.estimated
    assert count.tokens > 0


def test_learned_ratio_calibrates_estimates_and_persists(
    fake: FakeAnthropic, backend: ClaudeBackend, assistant_home: Path
) -> None:
    fake.enqueue(Answer(ANSWER))
    run(backend)  # message_start's prompt count teaches the ratio

    follow_up = "And why are sunsets red or orange instead of blue?"
    longer = [*MESSAGES, Message("assistant", ANSWER), Message("user", follow_up)]
    api = claude_backend(fake.base_url).count_tokens(longer)
    assert not api.estimated

    fake.count_tokens_fails = 500
    estimate = backend.count_tokens(longer)
    assert estimate.estimated
    assert abs(estimate.tokens - api.tokens) <= 0.1 * api.tokens, (estimate, api)

    path = assistant_home / "data" / "token_calibration.json"
    saved = json.loads(path.read_text(encoding="utf-8"))
    assert saved[MODEL]["samples"] >= 1 and saved[MODEL]["ratio"] > 0

    fresh = claude_backend(fake.base_url)  # reads the file
    fresh_estimate = fresh.count_tokens(longer)
    assert fresh_estimate.estimated
    assert abs(fresh_estimate.tokens - api.tokens) <= 0.1 * api.tokens, (fresh_estimate, api)

    path.unlink()
    uncalibrated = claude_backend(fake.base_url).count_tokens(longer)
    assert uncalibrated.estimated
    assert uncalibrated.tokens != fresh_estimate.tokens  # the file, not luck, made it close


# -- capabilities and pacing --------------------------------------------------------------


def test_capabilities(fake: FakeAnthropic, backend: ClaudeBackend) -> None:
    caps = backend.capabilities
    assert caps.local is False
    assert caps.context_size == 1_000_000  # claude-sonnet-5-5 in the price table
    assert caps.max_concurrency >= 1
    assert backend.name == "claude"
    assert backend.model_name == MODEL
    assert backend.loaded


def test_deltas_stream_as_they_arrive(fake: FakeAnthropic, backend: ClaudeBackend) -> None:
    text = "word " * 20  # 40 fake tokens, one delta each
    assert fake_token_count(text) == 40
    fake.tokens_per_second = 200
    fake.enqueue(Answer(text))
    turn = run(backend)

    assert turn.text == text
    times = [t for e, t in zip(turn.events, turn.times) if isinstance(e, TextDelta)]
    spread = times[-1] - times[0]
    assert 0.12 <= spread <= 1.5, spread  # (40 - 1) / 200 = 0.195 s on the server's clock
    # Not buffered: the first half arrived well before the last delta.
    assert times[len(times) // 2] - times[0] < spread - 0.04
    assert turn.last == TurnDone("end_turn")
