"""The TUI in a real terminal against `assistant ask`: tokens/sec as a person sees them.

bench/tui_local.py measures the app in Textual's headless driver, which writes
nothing to a terminal; here the installed `assistant` command runs in tmux
(120 x 36), as a person starts it: the prompt typed, Enter, the answer
streamed to a real terminal. Each round runs the two sides as A B B A with
the same prompt, --max-tokens and greedy sampling, each in a fresh process:

  TUI  the status bar's `gen` figure once the turn is over;
  ask  the summary line `assistant ask` prints.

Both are the engine's own counters (tokens ÷ decode time, llama.cpp's
Timings), the figure the product shows. The embedded model unless --model.

Target: TUI ÷ ask >= 0.95 (the median of the rounds' ratios of sums).
Exits 1 when missed, 2 when tmux or the command is missing.

    python bench/tui_terminal.py [--runs 3] [--max-tokens 480] [--model PATH] [--set SECTION.KEY=VALUE]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROMPT = "Write a long essay about the history of rivers and the cities built on them."
TARGET = 0.95
SIZE = ("120", "36")
SESSION = "assistant-bench"
GEN = re.compile(r"\bgen ([0-9.]+) tok/s")
ASK = re.compile(r"· ([0-9.]+) tok/s")
FOOTER = re.compile(r"took [0-9.]+ s")


def tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], check=True, capture_output=True, text=True).stdout


def screen() -> str:
    return tmux("capture-pane", "-t", SESSION, "-p")


def wait_for(predicate, timeout: float, what: str) -> str:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        shown = screen()
        if predicate(shown):
            return shown
        time.sleep(0.25)
    raise SystemExit(f"the TUI did not show {what} within {timeout:.0f} s:\n{screen()}")


def tui_run(command: list[str]) -> float:
    subprocess.run(["tmux", "kill-session", "-t", SESSION], capture_output=True)
    line = " ".join(f"'{part}'" for part in command) + "; sleep 600"
    tmux("new-session", "-d", "-s", SESSION, "-x", SIZE[0], "-y", SIZE[1], line)
    try:
        wait_for(lambda s: " · ready" in s, 120, "the model ready")
        tmux("send-keys", "-t", SESSION, "-l", PROMPT)
        tmux("send-keys", "-t", SESSION, "Enter")
        # A finished turn's footer says how long it took; the bar is ready again.
        shown = wait_for(lambda s: FOOTER.search(s) and " · ready" in s and GEN.search(s), 300, "the turn finished")
        return float(GEN.findall(shown)[-1])
    finally:
        subprocess.run(["tmux", "kill-session", "-t", SESSION], capture_output=True)


def ask_run(command: list[str]) -> float:
    done = subprocess.run([*command, "ask", PROMPT], capture_output=True, text=True, timeout=300)
    found = ASK.findall(done.stderr)
    if done.returncode != 0 or not found:
        raise SystemExit(f"`assistant ask` failed (exit {done.returncode}): {done.stderr.strip()[-500:]}")
    return float(found[0])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="rounds (each runs both sides twice)")
    parser.add_argument("--max-tokens", type=int, default=480)
    parser.add_argument("--model", default=None, help="a GGUF file (default: the embedded SmolLM2)")
    parser.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                        help="a setting for both sides (to measure one, e.g. ui.answer_refresh_hz=5)")
    args = parser.parse_args()
    exe = shutil.which("assistant", path=str(Path(sys.executable).parent)) or shutil.which("assistant")
    if shutil.which("tmux") is None or exe is None:
        print("needs tmux and the `assistant` command on PATH", file=sys.stderr)
        return 2
    os.environ["ASSISTANT_HOME"] = tempfile.mkdtemp(prefix="tui-terminal-")
    options = ["--max-tokens", str(args.max_tokens), "--temperature", "0"]
    if args.model:
        options += ["--model", args.model]
    for setting in args.set:
        options += ["--set", setting]
    command = [exe, *options]
    print(f"{exe} {' '.join(options)} · tmux {SIZE[0]} x {SIZE[1]} · {os.cpu_count()} CPUs")
    ask_run(command)  # warm-up: page cache, first load
    runs: dict[str, list[float]] = {"tui": [], "ask": []}
    rounds: list[float] = []
    for i in range(args.runs):
        order = ("ask", "tui", "tui", "ask") if i % 2 == 0 else ("tui", "ask", "ask", "tui")
        got: dict[str, list[float]] = {"tui": [], "ask": []}
        for side in order:
            rate = tui_run(command) if side == "tui" else ask_run(command)
            got[side].append(rate)
            print(f"  round {i + 1} {side:4} {rate:6.1f} tok/s", flush=True)
        rounds.append(sum(got["tui"]) / sum(got["ask"]))
        for side in runs:
            runs[side] += got[side]
    ratio = statistics.median(rounds)
    passed = ratio >= TARGET
    print(f"\nask {statistics.median(runs['ask']):6.1f} tok/s  TUI {statistics.median(runs['tui']):6.1f} tok/s  "
          f"TUI/ask {ratio:.3f} (rounds {min(rounds):.3f}-{max(rounds):.3f})  target >= {TARGET}  "
          f"{'ok' if passed else 'MISSED'}")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
