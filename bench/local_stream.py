"""Generation speed of the app's local backend against llama-cpp-python itself.

Same model, prompt, n_threads, max_tokens and greedy sampling, on the same
`Llama` object, interleaved runs after a warm-up:

  (a) the app's `LlamaCppBackend.stream()`
  (b) `Llama.create_chat_completion(stream=True)`
  (c) a minimal loop over `Llama.eval()` and one greedy sampler: the engine's own speed from Python

Generation rate = tokens after the first / time from the first to the last token.
Every side generates exactly the same number of tokens (checked).

Targets (each the median of the rounds' own ratios; the sides take turns going
first): (a)/(b) >= 1.00 and (a)/(c) >= 0.97 at every length;
TTFT(a) <= 1.05 x TTFT(c) + 20 ms. Exits 1 when a target is missed.

    python bench/local_stream.py [--runs 5] [--tokens 256 768] [--model PATH]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path

from assistant.backends.llama.backend import LlamaCppBackend
from assistant.backends.llama.options import LlamaOptions
from assistant.core.conversation import Message
from assistant.core.events import TextDelta
from targets import report

PROMPT = [
    Message("system", "You are a helpful assistant."),
    Message("user", "Write a very long, detailed essay about the history of computing, with many sections."),
]
SAMPLING = dict(temperature=0.0, repeat_penalty=1.0, top_k=40, top_p=0.95, min_p=0.05)


@dataclass
class Run:
    ttft: float
    tokens: int
    span: float  # first to last token

    @property
    def rate(self) -> float:
        return (self.tokens - 1) / self.span


def run_app(backend: LlamaCppBackend, n: int) -> Run:
    cancel = threading.Event()
    start = time.perf_counter()
    first = last = 0.0
    tokens = 0
    for event in backend.stream(PROMPT, cancel):
        if isinstance(event, TextDelta) and event.tokens:
            last = time.perf_counter()
            if not tokens:
                first = last
            tokens += event.tokens
    return Run(first - start, tokens, last - first)


def run_chat_completion(backend: LlamaCppBackend, n: int) -> Run:
    llama = backend.llama
    llama.reset()
    messages = [{"role": m.role, "content": m.content} for m in PROMPT]
    start = time.perf_counter()
    first = last = 0.0
    chunks = 0
    stream = llama.create_chat_completion(
        messages,
        stream=True,
        max_tokens=n,
        temperature=SAMPLING["temperature"],
        repeat_penalty=SAMPLING["repeat_penalty"],
        top_k=SAMPLING["top_k"],
        top_p=SAMPLING["top_p"],
        min_p=SAMPLING["min_p"],
    )
    finish = None
    for chunk in stream:
        choice = chunk["choices"][0]
        finish = choice.get("finish_reason") or finish
        if choice["delta"].get("content"):
            last = time.perf_counter()
            if not chunks:
                first = last
            chunks += 1
    if finish != "length":
        raise SystemExit(f"create_chat_completion stopped early ({finish}); pick a longer prompt")
    # Chunks are not tokens; it generated exactly n tokens (finish_reason == "length").
    return Run(first - start, n, last - first)


def run_raw_loop(backend: LlamaCppBackend, n: int) -> Run:
    llama = backend.llama
    tokens = backend.prompt_tokens(PROMPT)
    llama.reset()
    sampler = llama._init_sampler(temp=0.0, repeat_penalty=1.0)
    start = time.perf_counter()
    llama.eval(tokens)
    token = sampler.sample(llama._ctx, -1)
    first = time.perf_counter()
    for _ in range(n - 1):
        llama.eval([token])
        token = sampler.sample(llama._ctx, -1)
    last = time.perf_counter()
    return Run(first - start, n, last - first)


SIDES = {"a: app backend": run_app, "b: create_chat_completion": run_chat_completion, "c: eval/sample loop": run_raw_loop}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--tokens", type=int, nargs="+", default=[256, 768])
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--n-threads", type=int, default=0)
    args = parser.parse_args()

    local = replace(LlamaOptions(), n_ctx=2048, n_threads=args.n_threads, **SAMPLING)
    backend = LlamaCppBackend(local, model_path=args.model)
    backend.load()
    print(f"model {backend.model_name}  n_threads {backend.n_threads}  runs {args.runs} (+1 warm-up)")
    ok = True
    for n in args.tokens:
        backend.settings = replace(local, max_tokens=n)
        results: dict[str, list[Run]] = {name: [] for name in SIDES}
        names = list(SIDES)
        for round_ in range(args.runs + 1):
            # Each round starts with another side, so that none always follows the same one.
            for name in names[round_ % 3 :] + names[: round_ % 3]:
                side = SIDES[name]
                # No KV reuse between runs: every side evaluates the full prompt (and the
                # baselines find llama.cpp's sequence 0, which they use, empty).
                backend.forget_cache()
                # The baselines drive `llama` directly: on the backend's engine thread, as
                # the app's own stream does, or they would start a second OpenMP team.
                run = side(backend, n) if side is run_app else backend.on_engine(lambda: side(backend, n))
                if run.tokens != n:
                    raise SystemExit(f"{name} generated {run.tokens} tokens, not {n}")
                if round_:  # round 0 is the warm-up
                    results[name].append(run)
        rate = {k: statistics.median(r.rate for r in v) for k, v in results.items()}
        ttft = {k: statistics.median(r.ttft for r in v) for k, v in results.items()}
        ta, _, tc = (ttft[k] for k in SIDES)
        # The ratios are the medians of each round's own ratio: the machine's speed drifts
        # by more than the differences measured, and the sides of one round share it.
        app, chat, loop = (results[k] for k in SIDES)
        a_b = statistics.median(x.rate / y.rate for x, y in zip(app, chat))
        a_c = statistics.median(x.rate / y.rate for x, y in zip(app, loop))
        print(f"\n{n} generated tokens (median of {args.runs})")
        for name in SIDES:
            spread = [f"{r.rate:.1f}" for r in results[name]]
            print(f"  {name:28} {rate[name]:8.1f} tok/s  TTFT {ttft[name] * 1000:7.1f} ms   runs {spread}")
        ttft_limit = 1.05 * tc + 0.020
        checks = [
            (f"(a)/(b) = {a_b:.3f}  (of the medians {rate[names[0]] / rate[names[1]]:.3f})", a_b >= 1.00, ">= 1.00"),
            (f"(a)/(c) = {a_c:.3f}  (of the medians {rate[names[0]] / rate[names[2]]:.3f})", a_c >= 0.97, ">= 0.97"),
            (f"TTFT(a) = {ta * 1000:.1f} ms vs limit {ttft_limit * 1000:.1f} ms", ta <= ttft_limit, "<= 1.05 x (c) + 20 ms"),
        ]
        ok &= report(checks, width=55, target_width=22) == 0
    backend.close()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
