"""The TUI costs the engine nothing: tokens/sec in the chat ÷ the same backend headless.

One local backend (the embedded SmolLM2, or --model PATH), loaded once, with the
default thread setting, greedy sampling and one prompt, answers in turn:

  headless  a `ChatSession.run_turn` on this thread, as `assistant ask` runs it;
  TUI       the real app (`run_test`, headless terminal 120 x 36), the prompt typed
            and sent, the answer streamed into the transcript; each screen update
            is encoded to escape sequences as for a real terminal (the headless
            driver skips that; bench/tui_terminal.py runs a real one);

with an empty transcript and with 200 earlier messages (the same 100 exchanges
in the session's history on both sides, so the model sees the same prompt, and
on screen in the TUI). Each round runs each case's two sides as A B B A and
takes the ratio of their sums: this machine's speed drifts by 10% and more
within a minute, far more than the difference measured, and within a round
both sides see the same drift. The target is the median of the rounds'
ratios; each side's rate is printed too (the median of its runs).

Rate = generated tokens after the first ÷ first-to-last token time, as measured
where the tokens arrive (the turn's own metrics): what a person sees stream.
The engine's own figure (llama.cpp's counters: tokens ÷ decode time) is printed
beside it, and so is the UI thread's CPU time while the answer streams. In one
more TUI run per round (200 messages), a key is pressed every 100 ms while the
answer streams; its latency is the time from the key event to the screen
refresh that shows it in the prompt.

Targets: TUI ÷ headless >= 0.95 in both cases (median of the rounds' ratios);
key latency p95 <= 50 ms.
Exits 1 when one is missed.

    python bench/tui_local.py [--runs 5] [--max-tokens 400] [--model PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass

from textual import events

from assistant.backends.llama.backend import LlamaCppBackend
from assistant.core import plugins
from assistant.core.session.chat import ChatSession
from assistant.core.config import Config
from assistant.core.conversation import Exchange, Message
from assistant.core.events import Timings
from assistant.ui.app import make_app
from assistant.ui.messages import TurnFinished
from assistant.ui.widgets.prompt import PromptInput
from assistant.ui.widgets.rendered import Entry
from assistant.ui.widgets.transcript import Transcript

PROMPT = "Write a long essay about the history of rivers and the cities built on them."
TARGET_RATIO = 0.95
TARGET_KEY_S = 0.050
SIZE = (120, 36)


@dataclass(frozen=True)
class Run:
    rate: float  # tokens/sec where the tokens arrive
    engine: float | None  # llama.cpp's own tokens ÷ decode time
    tokens: int
    keys: tuple[float, ...] = ()  # key-press latencies, seconds
    ui_cpu: float | None = None  # the UI thread's CPU time ÷ wall time while the answer streamed


class EngineTimings:
    """Keeps the last `Timings` event the backend sent (llama.cpp's counters)."""

    def __init__(self, backend: LlamaCppBackend) -> None:
        self.last: Timings | None = None
        stream = backend.stream

        def recording(messages, cancel):  # noqa: ANN001, ANN202
            for event in stream(messages, cancel):
                if isinstance(event, Timings):
                    self.last = event
                yield event

        backend.stream = recording  # type: ignore[method-assign]

    def rate(self) -> float | None:
        t = self.last
        return t.generated_tokens / t.generation_seconds if t and t.generation_seconds > 0 else None


def history(messages: int) -> list[Exchange]:
    """`messages` / 2 exchanges of chat-like Markdown, each a few dozen tokens."""
    answer = (
        "Here is how it works:\n\n1. Read the file.\n2. Change the calls.\n\n"
        "```python\ndef area(w: float, h: float) -> float:\n    return w * h\n```\n"
    )
    return [
        Exchange(Message("user", f"Question {i}: how do I compute an area?"), Message("assistant", answer))
        for i in range(messages // 2)
    ]


def headless(config: Config, backend: LlamaCppBackend, timings: EngineTimings, earlier: list[Exchange]) -> Run:
    session = ChatSession(config, backend, ledger=None)
    session.exchanges.extend(earlier)
    result = session.run_turn(PROMPT, threading.Event())
    return Run(measured_rate(result, "headless"), timings.rate(), result.stats.tokens_out)


def measured_rate(result, side: str) -> float:  # noqa: ANN001 - a TurnResult
    """Tokens after the first ÷ first-to-last token, as the turn measured them where
    they arrived (the status bar shows the engine's own figure once a turn is over)."""
    s = result.stats
    if result.outcome != "ok" or not s.generation_seconds or s.tokens_out < 2:
        raise SystemExit(f"{side} turn failed: {result.outcome} {result.error}")
    return (s.tokens_out - 1) / s.generation_seconds


async def press_and_time(app, prompt: PromptInput) -> float:
    """Send one key as a terminal would; seconds until a refresh shows it."""
    before = len(prompt.text)
    shown = asyncio.get_running_loop().create_future()
    start = time.perf_counter()
    key = events.Key("x", "x")
    key.set_sender(app)
    app._driver.send_message(key)
    while len(prompt.text) == before:
        await asyncio.sleep(0.0005)
    app.call_after_refresh(lambda: shown.done() or shown.set_result(time.perf_counter()))
    return await shown - start


def encode_updates(app) -> None:  # noqa: ANN001 - an App
    """Turn each screen update into the escape sequences a terminal would be sent, as
    the real driver does on the UI thread; the headless driver skips it (and they go
    nowhere here)."""
    from textual._compositor import CompositorUpdate

    display = app._display

    def encoding(screen, renderable):  # noqa: ANN001, ANN202
        if isinstance(renderable, CompositorUpdate):
            renderable.render_segments(app.console)
        return display(screen, renderable)

    app._display = encoding


async def tui(
    config: Config, backend: LlamaCppBackend, timings: EngineTimings, earlier: list[Exchange], *, typing: bool = False
) -> Run:
    finished: list = []
    app = make_app(config, backend=backend, ledger=False)
    encode_updates(app)
    async with app.run_test(size=SIZE, message_hook=lambda m: finished.append(m) if isinstance(m, TurnFinished) else None) as pilot:
        while not backend.loaded:
            await asyncio.sleep(0.01)
        if earlier:
            app.session.exchanges.extend(earlier)
            transcript = app.query_one(Transcript)
            for exchange in earlier:
                transcript.history.add(Entry("user", exchange.user.content))
                transcript.history.add(Entry("answer", exchange.answer.content, "local", ""))
            await pilot.pause()
        prompt = app.query_one(PromptInput)
        prompt.text = PROMPT
        cpu0, wall0 = time.thread_time(), time.perf_counter()  # this coroutine runs on the UI thread
        await pilot.press("enter")
        keys: list[float] = []
        while not finished:
            await asyncio.sleep(0.1)
            if typing and app.busy and not finished:
                keys.append(await press_and_time(app, prompt))
        ui_cpu = (time.thread_time() - cpu0) / (time.perf_counter() - wall0)
        result = finished[0].result
        await pilot.pause()
    return Run(measured_rate(result, "TUI"), timings.rate(), result.stats.tokens_out, tuple(keys), ui_cpu)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--max-tokens", type=int, default=400)
    parser.add_argument("--model", default=None, help="a GGUF file (default: the embedded SmolLM2)")
    parser.add_argument("--n-threads", type=int, default=0, help="0: the app's default")
    args = parser.parse_args()
    os.environ["ASSISTANT_HOME"] = tempfile.mkdtemp(prefix="tui-local-")
    local = {"max_tokens": args.max_tokens, "temperature": 0.0, "n_threads": args.n_threads,
             **({"model_path": args.model} if args.model else {})}  # fmt: skip
    config = Config().with_overrides({f"backends.local.{key}": value for key, value in local.items()})
    backend = plugins.create_backend(config, "local")
    backend.load()
    timings = EngineTimings(backend)
    print(f"model {backend.model_name} · n_threads {backend.n_threads} · max_tokens {args.max_tokens} · {os.cpu_count()} CPUs")
    cases = {"empty": [], "200 messages": history(200)}
    runs: dict[tuple[str, str], list[Run]] = {}
    headless(config, backend, timings, [])  # warm-up: first evaluation, page cache
    for i in range(args.runs):
        for case, earlier in cases.items():
            # A B B A: a drift of the machine's speed within the round weighs on both sides alike.
            order = ("headless", "tui", "tui", "headless") if i % 2 == 0 else ("tui", "headless", "headless", "tui")
            for side in order:
                run = headless(config, backend, timings, earlier) if side == "headless" else asyncio.run(
                    tui(config, backend, timings, earlier))
                runs.setdefault((case, side), []).append(run)
                ui = f" · UI thread {run.ui_cpu:.0%} of a core" if run.ui_cpu is not None else ""
                print(f"  run {i + 1} {case:12} {side:8} {run.rate:6.1f} tok/s (engine {run.engine or 0:6.1f}) "
                      f"{run.tokens} tokens{ui}", flush=True)
        # Typing while it streams: a key every 100 ms, its latency to the screen.
        run = asyncio.run(tui(config, backend, timings, cases["200 messages"], typing=True))
        runs.setdefault(("200 messages", "typing"), []).append(run)
        print(f"  run {i + 1} typing       tui      {run.rate:6.1f} tok/s (engine {run.engine or 0:6.1f}) "
              f"{len(run.keys)} keys, max {max(run.keys, default=0) * 1e3:.1f} ms", flush=True)
    ok = True
    print()
    for case in cases:
        h = statistics.median(r.rate for r in runs[(case, "headless")])
        t = statistics.median(r.rate for r in runs[(case, "tui")])
        he = statistics.median(r.engine or 0 for r in runs[(case, "headless")])
        te = statistics.median(r.engine or 0 for r in runs[(case, "tui")])
        tuis, heads = runs[(case, "tui")], runs[(case, "headless")]
        pairs = [(tuis[k].rate + tuis[k + 1].rate) / (heads[k].rate + heads[k + 1].rate) for k in range(0, len(tuis), 2)]
        ratio = statistics.median(pairs)
        passed = ratio >= TARGET_RATIO
        ok &= passed
        print(f"{case:12}  headless {h:6.1f} tok/s (engine {he:6.1f})  TUI {t:6.1f} tok/s (engine {te:6.1f})  "
              f"TUI/headless {ratio:.3f} (rounds {min(pairs):.3f}-{max(pairs):.3f})  target >= {TARGET_RATIO}  "
              f"{'ok' if passed else 'MISSED'}")
    typing = statistics.median(r.rate for r in runs[("200 messages", "typing")])
    print(f"typing while it streams (200 messages): TUI {typing:6.1f} tok/s (not a target: the headless side types nothing)")
    keys = sorted(k for (case, side), rs in runs.items() if side == "typing" for r in rs for k in r.keys)
    if keys:
        p95 = keys[min(len(keys) - 1, int(0.95 * len(keys)))]
        passed = p95 <= TARGET_KEY_S
        ok &= passed
        print(f"key press while streaming: median {statistics.median(keys) * 1e3:.1f} ms, p95 {p95 * 1e3:.1f} ms, "
              f"max {keys[-1] * 1e3:.1f} ms over {len(keys)} presses  target p95 <= {TARGET_KEY_S * 1e3:.0f} ms  "
              f"{'ok' if passed else 'MISSED'}")
    else:
        print("key press while streaming: no press landed during a stream  MISSED")
        ok = False
    backend.close()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
