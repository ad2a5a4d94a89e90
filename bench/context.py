"""How much prompt the app evaluates over a long chat, against re-evaluating the window every turn.

A 30-turn session on SmolLM2 through the app (`ChatSession` on the local
backend) with a 1,024-token window: the app keeps llama.cpp's KV cache from turn
to turn, slides the window a chunk at a time, and when it slides moves the kept
turns down in the cache instead of evaluating them again.

The naive side is a loop that rebuilds the window and evaluates it from
nothing every turn (`backend.forget_cache()`, then the same prompt the app sent that
turn, generating one token for its time to first token).

Targets: the app evaluates <= 25% of the naive total; the app's TTFT at turn 30
<= 1.5 x its TTFT at turn 2. Exits 1 when missed.

    python bench/context.py [--turns 30] [--window 1024] [--max-tokens 32] [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import replace

from assistant.backends.llama.backend import LlamaCppBackend
from assistant.core import plugins
from assistant.core.session.chat import ChatSession
from assistant.core.config import Config
from assistant.core.events import TextDelta

QUESTIONS = [
    "What does Python's `enumerate` return?",
    "How do I read a file line by line?",
    "Explain list comprehensions briefly.",
    "What is a generator?",
    "When should I use a tuple instead of a list?",
    "How do I sort a dict by value?",
]


def run_session(config: Config, backend: LlamaCppBackend, turns: int) -> tuple[list, list]:
    """(prompt tokens, evaluated, ttft, slid) per turn, and each turn's prompt."""
    backend.forget_cache()
    session = ChatSession(config, backend)
    rows, prompts = [], []
    for turn in range(turns):
        question = f"Turn {turn + 1}. {QUESTIONS[turn % len(QUESTIONS)]}"
        result = session.run_turn(question, threading.Event())
        if result.outcome != "ok":
            raise SystemExit(f"turn {turn + 1} failed: {result.error}")
        assembly = session.window("local")
        prompts.append(list(assembly.messages))
        rows.append((result.usage.prompt_tokens, result.usage.prompt_tokens_evaluated, result.stats.ttft, assembly.slid))
    return rows, prompts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--turns", type=int, default=30)
    parser.add_argument("--window", type=int, default=1024)
    parser.add_argument("--max-tokens", type=int, default=32)
    parser.add_argument("--runs", type=int, default=3, help="app sessions; TTFT per turn is their median")
    args = parser.parse_args()
    os.environ.setdefault("ASSISTANT_HOME", tempfile.mkdtemp(prefix="bench-context-"))

    local = {"max_tokens": args.max_tokens, "temperature": 0.0, "n_ctx": 4096, "repeat_penalty": 1.0,
             "window_tokens": args.window}  # fmt: skip
    config = Config().with_overrides({f"backends.local.{key}": value for key, value in local.items()})
    backend = plugins.create_backend(config, "local")
    backend.load()

    # The same session --runs times (greedy: the same answers); per-turn TTFT is the median.
    sessions = [run_session(config, backend, args.turns) for _ in range(args.runs)]
    app_rows = [
        (rows[0][0], rows[0][1], statistics.median(r[2] for r in rows), rows[0][3])
        for rows in zip(*(rows for rows, _ in sessions))
    ]
    prompts = sessions[0][1]

    naive_rows = []  # (evaluated, ttft)
    # The same loaded model and code path; one token is enough for the time to first token.
    backend.settings = replace(backend.settings, max_tokens=1)
    for messages in prompts:
        backend.forget_cache()  # nothing cached: the whole window is evaluated again
        started = time.perf_counter()
        ttft = None
        evaluated = 0
        for event in backend.stream(messages, threading.Event()):
            if isinstance(event, TextDelta) and ttft is None:
                ttft = time.perf_counter() - started
            if hasattr(event, "prompt_tokens_evaluated") and event.prompt_tokens_evaluated is not None:
                evaluated = event.prompt_tokens_evaluated
        naive_rows.append((evaluated, ttft))

    print(f"{args.turns} turns on SmolLM2, {args.window:,}-token window, {args.max_tokens} tokens per answer, "
          f"app TTFT = median of {args.runs} sessions")
    print("turn  prompt  app evaluated  naive evaluated  app TTFT  naive TTFT  slid")
    for i, ((prompt, evaluated, ttft, slid), (n_eval, n_ttft)) in enumerate(zip(app_rows, naive_rows), 1):
        print(f"{i:4}  {prompt:6,}  {evaluated:13,}  {n_eval:15,}  {ttft * 1000:6.0f} ms  {n_ttft * 1000:7.0f} ms  {'yes' if slid else ''}")
    app_total = sum(r[1] for r in app_rows)
    naive_total = sum(r[0] for r in naive_rows)
    share = app_total / naive_total
    ttft2, ttft_last = app_rows[1][2], app_rows[-1][2]
    ratio = ttft_last / ttft2
    slides = sum(1 for r in app_rows if r[3])
    ok_share, ok_ttft = share <= 0.25, ratio <= 1.5
    print(f"prompt tokens evaluated: app {app_total:,}, naive {naive_total:,} -> {share:.1%}   "
          f"target <= 25%   {'ok' if ok_share else 'MISSED'}")
    print(f"app TTFT turn {args.turns} / turn 2 = {ttft_last * 1000:.0f} / {ttft2 * 1000:.0f} ms = {ratio:.2f}   "
          f"target <= 1.5   {'ok' if ok_ttft else 'MISSED'}")
    print(f"window slides: {slides} (a chunk of the window each)")
    backend.close()
    return 0 if ok_share and ok_ttft else 1


if __name__ == "__main__":
    sys.exit(main())
