"""What routing costs a turn: the decision plus fitting the context into every
backend's window, late in a 500-turn session.

The session is routed (auto mode) over two backends: the real SmolLM2 through
llama.cpp (its window counted by its own tokenizer, exactly, every turn) and
Claude's counter (tiktoken scaled, offline: no API key here). The history grows
to 500 exchanges as a chat would; `ChatSession.route()` is timed on each of the
last --sample turns. For scale, the time of one local token (generation) on
the same model.

Target: median < 5 ms. Exits 1 when missed.

    python bench/route_overhead.py [--turns 500] [--sample 100]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time

from assistant.backends.llama.backend import LlamaCppBackend
from assistant.core import plugins
from assistant.core.config import Config
from assistant.core.conversation import Exchange, Message
from assistant.core.decisions import TurnRequest
from assistant.core.events import TextDelta
from assistant.core.session.chat import AUTO, ChatSession

TARGET_MS = 5.0


def local_token_seconds(backend: LlamaCppBackend) -> float:
    """Seconds per generated token (median gap between tokens) on a short answer."""
    backend.forget_cache()
    stamps = [
        time.perf_counter()
        for event in backend.stream([Message("user", "Count from one to thirty.")], threading.Event())
        if isinstance(event, TextDelta) and event.tokens
    ]
    gaps = [b - a for a, b in zip(stamps, stamps[1:])]
    return statistics.median(gaps)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--turns", type=int, default=500)
    parser.add_argument("--sample", type=int, default=100)
    args = parser.parse_args()
    os.environ.setdefault("ASSISTANT_HOME", tempfile.mkdtemp(prefix="bench-route-"))
    os.environ.pop("ANTHROPIC_API_KEY", None)

    config = Config().with_overrides({
        "general.backend": AUTO, "backends.local.max_tokens": 48, "backends.local.temperature": 0.0,
        "backends.local.n_ctx": 8192,
    })  # fmt: skip
    local = plugins.create_backend(config, "local")
    local.load()
    claude = plugins.create_backend(config, "claude")  # no key: counted offline, never called
    session = ChatSession(config, backends={"local": local, "claude": claude}, installed=False)

    answer = "Use a list comprehension: `[x * x for x in numbers]`; it is shorter and faster than a loop."
    times = []
    for turn in range(args.turns):
        question = f"Turn {turn}: how would you square every number in a list, and why?"
        current = Message("user", question)
        started = time.perf_counter()
        session.route(TurnRequest(question))
        elapsed = time.perf_counter() - started
        if turn >= args.turns - args.sample:
            times.append(elapsed)
        session.exchanges.append(Exchange(current, Message("assistant", answer)))

    median_ms = statistics.median(times) * 1000
    p95_ms = sorted(times)[int(len(times) * 0.95) - 1] * 1000
    token_ms = local_token_seconds(local) * 1000
    windows = {name: session.window(name) for name in ("local", "claude")}
    print(f"routing + context assembly, turns {args.turns - args.sample + 1}-{args.turns} of a {args.turns}-turn session")
    for name, assembly in windows.items():
        kind = "estimated" if assembly.estimated else "exact"
        print(f"  {name:6} window: {assembly.tokens:,} of {assembly.budget:,} tokens ({kind}), "
              f"{assembly.dropped} of {len(session.exchanges)} exchanges dropped")
    print(f"  median {median_ms:.2f} ms, p95 {p95_ms:.2f} ms   target median < {TARGET_MS:g} ms   "
          f"{'ok' if median_ms < TARGET_MS else 'MISSED'}")
    print(f"  for scale: one local token (SmolLM2, generation) = {token_ms:.1f} ms; "
          f"routing = {median_ms / token_ms:.2f} tokens")
    local.close()
    return 0 if median_ms < TARGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())
