"""A chat session on Claude: prompt caching across turns, the ledger, and fallback to local."""

from __future__ import annotations

import json
import threading

import pytest

from assistant.backends.scripted import ScriptedBackend
from assistant.core.session.chat import ChatSession
from assistant.core.events import FallbackStarted, Retrying, Usage
from assistant.core.store.ledger import Ledger
from assistant.core.accounting.pricing import claude_cost, price_table
from tests.backends.claude.conftest import claude_config, claude_from
from tests.fake_anthropic import OVERLOADED, SPEND_LIMIT, Answer, Drop, FakeAnthropic, fake_token_count

ANSWERS = ["First answer, with some words.", "Second answer here.", "Third and last answer."]


def session_on(fake: FakeAnthropic, *, fallback=None, fallback_names=("local",), **claude) -> ChatSession:
    config = claude_config(fake.base_url, **claude).with_overrides({"router.fallback": list(fallback_names)})
    backend = claude_from(config)
    backend.load()
    return ChatSession(config, backend, ledger=Ledger.open, fallback=fallback)


def messages_prefix(body: bytes) -> bytes:
    """The request up to the end of its last message: everything before `],"model"`."""
    end = body.index(b'],"model"')
    return body[:end]


def test_follow_up_turns_send_a_byte_identical_prefix_and_read_the_cache(fake: FakeAnthropic) -> None:
    fake.enqueue(*(Answer(a) for a in ANSWERS))
    session = session_on(fake)
    results = [session.run_turn(q, threading.Event()) for q in ("one?", "two?", "three?")]
    assert [r.text for r in results] == ANSWERS
    bodies = [r.body for r in fake.message_requests()]
    assert len(bodies) == 3
    for before, after in zip(bodies, bodies[1:]):
        # Turn k's request, up to its last block (where the automatic breakpoint sat),
        # is byte for byte the start of turn k+1's.
        assert after.startswith(messages_prefix(before))
        assert json.loads(after)["system"] == json.loads(before)["system"]
    first = json.loads(bodies[0])
    assert first["system"][0]["cache_control"] == {"type": "ephemeral"}
    assert first["cache_control"] == {"type": "ephemeral"}
    # Each follow-up reads from the cache everything the turn before wrote.
    usages = [r.usage for r in results]
    assert usages[0].cache_read_tokens == 0
    assert usages[1].cache_read_tokens == usages[0].prompt_tokens
    assert usages[2].cache_read_tokens == usages[1].prompt_tokens
    assert all(u.uncached_prompt_tokens == 0 for u in usages)  # the whole prompt is read or written


def test_ledger_rows_equal_the_servers_usage(fake: FakeAnthropic) -> None:
    fake.enqueue(*(Answer(a) for a in ANSWERS))
    session = session_on(fake)
    results = [session.run_turn(q, threading.Event()) for q in ("one?", "two?", "three?")]
    rows = Ledger.open().turns(session_id=session.session_id)
    assert len(rows) == 3
    price = price_table().lookup("claude-sonnet-5-5")
    for row, result, request in zip(rows, results, fake.message_requests()):
        server = count_prompt(fake, request.json)
        assert row.prompt_tokens == server == result.usage.prompt_tokens
        assert row.completion_tokens == fake_token_count(result.text)
        assert row.cache_read_tokens == result.usage.cache_read_tokens
        assert row.cache_write_tokens == result.usage.cache_write_tokens
        assert not row.usage_estimated
        assert row.outcome == "ok" and row.backend == "claude" and row.model == "claude-sonnet-5-5"
        assert row.cost == pytest.approx(claude_cost(price, result.usage))
        assert row.counterfactual_cost == pytest.approx(row.cost)  # reference model = the model used
        assert row.ttft is not None and row.elapsed >= row.ttft
    session.close()


def count_prompt(fake: FakeAnthropic, body: dict) -> int:
    import anthropic

    from tests.backends.claude.conftest import TEST_KEY

    client = anthropic.Anthropic(api_key=TEST_KEY, base_url=fake.base_url, max_retries=0)
    keep = {k: body[k] for k in ("model", "messages", "system") if k in body}
    return client.messages.count_tokens(**keep).input_tokens


def test_an_interrupted_turn_is_recorded_as_such_and_keeps_its_text(fake: FakeAnthropic) -> None:
    fake.enqueue(Drop(after_tokens=4, text="one two three four five six"))
    session = session_on(fake)
    result = session.run_turn("q", threading.Event())
    assert result.outcome == "interrupted"
    assert result.text == "one two "
    assert session.exchanges[-1].answer.content == "one two "
    (row,) = Ledger.open().turns(session_id=session.session_id)
    assert row.outcome == "interrupted" and row.usage_estimated and "dropped" in row.error
    assert row.cost is not None and row.cost > 0  # the prompt was billed; output is an estimate


def test_overloaded_claude_falls_back_to_local_and_says_so(fake: FakeAnthropic) -> None:
    fake.enqueue(OVERLOADED, OVERLOADED)
    local = ScriptedBackend(["Local answer."])
    session = session_on(fake, fallback=lambda: local, max_retries=1, retry_max_seconds=2)
    seen = []
    result = session.run_turn("hello", threading.Event(), seen.append)
    assert result.text == "Local answer."
    assert result.backend == "scripted" and result.fallback_from == "claude"
    assert "overloaded" in result.fallback_reason
    notices = [e for e in seen if isinstance(e, Retrying | FallbackStarted)]
    assert isinstance(notices[0], Retrying) and isinstance(notices[-1], FallbackStarted)
    rows = Ledger.open().turns(session_id=session.session_id)
    assert [(r.backend, r.outcome) for r in rows] == [("claude", "error"), ("scripted", "ok")]
    assert rows[0].cost == 0.0  # refused requests are not billed
    assert rows[1].route_reason == "fallback from claude: overloaded"
    assert rows[1].counterfactual_cost is not None  # what it would have cost on Claude


def test_no_fallback_when_switched_off_or_after_text(fake: FakeAnthropic) -> None:
    fake.enqueue(SPEND_LIMIT)
    local = ScriptedBackend(["Local answer."])
    session = session_on(fake, fallback=lambda: local, fallback_names=())
    result = session.run_turn("hello", threading.Event())
    assert result.outcome == "error" and result.error.kind == "billing" and result.backend == "claude"
    assert session.exchanges == []  # nothing came back: the question is forgotten

    fake.enqueue(Drop(after_tokens=2))
    session = session_on(fake, fallback=lambda: local)
    result = session.run_turn("hello", threading.Event())
    assert result.outcome == "interrupted" and result.backend == "claude"  # text was shown: no fallback


def test_without_a_key_claude_turns_fall_back(fake: FakeAnthropic) -> None:
    config = claude_config(fake.base_url, api_key="")
    backend = claude_from(config)
    session = ChatSession(config, backend, fallback=lambda: ScriptedBackend(["Local."]))
    result = session.run_turn("hello", threading.Event())
    assert result.text == "Local."
    # The router saw Claude could not start and chose the next backend, saying why.
    assert result.decision.backend == "local" and "claude is unavailable (no API key)" in result.decision.reason
    assert fake.message_requests() == []


def test_unknown_model_cost_is_unknown(fake: FakeAnthropic) -> None:
    fake.enqueue(Answer("hi", model="claude-future-9"))
    session = session_on(fake, model="claude-future-9")
    result = session.run_turn("q", threading.Event())
    assert result.cost is None and result.model == "claude-future-9"
    assert session.status().session_cost_known is False
    (row,) = Ledger.open().turns(session_id=session.session_id)
    assert row.cost is None
    assert isinstance(result.usage, Usage)


def test_a_ledger_that_cannot_be_written_costs_no_answer(fake: FakeAnthropic, tmp_path) -> None:
    from assistant.core.store.ledger import LedgerError

    def broken() -> Ledger:
        raise LedgerError(f"cost ledger {tmp_path}/ledger.sqlite3: cannot open: disk I/O error")

    fake.enqueue(Answer("Still answered."), Answer("Again."))
    config = claude_config(fake.base_url)
    backend = claude_from(config)
    session = ChatSession(config, backend, ledger=broken)
    assert session.run_turn("q", threading.Event()).text == "Still answered."
    assert "disk I/O error" in session.ledger_error
    assert session.run_turn("q2", threading.Event()).text == "Again."
    assert session.status().turns == 2


def test_turns_reuse_one_connection(fake: FakeAnthropic) -> None:
    """A finished stream is read to its end, so the SDK's pool keeps the connection:
    no new TCP (and, against the real API, TLS) handshake before each turn."""
    fake.enqueue(*(Answer(a) for a in ANSWERS))
    session = session_on(fake)
    for q in ("one?", "two?", "three?"):
        assert session.run_turn(q, threading.Event()).outcome == "ok"
    assert fake.connections_accepted == 1


# A 40 KB log, as piped into `assistant ask`: some 12,000 tokens, three times the local
# model's context and over the 8,000-token window Claude once had by default.
LOG = "Summarise this log:\n" + "\n".join(f"line {i}: the quick brown fox jumps over {i * 7} lazy dogs"
                                          for i in range(730))  # fmt: skip


@pytest.mark.parametrize("prefix", ["", "@claude "])
def test_a_40_kb_question_goes_to_claude_whole(fake: FakeAnthropic, tmp_path, prefix: str) -> None:  # noqa: ANN001
    """Claude's window is its model's context (the price table's), not a fixed 8,000:
    routed or asked for, the question is sent whole, and the route says why local
    could not take it (its context and the settings that set it)."""
    assert 40_000 <= len(LOG.encode()) < 41_000
    config = claude_config(fake.base_url).with_overrides({"general.backend": "auto"})
    session = ChatSession(config, ledger=Ledger.open, project_root=tmp_path)
    result = session.run_turn(prefix + LOG, threading.Event())
    assert result.outcome == "ok" and result.backend == "claude"
    (request,) = fake.message_requests()
    assert request.json["messages"][-1]["content"][0]["text"] == LOG
    assert result.usage.prompt_tokens > 12_000
    assert session.window("claude").budget == 1_000_000 - 4096  # claude-sonnet-5-5's context less max_tokens
    if not prefix:
        local = "local takes 3,072 tokens, its context of 4,096 (n_ctx, [backends.local] n_ctx)"
        assert local in result.decision.reason and "unpin" not in result.decision.reason
    session.close()
