"""Time from process start to the TUI's first frame, against a bare Textual app.

Both sides are started the same way, in the same run, alternating: a fresh
`python` process that builds the app (ours through the same path as the
`assistant` command: config, backend plugin lookup, `make_app`) and runs it
headless; the time is taken when Textual calls the app's auto-pilot, which it
does once the first screen is composed and refreshed. The clock is the wall
clock read in the parent before the process starts and in the child at that
moment. Our app is told not to preload the model, so what is measured is the
start-up a person waits for, not llama.cpp loading in the background. Both
sides run with their bytecode cached, as installed programs do.

Target: assistant / bare <= 1.5. Exits 1 when missed.

    python bench/startup.py [--runs 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

CHILD = {
    "bare": """
import sys, time
from textual.app import App
from textual.widgets import Static

class Bare(App):
    def compose(self):
        yield Static("hello")

async def first_frame(pilot):
    print(time.time(), flush=True)
    pilot.app.exit()

Bare().run(headless=True, auto_pilot=first_frame)
""",
    "assistant": """
import sys, time
from assistant.cli.parser import parse_command_line
from assistant.cli.context import start
from assistant.core.paths import Paths
from assistant.ui.app import make_app

config = start(Paths.resolve(), parse_command_line([]))  # as `assistant` does: config, log file

async def first_frame(pilot):
    print(time.time(), flush=True)
    pilot.app.exit()

make_app(config, preload=False).run(headless=True, auto_pilot=first_frame)
""",
}


def start_once(side: str, env: dict[str, str]) -> float:
    started = time.time()
    out = subprocess.run(
        [sys.executable, "-c", CHILD[side]], capture_output=True, text=True, env=env, timeout=120
    )
    if out.returncode != 0:
        raise SystemExit(f"{side} failed:\n{out.stderr}")
    return float(out.stdout.strip().splitlines()[-1]) - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        # As an installed app starts: with its bytecode cached. Textual's is, in
        # site-packages; ours would be compiled on every start where
        # PYTHONDONTWRITEBYTECODE is set (as in some sandboxes), which no person's
        # install does. The cache goes to a temporary folder; the warm-up fills it.
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env.update(ASSISTANT_HOME=home, PYTHONPYCACHEPREFIX=os.path.join(home, "pycache"))
        for side in CHILD:  # warm the OS file cache for both
            start_once(side, env)
        times: dict[str, list[float]] = {side: [] for side in CHILD}
        for _ in range(args.runs):
            for side in CHILD:
                times[side].append(start_once(side, env))
    bare = statistics.median(times["bare"])
    ours = statistics.median(times["assistant"])
    ratio = ours / bare
    print(f"time to first frame, median of {args.runs}")
    for side in CHILD:
        spread = ", ".join(f"{t * 1000:.0f}" for t in times[side])
        print(f"  {side:10} {statistics.median(times[side]) * 1000:7.0f} ms   runs [{spread}] ms")
    ok = ratio <= 1.5
    print(f"  assistant / bare = {ratio:.2f}   target <= 1.50   {'ok' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
