"""The in-process model at 1, 4 and 8 sequences against llama.cpp's own batched speed
(issue 30's instrument: run it before and after each step of that work).

The app side is the local backend (`LlamaCppBackend`, the embedded SmolLM2 or --model)
driven the way a batch refactor drives it: N turns of --tokens tokens started at once
through `ChatSession.run_task` on a batch session, admitted by the same `BackendLimits`
(so as many run together as the backend's `max_concurrency` says). Its aggregate is
all tokens generated ÷ the batch's wall time, prompts included. The single stream's
rate is the app's wall-clock generation rate (tokens after the first ÷ first to last).

The engine side is `llama-batched-bench`, built from the same llama.cpp source and
flags (.ci/build-llama-tools), with the same model, threads, context, prompt and
generation lengths, and flash attention on or off as the app has it (`-fa`; llama.cpp's
own default is auto, which is on for a CPU): its aggregate is B × TG ÷ T (prompt
included), and its single stream S_TG at batch 1. The two sides take turns, round
after round; medians.

Targets (issue 30): app at 1 ÷ engine at 1 >= 0.98 (single stream, generation);
(app at N ÷ app at 1) >= 0.9 × (engine at N ÷ engine at 1) for each N. Exits 1 when
one is missed.

    python bench/local_parallel.py [--rounds 5] [--tokens 128] [--prompt 64] [--parallel 4 8] [--flash-attn]
        [--model PATH.gguf]
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.backends.llama.backend import LlamaCppBackend, embedded_model_path  # noqa: E402
from assistant.backends.llama.options import LlamaOptions  # noqa: E402
from assistant.core.config import Config  # noqa: E402
from assistant.core.conversation import Message  # noqa: E402
from assistant.core.events import TextDelta  # noqa: E402
from assistant.core.session.chat import ChatSession  # noqa: E402
from batch_turns import at_once  # noqa: E402
from targets import report  # noqa: E402
from tests.backends.server.conftest import tools_folder  # noqa: E402

CONTEXT = 4096
THREADS = 2
SINGLE_TARGET = 0.98
SCALING_TARGET = 0.9
# Greedy, no penalties: the engine's bench samples greedily too.
SAMPLING = dict(temperature=0.0, repeat_penalty=1.0, top_k=40, top_p=0.95, min_p=0.05)


def question(i: int, prompt_tokens: int) -> list[Message]:
    """A user message of about `prompt_tokens` words that asks for a long answer (its
    tokens, counted by the model, are the engine's prompt length)."""
    filler = " ".join(["the history of computing"] * max(1, prompt_tokens // 5))
    return [Message("user", f"Essay {i}: write a very long, detailed essay about {filler}.")]


def app_single(backend: LlamaCppBackend, prompt_tokens: int, wanted: int) -> float:
    """The app's wall-clock generation rate of one stream of exactly `wanted` tokens."""
    first = last = 0.0
    tokens = 0
    for event in backend.stream(question(0, prompt_tokens), threading.Event()):
        if isinstance(event, TextDelta) and event.tokens:
            last = time.perf_counter()
            first = first or last
            tokens += event.tokens
    if tokens != wanted:  # an answer that ended early is not the length the engine was timed at
        raise SystemExit(f"the app's stream ended after {tokens} tokens, not {wanted}: pick a longer --tokens prompt")
    return (tokens - 1) / (last - first)


def app_batch(session: ChatSession, n: int, prompt_tokens: int) -> tuple[float, int]:
    """(aggregate tok/s, tokens) of `n` turns started at once, every prompt evaluated (as
    the engine's are: nothing is reused from the KV cache of a run before)."""
    session.backend_named("local").forget_cache()  # type: ignore[attr-defined]
    wall, results = at_once(session, [question(i, prompt_tokens) for i in range(n)], "local")
    tokens = sum(r.stats.tokens_out for r in results)
    return tokens / wall, tokens


def engine(binary: Path, model: Path, prompt: int, tokens: int, parallel: list[int],
           flash_attn: bool) -> dict[int, tuple[float, float]]:  # fmt: skip
    """llama-batched-bench per batch size: (aggregate B × TG ÷ T, S_TG)."""
    out = subprocess.run(
        [str(binary), "-m", str(model), "-c", str(CONTEXT), "-b", "2048", "-ub", "512", "-t", str(THREADS),
         "-fa", "on" if flash_attn else "off",
         "-npp", str(prompt), "-ntg", str(tokens), "-npl", ",".join(map(str, [1, *parallel])),
         "--output-format", "jsonl"],  # fmt: skip
        capture_output=True, text=True, check=True, timeout=900,
    ).stdout
    rows = {}
    for line in out.splitlines():
        if line.startswith("{"):
            row = json.loads(line)
            rows[int(row["pl"])] = (row["pl"] * row["tg"] / row["t"], float(row["speed_tg"]))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--tokens", type=int, default=128)
    parser.add_argument("--prompt", type=int, default=64)
    parser.add_argument("--parallel", type=int, nargs="+", default=[4, 8])
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--flash-attn", action="store_true", help="both sides with flash attention")
    args = parser.parse_args()
    folder = tools_folder()
    if folder is None or not (folder / "llama-batched-bench").is_file():
        print("llama-batched-bench is not built: run .ci/build-llama-tools first")
        return 2
    model = args.model or embedded_model_path()
    with tempfile.TemporaryDirectory(prefix="bench-local-parallel-") as home:
        os.environ["ASSISTANT_HOME"] = home
        local = replace(LlamaOptions(), n_ctx=CONTEXT, n_threads=THREADS, max_tokens=args.tokens,
                        flash_attn=args.flash_attn, parallel=max(args.parallel), **SAMPLING)  # fmt: skip
        backend = LlamaCppBackend(local, model_path=model)
        backend.load()
        config = Config().with_overrides({"general.backend": "local"})
        session = ChatSession(config, backend, ledger=None, batch=True)
        slots = backend.capabilities.max_concurrency
        app_batch(session, 1, args.prompt)  # warm-up
        # The engine evaluates prompts of exactly the length the app's are, template included.
        prompt = max(backend.count_tokens(question(i, args.prompt)).tokens for i in range(max(args.parallel)))
        singles: list[tuple[float, float]] = []  # (app, engine) of each round
        scaling: dict[int, list[tuple[float, float]]] = {n: [] for n in args.parallel}  # (app ratio, engine ratio)
        for round_ in range(args.rounds):
            bench = functools.partial(engine, folder / "llama-batched-bench", Path(model), prompt, args.tokens,
                                      flash_attn=args.flash_attn)  # fmt: skip
            measured = bench(args.parallel)
            one_rate, _ = app_batch(session, 1, args.prompt)
            # The single stream between two of the engine's own, which it is compared with: this
            # machine's speed drifts by more than the difference sought, from one minute to the next.
            before = bench([])[1][1]
            backend.forget_cache()
            single = app_single(backend, args.prompt, args.tokens)
            after = bench([])[1][1]
            singles.append((single, (before + after) / 2))
            for n in args.parallel:
                rate, _ = app_batch(session, n, args.prompt)
                scaling[n].append((rate / one_rate, measured[n][0] / measured[1][0]))
            print(f"round {round_ + 1}: app single {single:.1f} tok/s, engine S_TG {before:.1f} before, {after:.1f} after; "
                  + ", ".join(f"at {n}: app ×{scaling[n][-1][0]:.2f}, engine ×{scaling[n][-1][1]:.2f}"
                              for n in args.parallel))  # fmt: skip
        session.close()
    single_share = statistics.median(a / e for a, e in singles)
    print(f"{backend.model_name}: prompts of {prompt} tokens, {args.tokens} generated, {THREADS} threads, "
          f"flash attention {'on' if args.flash_attn else 'off'}; "
          f"the backend takes {slots} sequence(s) at once; medians of {args.rounds} interleaved rounds")
    checks = [(f"single stream: app ÷ engine S_TG = {single_share:.3f}", single_share >= SINGLE_TARGET,
               f">= {SINGLE_TARGET}")]  # fmt: skip
    for n in args.parallel:
        app_gain = statistics.median(a for a, _ in scaling[n])
        engine_gain = statistics.median(e for _, e in scaling[n])
        checks.append((f"at {n}: app ×{app_gain:.2f} vs engine ×{engine_gain:.2f}",
                       app_gain >= SCALING_TARGET * engine_gain, f">= {SCALING_TARGET} × engine"))  # fmt: skip
    return report(checks, width=50, target_width=18)


if __name__ == "__main__":
    sys.exit(main())
