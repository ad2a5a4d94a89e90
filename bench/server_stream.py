"""A stream from llama-server through the app, against what the server says of the same request.

A real llama-server (built by .ci/build-llama-tools) serves the embedded
SmolLM2 (or --model); the app asks it through `ChatSession.run_turn` with the
server configured as `[servers.bench]`, greedy, --tokens tokens. Per run, for
the same request:

  app:    tokens after the first ÷ time from the first to the last token, as the
          session's events arrive; and the time from the turn's start to its
          first token (TTFT)
  server: its own `timings`: predicted_n ÷ predicted_ms (`predicted_per_second`),
          and prompt_ms

Targets (medians of --runs, after a warm-up): app rate ÷ server rate >= 0.97;
app TTFT ÷ (server prompt_ms + 30 ms) <= 1. Exits 1 when one is missed.

    python bench/server_stream.py [--runs 5] [--tokens 256] [--model PATH.gguf]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.core.config import Config  # noqa: E402
from assistant.core.events import TextDelta, Timings  # noqa: E402
from assistant.core.session.chat import ChatSession  # noqa: E402
from tests.backends.server.conftest import LlamaServer, free_port, tools_folder  # noqa: E402

PROMPT = "Write a very long, detailed essay about the history of computing, with many sections."
TTFT_SLACK = 0.030


def one_run(session: ChatSession) -> tuple[float, float, float, float]:
    """(app rate, app TTFT, server rate, server prompt seconds) of one turn."""
    arrivals: list[float] = []
    engine: list[Timings] = []

    def on_event(event: object) -> None:
        if isinstance(event, TextDelta) and event.tokens:
            arrivals.append(time.perf_counter())
        elif isinstance(event, Timings):
            engine.append(event)

    session.clear()  # the same prompt each time, evaluated whole (a fresh conversation)
    started = time.perf_counter()
    result = session.run_turn(PROMPT, threading.Event(), on_event)  # type: ignore[arg-type]
    if result.outcome != "ok" or len(arrivals) < 2:
        raise SystemExit(f"the turn failed: {result.error.message if result.error else result.outcome}")
    timings = result.stats  # the session's own figures
    [t] = engine or [None]
    if t is None:
        raise SystemExit("the server sent no timings")
    app_rate = (len(arrivals) - 1) / (arrivals[-1] - arrivals[0])
    app_ttft = timings.ttft if timings.ttft is not None else arrivals[0] - started
    return app_rate, app_ttft, t.generated_tokens / t.generation_seconds, t.prompt_eval_seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--tokens", type=int, default=256)
    parser.add_argument("--model", type=Path, default=None, help="a GGUF file (default: the embedded SmolLM2)")
    args = parser.parse_args()
    folder = tools_folder()
    if folder is None or not (folder / "llama-server").is_file():
        print("llama-server is not built: run .ci/build-llama-tools first")
        return 2
    with tempfile.TemporaryDirectory(prefix="bench-server-stream-") as home:
        os.environ["ASSISTANT_HOME"] = home
        server = LlamaServer(folder / "llama-server", free_port(), *(["-m", str(args.model)] if args.model else []),
                             "--ignore-eos", threads=2)  # fmt: skip
        try:
            server.wait_ready()
            config = Config().with_overrides({
                "servers.bench.base_url": server.base_url, "servers.bench.max_tokens": args.tokens,
                "servers.bench.temperature": 0.0, "servers.bench.window_tokens": 512, "general.backend": "bench",
            })  # fmt: skip
            session = ChatSession(config, ledger=None)
            one_run(session)  # warm-up
            runs = [one_run(session) for _ in range(args.runs)]
            session.close()
        finally:
            server.kill()
    app_rate, app_ttft, server_rate, prompt_s = (statistics.median(col) for col in zip(*runs))
    rate_ratio = app_rate / server_rate
    ttft_ratio = app_ttft / (prompt_s + TTFT_SLACK)
    print(f"llama-server, {args.tokens} tokens, median of {args.runs} runs (after a warm-up)")
    print(f"  generation   app {app_rate:8.1f} tok/s   server {server_rate:8.1f} tok/s   app/server = {rate_ratio:.3f}"
          f"   target >= 0.97   {'ok' if rate_ratio >= 0.97 else 'MISSED'}")  # fmt: skip
    print(f"  first token  app {app_ttft * 1000:8.1f} ms      server prompt {prompt_s * 1000:6.1f} ms + 30 ms"
          f"   ratio = {ttft_ratio:.3f}   target <= 1   {'ok' if ttft_ratio <= 1 else 'MISSED'}")  # fmt: skip
    return 0 if rate_ratio >= 0.97 and ttft_ratio <= 1 else 1


if __name__ == "__main__":
    sys.exit(main())
