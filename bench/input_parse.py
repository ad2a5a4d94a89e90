"""Typed input is never slower than the model: what reading a 1 MB prompt costs.

Two figures per shape of prompt (one long word, a flood of `~`, `@` prefixes,
`../`, thousands of distinct file names, plain prose):
- parse: `parse_turn` + `mentioned_files` in a real project folder (the files a
  message names are looked up on disk);
- to backend: `ChatSession.run_turn` from the call until the backend is asked to
  stream (prefixes, mentions, routing, the window's fit and assembly), with a
  scripted backend whose window holds the whole prompt and whose token count is
  O(1), so the time is the app's own (a model's tokenizer is the model's time,
  not the input's: SmolLM2's takes ~1 s per MB, linearly).

Each is the median of --runs, interleaved; the half-size prompt is timed too,
and the ratio 1 MB ÷ 512 KB shows the growth is linear (2.0; quadratic is 4.0).
Target: parse < 100 ms and to-backend < 100 ms for every shape, and every
growth ratio ≤ 3. Exits 1 when one is missed.

    python bench/input_parse.py [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from assistant.backends.scripted import ScriptedBackend
from assistant.core.backends.protocol import TokenCount
from assistant.core.session.chat import ChatSession
from assistant.core.config import Config
from assistant.core.session.user_input import mentioned_files, parse_turn

TARGET_S = 0.100
GROWTH_LIMIT = 3.0
MEGABYTE = 1_000_000

SHAPES: dict[str, Callable[[int], str]] = {
    "one word": lambda n: "a" * n,
    "tildes": lambda n: "it costs ~5/month " + "~" * n,
    "prefixes": lambda n: "@scripted " * (n // 10) + "hi",
    "dot-dot": lambda n: "../" * (n // 3),
    "file names": lambda n: " ".join(f"src/f{i}.py" for i in range(n // 12)),
    "prose": lambda n: ("Please refactor target.py so that it reads well; it costs ~5/month. " * (n // 70)),
    "brackets": lambda n: "[/oops] app/[id]/page.tsx " * (n // 26),
}


class _Timed(ScriptedBackend):
    """Notes when the turn reaches the backend: everything before is input handling.
    It counts tokens in O(1) (a character estimate): a tokenizer's time is the
    model's, and the scripted one's regex split would be most of the figure."""

    reached: float | None = None

    def count_tokens(self, messages):  # noqa: ANN001, ANN201
        return TokenCount(sum(len(m.content) // 4 + 4 for m in messages))

    def stream(self, messages, cancel):  # noqa: ANN001, ANN201
        self.reached = time.perf_counter()
        yield from super().stream(messages, cancel)


def parse_seconds(text: str, root: Path) -> float:
    start = time.perf_counter()
    mentioned_files(parse_turn(text, ("scripted", "local", "claude")).text, root, cwd=root)
    return time.perf_counter() - start


def to_backend_seconds(text: str, root: Path) -> float:
    config = Config()  # the backend's window is its whole context
    backend = _Timed(["ok"], context_size=10 * MEGABYTE)
    backend.load()
    session = ChatSession(config, backend, project_root=root, ledger=None)
    session.run_turn("warm up", threading.Event())
    start = time.perf_counter()
    result = session.run_turn(text, threading.Event())
    if result.outcome != "ok" or backend.reached is None:
        raise SystemExit(f"the turn did not reach the backend: {result.outcome} {result.error}")
    return backend.reached - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["ASSISTANT_HOME"] = os.path.join(tmp, "home")
        root = Path(tmp) / "project"
        (root / "src").mkdir(parents=True)
        (root / ".git").mkdir()
        (root / "target.py").write_text("x = 1\n")
        for i in range(0, 50):
            (root / "src" / f"f{i}.py").write_text("x\n")
        times: dict[tuple[str, str, int], list[float]] = {}
        for _ in range(args.runs):  # interleaved: each run measures every shape and size once
            for name, make in SHAPES.items():
                for size in (MEGABYTE // 2, MEGABYTE):
                    text = make(size)
                    times.setdefault((name, "parse", size), []).append(parse_seconds(text, root))
                    times.setdefault((name, "to backend", size), []).append(to_backend_seconds(text, root))
    missed = []
    print(f"{'prompt (1 MB)':<12} {'figure':<11} {'512 KB':>9} {'1 MB':>9} {'growth':>7}  target")
    for name in SHAPES:
        for figure in ("parse", "to backend"):
            half = statistics.median(times[(name, figure, MEGABYTE // 2)])
            full = statistics.median(times[(name, figure, MEGABYTE)])
            growth = full / half if half > 0 else float("inf")
            ok = full < TARGET_S and growth <= GROWTH_LIMIT
            if not ok:
                missed.append(f"{name} {figure}")
            print(
                f"{name:<12} {figure:<11} {half * 1e3:7.1f} ms {full * 1e3:7.1f} ms {growth:6.2f}x"
                f"  < {TARGET_S * 1e3:.0f} ms, ≤ {GROWTH_LIMIT:.0f}x: {'ok' if ok else 'MISSED'}"
            )
    if missed:
        print(f"missed: {', '.join(missed)}")
        return 1
    print("all within target")
    return 0


if __name__ == "__main__":
    sys.exit(main())
