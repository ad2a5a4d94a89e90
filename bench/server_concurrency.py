"""The app's aggregate speed on a llama-server's slots, against the engine's own batched speed.

A real llama-server (built by .ci/build-llama-tools, `--parallel 4`) serves the
embedded SmolLM2 (or --model). The app runs --requests turns of --tokens tokens
the way a batch refactor does (`ChatSession.run_task` from one thread per turn,
admitted by the same `BackendLimits`), first one at a time, then --parallel at
once; its aggregate rate is all tokens generated ÷ the wall time of the batch.

`llama-batched-bench`, built from the same source, measures the engine alone on
the same model, prompt length and generation length at batch 1 and --parallel:
its aggregate is B × TG tokens ÷ the batch's whole time (prompt included, as
the app's is).

Target: (app at --parallel ÷ app at 1) >= 0.85 × (engine at --parallel ÷ engine at 1).
Exits 1 when it is missed.

    python bench/server_concurrency.py [--requests 8] [--tokens 256] [--parallel 4] [--model PATH.gguf]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.backends.llama.backend import embedded_model_path  # noqa: E402
from assistant.core.config import Config  # noqa: E402
from assistant.core.conversation import Message  # noqa: E402
from assistant.core.session.chat import ChatSession  # noqa: E402
from tests.backends.server.conftest import CONTEXT, LlamaServer, free_port, tools_folder  # noqa: E402
from batch_turns import at_once  # noqa: E402

TARGET = 0.85


def app_batch(config: Config, requests: int, slots: int) -> tuple[float, int, int]:
    """(aggregate tok/s, tokens generated, prompt tokens of one) of `requests` turns, `slots` admitted at a time."""
    session = ChatSession(config.with_overrides({"servers.bench.max_concurrency": slots}), ledger=None, batch=True)
    prompts = [[Message("user", f"Essay {i}: write a long, detailed essay about the history of computing.")]
               for i in range(requests)]  # fmt: skip
    wall, results = at_once(session, prompts, "bench")
    session.close()
    tokens = sum(r.stats.tokens_out for r in results)
    prompt = results[0].usage.prompt_tokens if results[0].usage else 32
    return tokens / wall, tokens, prompt


def engine_batched(binary: Path, model: Path, prompt: int, tokens: int, parallel: int) -> tuple[float, float]:
    """llama-batched-bench's aggregate (B × TG ÷ T) at batch 1 and `parallel`."""
    out = subprocess.run(
        [str(binary), "-m", str(model), "-c", str(CONTEXT), "-b", "2048", "-ub", "512", "-t", "2",
         "-npp", str(prompt), "-ntg", str(tokens), "-npl", f"1,{parallel}"],  # fmt: skip
        capture_output=True, text=True, check=True, timeout=600,
    ).stdout
    rows = {}
    for line in out.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 10 and re.fullmatch(r"\d+", cells[0]):
            batch, tg, total = int(cells[2]), int(cells[1]), float(cells[8])
            rows[batch] = batch * tg / total
    return rows[1], rows[parallel]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=8)
    parser.add_argument("--tokens", type=int, default=256)
    parser.add_argument("--parallel", type=int, default=4)
    parser.add_argument("--model", type=Path, default=None)
    args = parser.parse_args()
    folder = tools_folder()
    if folder is None or not (folder / "llama-server").is_file():
        print("llama-server is not built: run .ci/build-llama-tools first")
        return 2
    model = args.model or embedded_model_path()
    with tempfile.TemporaryDirectory(prefix="bench-server-concurrency-") as home:
        os.environ["ASSISTANT_HOME"] = home
        server = LlamaServer(folder / "llama-server", free_port(), "-m", str(model), "--ignore-eos",
                             "--parallel", str(args.parallel), "-c", str(CONTEXT), threads=2)  # fmt: skip
        try:
            server.wait_ready()
            config = Config().with_overrides({
                "servers.bench.base_url": server.base_url, "servers.bench.max_tokens": args.tokens,
                "servers.bench.temperature": 0.0, "general.backend": "bench",
            })  # fmt: skip
            app_batch(config, 2, 2)  # warm-up
            one_rate, tokens1, prompt = app_batch(config, args.requests, 1)
            many_rate, tokens_n, _ = app_batch(config, args.requests, args.parallel)
        finally:
            server.kill()
    engine_one, engine_many = engine_batched(folder / "llama-batched-bench", Path(model), prompt, args.tokens, args.parallel)
    app_ratio, engine_ratio = many_rate / one_rate, engine_many / engine_one
    share = app_ratio / engine_ratio
    print(f"{args.requests} turns of {args.tokens} tokens ({prompt}-token prompts), llama-server --parallel {args.parallel}")
    print(f"  app     at 1: {one_rate:7.1f} tok/s   at {args.parallel}: {many_rate:7.1f} tok/s   ratio {app_ratio:.2f}"
          f"   ({tokens1:,} and {tokens_n:,} tokens)")  # fmt: skip
    print(f"  engine  at 1: {engine_one:7.1f} tok/s   at {args.parallel}: {engine_many:7.1f} tok/s   ratio {engine_ratio:.2f}"
          "   (llama-batched-bench)")  # fmt: skip
    print(f"  app ratio / engine ratio = {share:.3f}   target >= {TARGET}   {'ok' if share >= TARGET else 'MISSED'}")
    return 0 if share >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
