"""Streaming speed of the app's Claude path against the bare Anthropic SDK.

A loopback fake of the Messages API (tests/fake_anthropic.py), in its own
process so it does not share the GIL with the client, streams the same answer
to both sides, one token per text delta:

  (a) the app's path: `ChatSession.run_turn` on `ClaudeBackend` (producer thread,
      event translation, per-delta token counting, metrics), as the TUI's worker runs it
  (b) the bare SDK: `client.messages.stream(...).text_stream`

Rate = text deltas after the first / time from the first to the last, measured
the same way on both sides, on interleaved runs (median of --runs).

Paced at --rate tokens/s (default 2,000, the issue's "fixed high rate"), the
target is (a)/(b) >= 0.97; exits 1 when missed. An unpaced run (the server as
fast as it can) is printed as well, to show the overhead when the network is
not the limit; it has no target.

    python bench/claude_stream.py [--runs 5] [--tokens 4000] [--rate 2000]
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TARGET = 0.97
KEY = "sk-ant-bench-0123456789"


def serve(conn, rate: float | None, text: str) -> None:  # runs in the server process
    from tests.fake_anthropic import FakeAnthropic

    with FakeAnthropic(tokens_per_second=rate, api_key=KEY, default_answer=text) as fake:
        conn.send(fake.base_url)
        conn.recv()  # until told to stop


def start_server(rate: float | None, text: str):
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe()
    process = ctx.Process(target=serve, args=(child, rate, text), daemon=True)
    process.start()
    return process, parent, parent.recv()


def run_app(base_url: str, max_tokens: int) -> tuple[int, float]:
    from assistant.core import plugins
    from assistant.core.session.chat import ChatSession
    from assistant.core.config import Config
    from assistant.core.events import TextDelta

    settings = {"base_url": base_url, "api_key": KEY, "max_tokens": max_tokens}
    config = Config().with_overrides({f"backends.claude.{key}": value for key, value in settings.items()})
    backend = plugins.create_backend(config, "claude")
    backend.load()
    session = ChatSession(config, backend)  # no ledger: (b) writes none either
    clock = time.perf_counter
    first = last = 0.0
    deltas = 0

    def on_event(event) -> None:
        nonlocal first, last, deltas
        if isinstance(event, TextDelta) and event.text:
            last = clock()
            if not deltas:
                first = last
            deltas += 1

    result = session.run_turn("Write a long answer.", threading.Event(), on_event)
    assert result.outcome == "ok", result.error
    backend.close()
    return deltas, last - first


def run_sdk(base_url: str, max_tokens: int) -> tuple[int, float]:
    import anthropic

    client = anthropic.Anthropic(api_key=KEY, base_url=base_url, max_retries=0)
    clock = time.perf_counter
    first = last = 0.0
    deltas = 0
    with client.messages.stream(
        model="claude-sonnet-5-5",
        max_tokens=max_tokens,
        system="You are a concise, expert coding assistant. Answer in Markdown.",
        messages=[{"role": "user", "content": "Write a long answer."}],
    ) as stream:
        for text in stream.text_stream:
            if text:
                last = clock()
                if not deltas:
                    first = last
                deltas += 1
    client.close()
    return deltas, last - first


def measure(rate: float | None, tokens: int, runs: int) -> tuple[float, float]:
    words = ["tok"] * (tokens // 2)
    text = " ".join(words) + " "  # the fake tokenizer: every word and every space is a token
    process, conn, base_url = start_server(rate, text)
    try:
        run_app(base_url, tokens + 10)  # warm-up: imports, connections, tiktoken
        run_sdk(base_url, tokens + 10)
        app, sdk = [], []
        for _ in range(runs):
            n_a, span_a = run_app(base_url, tokens + 10)
            n_b, span_b = run_sdk(base_url, tokens + 10)
            assert n_a == n_b == tokens, (n_a, n_b, tokens)
            app.append((n_a - 1) / span_a)
            sdk.append((n_b - 1) / span_b)
        return statistics.median(app), statistics.median(sdk)
    finally:
        conn.send("stop")
        process.join(timeout=5)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--tokens", type=int, default=4000)
    parser.add_argument("--rate", type=float, default=2000.0)
    args = parser.parse_args()

    ok = True
    for label, rate in ((f"paced at {args.rate:,.0f} tok/s", args.rate), ("unpaced", None)):
        app, sdk = measure(rate, args.tokens, args.runs)
        ratio = app / sdk
        gated = rate is not None
        verdict = ("ok" if ratio >= TARGET else "MISSED") if gated else "no target"
        ok &= ratio >= TARGET or not gated
        print(f"{label}: {args.tokens:,} tokens, median of {args.runs}")
        print(f"  (a) app Claude path   {app:10,.0f} tok/s")
        print(f"  (b) bare SDK stream   {sdk:10,.0f} tok/s")
        print(f"  (a)/(b) = {ratio:.3f}  (target >= {TARGET} when paced)  {verdict}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
