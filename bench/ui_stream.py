"""How fast the real TUI absorbs a streamed answer, and how late the last token shows.

A scripted backend emits 20,000 tokens of chat-like Markdown (prose, lists, code
blocks) as fast as it can through the real app (headless `run_test`):

  1. with an empty transcript;
  2. with 200 earlier messages in the transcript (100 real turns before it).

Absorbed rate = tokens / (answer fully on screen - first token emitted).
Last-token delay = answer fully on screen - last token emitted, where "on
screen" is the first screen refresh after the last text was appended to the
answer's widget with nothing left waiting (`App.call_after_refresh`).

Targets: >= 1,000 tok/s on the empty transcript; with 200 earlier messages
>= 80% of that; last token on screen within 50 ms. Exits 1 when one is missed.

    python bench/ui_stream.py [--tokens 20000] [--history 200]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import threading
import time
from collections.abc import Iterator, Sequence

from assistant.backends.scripted import ScriptedBackend, split_tokens
from assistant.core.config import Config
from assistant.core.conversation import Message
from assistant.core.events import StreamEvent, TextDelta
from assistant.ui.app import make_app
from assistant.ui.widgets.transcript import Transcript
from targets import report

BLOCKS = [
    "Here is how the change works, step by step, and why each step matters for the code.\n\n",
    "1. Read the file and parse it.\n2. Find every call site.\n3. Rewrite the calls.\n\n",
    "```python\ndef area(width: float, height: float) -> float:\n    return width * height\n```\n\n",
    "- **Speed**: the loop runs once.\n- **Safety**: nothing is written until the end.\n\n",
    "Note that `area()` is pure, so it is easy to test with `pytest` and a few literals.\n\n",
]


def markdown_answer(tokens: int) -> str:
    parts: list[str] = []
    count = 0
    i = 0
    while count < tokens:
        block = BLOCKS[i % len(BLOCKS)]
        parts.append(block)
        count += len(split_tokens(block))
        i += 1
    return "".join(split_tokens("".join(parts))[:tokens])


class TimedBackend(ScriptedBackend):
    """Records when the first and the last token left the backend."""

    first_emit = last_emit = 0.0

    def stream(self, messages: Sequence[Message], cancel: threading.Event) -> Iterator[StreamEvent]:
        first = True
        for event in super().stream(messages, cancel):
            if isinstance(event, TextDelta):
                now = time.perf_counter()
                if first:
                    self.first_emit, first = now, False
                self.last_emit = now
            yield event


async def wait_until(pilot, predicate, poll: float = 0.001, timeout: float = 300.0) -> float:
    deadline = time.perf_counter() + timeout
    while not predicate():
        if time.perf_counter() > deadline:
            raise SystemExit("timed out")
        await asyncio.sleep(poll)
    return time.perf_counter()


async def measure(tokens: int, history: int) -> tuple[float, float]:
    big = markdown_answer(tokens)
    short = "Sure, here is a short answer with `code` and a list:\n\n- one\n- two\n"
    turns = history // 2
    backend = TimedBackend([short] * turns + [big])
    app = make_app(Config(), backend=backend)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: backend.loaded)
        for i in range(turns):
            await pilot.press(*f"q{i}", "enter")
            await wait_until(pilot, lambda: app.session.status().turns == i + 1 and not app.busy)
        await pilot.pause()
        refreshed: list[float] = []
        deltas = app.stream.deltas
        shown = deltas.shown

        def shown_then_watch(text: str) -> None:
            shown(text)
            if deltas.pending == 0 and sum(map(len, sent)) + len(text) >= len(big) and not refreshed:
                # everything is in the widget: time the next screen refresh
                app.call_after_refresh(lambda: refreshed.append(time.perf_counter()))
            sent.append(text)

        sent: list[str] = []
        deltas.shown = shown_then_watch  # type: ignore[method-assign]
        await pilot.press(*"go", "enter")
        await wait_until(pilot, lambda: bool(refreshed))
        history = app.query_one(Transcript).history
        await wait_until(pilot, lambda: len(history.entries) == 2 * (turns + 1))
        on_screen = refreshed[0]
        if history.entries[-1].text != big:
            raise SystemExit("the answer on screen is not the answer sent")
    rate = tokens / (on_screen - backend.first_emit)
    return rate, on_screen - backend.last_emit


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=20_000)
    parser.add_argument("--history", type=int, default=200)
    args = parser.parse_args()

    empty_rate, empty_delay = asyncio.run(measure(args.tokens, 0))
    long_rate, long_delay = asyncio.run(measure(args.tokens, args.history))
    ratio = long_rate / empty_rate
    print(f"{args.tokens:,} tokens of Markdown through the real app")
    print(f"  empty transcript        {empty_rate:10,.0f} tok/s absorbed   last token on screen after {empty_delay * 1000:6.1f} ms")
    print(f"  {args.history} earlier messages  {long_rate:10,.0f} tok/s absorbed   last token on screen after {long_delay * 1000:6.1f} ms")
    checks = [
        (f"empty: {empty_rate:,.0f} tok/s", empty_rate >= 1000, ">= 1,000 tok/s"),
        (f"{args.history} messages / empty = {ratio:.2f}", ratio >= 0.80, ">= 0.80"),
        (f"last token delay {max(empty_delay, long_delay) * 1000:.1f} ms", max(empty_delay, long_delay) <= 0.050, "<= 50 ms"),
    ]
    return report(checks)


if __name__ == "__main__":
    sys.exit(main())
