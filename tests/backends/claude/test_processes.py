"""Whole processes against the fake API: `assistant ask` on Claude, the API key
never written anywhere, and a SIGKILL in the middle of a streamed turn."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

from assistant.core.store.ledger import LEDGER_FILE, Ledger
from tests.fake_anthropic import (
    SERVER_ERROR,
    SPEND_LIMIT,
    UNAUTHORIZED,
    Answer,
    Drop,
    ErrorEvent,
    FakeAnthropic,
    NoMessageStop,
    Stall,
    closed_port_url,
)
from tests.patience import FOREVER, PATIENCE, wait_until

CANARY = "sk-ant-api03-CANARY-" + "7" * 40
REPO = Path(__file__).resolve().parents[3]


def run_assistant(home: Path, *args: str, env: dict[str, str] | None = None, timeout: float = PATIENCE):
    return subprocess.run(
        [sys.executable, "-m", "assistant", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO,
        env={**os.environ, "ASSISTANT_HOME": str(home), **(env or {})},
    )


def claude_flags(base_url: str, *extra: str) -> list[str]:
    return [
        "--backend", "claude",
        "--set", f"backends.claude.base_url={base_url!r}".replace("'", '"'),
        "--set", "backends.claude.max_retries=1",
        "--set", "backends.claude.retry_max_seconds=2",
        "--set", "backends.claude.read_timeout=1.0",
        "--set", "router.fallback=[]",
        *extra,
    ]


def test_ask_on_claude_streams_and_records_the_turn(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with FakeAnthropic(api_key=CANARY) as fake:
        fake.enqueue(Answer("The answer is 4."))
        result = run_assistant(home, "ask", *claude_flags(fake.base_url), "2+2?", env={"ANTHROPIC_API_KEY": CANARY})
    assert result.returncode == 0, result.stderr
    assert result.stdout == "The answer is 4.\n"
    [stats] = result.stderr.strip().splitlines()
    assert stats.startswith("claude · claude-sonnet-5-5 · ") and "tok/s" in stats
    with Ledger.open(home / "data" / LEDGER_FILE) as ledger:
        (row,) = ledger.turns()
    assert row.backend == "claude" and row.outcome == "ok" and row.cost and row.cost > 0


def test_the_api_key_is_never_written_anywhere(tmp_path: Path) -> None:
    """A canary key, faulty turns with debug logging on (ours, the SDK's and httpx's),
    then every byte written under ASSISTANT_HOME and every output is searched."""
    home = tmp_path / "home"
    env = {"ANTHROPIC_API_KEY": CANARY, "ANTHROPIC_LOG": "debug"}
    outputs = []
    with FakeAnthropic(api_key=CANARY) as fake:
        faults = [
            Answer("fine"), SERVER_ERROR, SERVER_ERROR, Drop(after_tokens=2), ErrorEvent(after_tokens=3),
            NoMessageStop(), UNAUTHORIZED, SPEND_LIMIT, Stall(after_tokens=1, seconds=3),
        ]
        fake.enqueue(*faults)
        flags = claude_flags(fake.base_url, "--set", "general.debug_log=true")
        for i in range(8):
            outputs.append(run_assistant(home, "ask", *flags, f"question {i}", env=env))
        outputs.append(run_assistant(home, "ask", *claude_flags(closed_port_url()), "refused", env=env))
        outputs.append(run_assistant(home, "config", env=env))
        outputs.append(run_assistant(home, "cost", "--all", "--json", env=env))
        outputs.append(run_assistant(home, "cost", "--all", "--csv", env=env))
    codes = [o.returncode for o in outputs]
    assert codes[0] == 0 and 1 in codes  # faults really happened
    everything = [o.stdout + o.stderr for o in outputs]
    written = [p for p in home.rglob("*") if p.is_file()]
    assert any(p.name == "assistant.log" for p in written)
    log = (home / "logs" / "assistant.log").read_text()
    assert "claude request failed" in log and "anthropic" in log  # debug records are there
    for path in written:
        assert CANARY.encode() not in path.read_bytes(), f"the key was written to {path}"
    for text in everything:
        assert CANARY not in text
        assert "Traceback" not in text


CHILD = textwrap.dedent(
    """
    import sys, threading
    from assistant.core import plugins
    from assistant.core.session.chat import ChatSession
    from assistant.core.config import Config
    from assistant.core.store.ledger import Ledger

    config = Config().with_overrides({"backends.claude.base_url": sys.argv[1],
                                      "backends.claude.api_key": "sk-ant-test-key-123456"})
    backend = plugins.create_backend(config, "claude")
    backend.load()
    session = ChatSession(config, backend, ledger=Ledger.open)
    for i in range(100):
        session.run_turn(f"turn {i}", threading.Event())
    """
)


def test_sigkill_mid_stream_loses_at_most_that_turn(tmp_path: Path) -> None:
    home = tmp_path / "home"
    ledger_path = home / "data" / LEDGER_FILE
    with FakeAnthropic(tokens_per_second=400) as fake:
        # The fourth answer stalls for good after 4 deltas: the kill lands in it.
        fake.enqueue(*(Answer("word " * 20) for _ in range(3)), Stall(after_tokens=4, seconds=FOREVER))
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, fake.base_url],
            cwd=REPO,
            env={**os.environ, "ASSISTANT_HOME": str(home)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        try:
            wait_until(lambda: fake.stalls or child.poll() is not None, "the child's fourth answer stalls")
            assert child.poll() is None, child.stderr.read()
            child.send_signal(signal.SIGKILL)
            child.wait(timeout=PATIENCE)
            # Killed mid-stream: its connection closed in the fourth answer's stall.
            wait_until(lambda: fake.hangups, "the fake sees the killed child's connection close")
        finally:
            if child.poll() is None:
                child.kill()
        assert [h.deltas for h in fake.hangups] == [4] and fake.hangups == fake.stalls
    assert child.returncode == -signal.SIGKILL
    # The database opens as it is: no repair, nothing to recover by hand.
    with sqlite3.connect(ledger_path) as raw:
        assert raw.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    with Ledger.open(ledger_path) as ledger:
        rows = ledger.turns()
    assert len(rows) == 3, "every finished turn is there, the killed one is not"
    assert all(r.outcome == "ok" and r.completion_tokens == 40 for r in rows)
