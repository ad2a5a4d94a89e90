"""A secret typed into a message, through the real `anthropic` SDK against the loopback
Messages API (tests/fake_anthropic.py): a typed `sk_live_…` key never appears in the
API's request log, in the ledger's file (its SQLite bytes, WAL included) or in the log
file (with the SDK's debug records on, which repeat every request). `@claude` over it is
refused without `--allow-secret`; with it, the key goes to Claude and still reaches
neither file; a later turn's history carries it masked."""

from __future__ import annotations

import json
import threading

from assistant.backends.scripted import ScriptedBackend
from assistant.core.conversation import Message
from assistant.core.logs import setup_logging
from assistant.core.paths import LEDGER_FILE, Paths
from assistant.core.session.chat import ChatSession
from assistant.core.store.ledger import Ledger
from tests.backends.claude.conftest import claude_backend, claude_config, claude_from
from tests.cli.test_ask_json import valid
from tests.cli.test_cli_input import all_turns, ask, one_line
from tests.conftest import TEST_KEY
from tests.fake_anthropic import Answer, FakeAnthropic

KEY = "sk_live_51HxYzQ8rT2vLm9NbC4kW7pXs3AdEf6Gh"
SECRET = KEY.removeprefix("sk_live_").encode()  # what must never be kept
QUESTION = f"how do I list charges with key {KEY}?"


def auto_flags(base_url: str) -> list[str]:
    """Claude through the fake, the router deciding, and the SDK's debug records logged."""
    return [
        "--set", f"backends.claude.base_url={base_url}",
        "--set", f"backends.claude.api_key={TEST_KEY}",
        "--set", "backends.claude.max_retries=0",
        "--set", "backends.claude.connect_timeout=2",
        "--set", "general.debug_log=true",
    ]  # fmt: skip


def ledger_bytes() -> bytes:
    """The ledger's SQLite file as stored, with its WAL and shared memory."""
    data = Paths.resolve().data_dir
    return b"".join(p.read_bytes() for p in sorted(data.glob(f"{LEDGER_FILE}*")))


def log_bytes() -> bytes:
    return Paths.resolve().log_file.read_bytes()


def assert_kept_nowhere(fake: FakeAnthropic) -> None:
    assert not any(SECRET in r.body for r in fake.requests)
    assert ledger_bytes() and SECRET not in ledger_bytes()
    assert SECRET not in log_bytes()


def test_a_typed_key_is_answered_here_and_reaches_neither_claude_nor_a_file(fake: FakeAnthropic) -> None:
    code, out, err = ask(*auto_flags(fake.base_url), "--why", f"@quality {QUESTION}")
    assert code == 0 and out == "Fine.\n"
    assert "privacy: the message holds what looks like a Stripe live key → local only" in err
    assert SECRET not in err.encode() and fake.message_requests() == []
    assert [t.backend for t in all_turns()] == ["local"]
    assert_kept_nowhere(fake)


def test_naming_claude_over_a_typed_key_is_refused_in_one_line(fake: FakeAnthropic) -> None:
    for named in ([f"@claude {QUESTION}"], ["--backend", "claude", QUESTION]):
        code, out, err = ask(*auto_flags(fake.base_url), *named)
        assert (code, out) == (2, "")
        assert one_line(err) == ("assistant: the message holds what looks like a Stripe live key: not sent to claude; "
                                 "--allow-secret sends it, and without naming claude it is answered on this machine")
    code, out, _ = ask(*auto_flags(fake.base_url), "--json", f"@claude {QUESTION}")
    refused = valid(json.loads(out))
    assert code == 2 and refused["outcome"] == "error" and refused["error"]["kind"] == "secret"
    assert fake.requests == [] and all_turns() == []  # nothing sent, nothing answered


def test_allow_secret_sends_it_to_claude_and_still_no_file_keeps_it(fake: FakeAnthropic) -> None:
    fake.enqueue(Answer("Call GET /v1/charges with it."))
    code, out, err = ask(*auto_flags(fake.base_url), "--allow-secret", f"@claude {QUESTION}")
    assert code == 0 and out == "Call GET /v1/charges with it.\n", err
    [request] = fake.message_requests()
    assert SECRET in request.body  # let go: it went, so what follows is masking, not absence
    assert b"sk_live_***" in log_bytes() and SECRET not in log_bytes()  # the SDK's record of the request, masked
    assert SECRET not in ledger_bytes() and [t.backend for t in all_turns()] == ["claude"]


def test_the_conversation_carries_the_key_masked_to_a_later_cloud_turn(fake: FakeAnthropic) -> None:
    """Turn one stays here, and the local model repeats the key; turn two goes to Claude
    with that history: masked, as in the stored chat (the ledger's file)."""
    setup_logging(Paths.resolve(), debug=True)  # the SDK's records of each request too
    config = claude_config(fake.base_url, max_retries=0).with_overrides({"general.backend": "auto"}, "test")
    local = ScriptedBackend([f"Run: curl https://api.stripe.com/v1/charges -u {KEY}:"], name="local")
    session = ChatSession(config, backends={"local": local, "claude": claude_from(config)}, ledger=Ledger.open,
                          persist=True, installed=False)  # fmt: skip
    try:
        first = session.run_turn(QUESTION, threading.Event())
        assert first.backend == "local" and KEY in first.text  # shown as answered
        fake.enqueue(Answer("Refunds are POST /v1/refunds."))
        second = session.run_turn("@claude and how do I refund one?", threading.Event())
        assert second.backend == "claude"
    finally:
        session.close()
    [request] = fake.message_requests()
    sent = json.dumps(request.json["messages"])
    assert "sk_live_***" in sent and "and how do I refund one?" in sent
    assert_kept_nowhere(fake)


def test_counting_a_prompt_for_the_route_sends_no_typed_key(fake: FakeAnthropic) -> None:
    claude = claude_backend(fake.base_url)
    try:
        assert claude.count_tokens([Message("user", QUESTION)]).tokens > 0
    finally:
        claude.close()
    [count] = fake.requests
    assert count.path.startswith("/v1/messages/count_tokens") and SECRET not in count.body
