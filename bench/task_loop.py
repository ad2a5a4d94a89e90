"""What the task loop itself costs a step, and whether a task's tokens/sec is the engine's.

1. Overhead: a task of --steps model steps, each calling `read` on a small file,
   run through `ChatSession.act` as the app runs it (routing, the window, the
   repair layer, the permission rules, the ledger: every step and tool step written
   to a real SQLite file). The backend answers at once (a scripted one that calls
   tools natively), so what is left of the task's wall time after its model time
   and its tool time is the loop's own: per step, median over --runs tasks.
   Target: under 5 ms a step.
2. Rate (--local, the real SmolLM2 through llama.cpp, its tool calls constrained
   by a grammar): the tokens/sec a task shows (`TaskResult.tokens_per_second`,
   what the footer says) against the engine's own figure over the same steps
   (llama.cpp's timings: generated tokens over generation seconds, summed).
   Target: within 3%.
3. Stop: a task running `sleep 300` (and a child of it) through `run`, stopped as Esc
   stops it (its cancel event set): seconds from the stop to the task's end, and
   whether any process of it is left. Target: within 2 s, none left.

Prints each figure, the target and the ratio; exits 1 when a target is missed.

    python bench/task_loop.py [--steps 40] [--runs 7] [--local]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from assistant.backends.scripted import ScriptedBackend
from assistant.core.config import Config
from assistant.core.events import Timings
from assistant.core.session.chat import ChatSession
from assistant.core.store.ledger import Ledger
from assistant.core.tool_calls import ToolCall, call_arguments

OVERHEAD_TARGET_MS = 5.0
RATE_TOLERANCE = 0.03
STOP_TARGET_S = 2.0


def project() -> Path:
    root = Path(tempfile.mkdtemp(prefix="bench-task-"))
    (root / "a.py").write_text("".join(f"def f{i}():\n    return {i}\n\n" for i in range(40)))
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    subprocess.run(["git", "add", "."], cwd=root, check=True)
    return root


def overhead_per_step(root: Path, steps: int) -> float:
    """Seconds of one task's wall time that were neither model nor tool, per step."""
    calls = [ToolCall(f"c{i}", "read", call_arguments({"path": "a.py", "start": 1 + i % 30, "end": 10 + i % 30}))
             for i in range(steps - 1)]  # fmt: skip
    backend = ScriptedBackend([*calls, "Read it all."], name="local", tool_calls=True, context_size=200_000)
    config = Config().with_overrides({"general.backend": "local", "tools.max_steps": steps + 1})
    session = ChatSession(config, backend, ledger=Ledger.open, project_root=root)
    backend.load()
    started = time.perf_counter()
    result = session.act("read a.py in pieces", threading.Event(), mode="auto")
    wall = time.perf_counter() - started
    session.close()
    assert result.end == "answered" and result.steps == steps, (result.end, result.reason, result.steps)
    return (wall - result.model_seconds - result.tool_seconds) / result.steps


def _sleepers(marker: bytes) -> list[int]:
    found = []
    for pid in os.listdir("/proc"):
        try:
            if pid.isdigit() and marker in Path(f"/proc/{pid}/cmdline").read_bytes():
                found.append(int(pid))
        except OSError:
            pass
    return found


def stop_seconds(root: Path) -> tuple[float, int]:
    """(seconds from the stop to the task's end, processes of the command left after it)."""
    command = "sleep 300 & sleep 300; echo never"
    backend = ScriptedBackend([ToolCall("c0", "run", call_arguments({"command": command})), "never"], name="local",
                              tool_calls=True)  # fmt: skip
    session = ChatSession(Config().with_overrides({"general.backend": "local"}), backend, ledger=Ledger.open,
                          project_root=root)  # fmt: skip
    backend.load()
    cancel, stopped_at = threading.Event(), [0.0]

    def on_event(event: object) -> None:
        if type(event).__name__ == "ToolStarted":
            def stop() -> None:
                stopped_at[0] = time.perf_counter()
                cancel.set()
            threading.Timer(0.5, stop).start()

    session.act("wait", cancel, on_event, mode="auto")
    took = time.perf_counter() - stopped_at[0]
    session.close()
    return took, len(_sleepers(b"sleep\x00300"))


def local_rates() -> tuple[float, float]:
    """(the task's tokens/sec, the engine's own over the same steps) on the real model."""
    from assistant.core import plugins

    config = Config().with_overrides({"general.backend": "local", "backends.local.max_tokens": 96,
                                      "backends.local.temperature": 0.0, "tools.max_steps": 4})  # fmt: skip
    backend = plugins.create_backend(config)
    backend.load()
    session = ChatSession(config, backend, ledger=Ledger.open, project_root=project())
    timings: list[Timings] = []
    result = session.act("List the files of this project, then read a.py and say what f3 returns.",
                         threading.Event(), lambda e: isinstance(e, Timings) and timings.append(e), mode="auto")  # fmt: skip
    session.close()
    engine = sum(t.generated_tokens for t in timings) / sum(t.generation_seconds for t in timings)
    assert result.tokens_per_second is not None
    return result.tokens_per_second, engine


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--local", action="store_true", help="also the rate on the real local model")
    args = parser.parse_args()
    os.environ.setdefault("ASSISTANT_HOME", tempfile.mkdtemp(prefix="bench-task-home-"))
    os.environ.pop("ANTHROPIC_API_KEY", None)
    root = project()
    overhead_per_step(root, 3)  # warm: imports, the ledger's file and schema
    samples = [overhead_per_step(root, args.steps) * 1000 for _ in range(args.runs)]
    median = statistics.median(samples)
    ok = median < OVERHEAD_TARGET_MS
    print(f"loop overhead per step: median {median:.2f} ms over {args.runs} tasks of {args.steps} steps "
          f"(min {min(samples):.2f}, max {max(samples):.2f}); target < {OVERHEAD_TARGET_MS} ms; "
          f"ratio {median / OVERHEAD_TARGET_MS:.2f} {'ok' if ok else 'MISSED'}")  # fmt: skip
    stops = [stop_seconds(root) for _ in range(3)]
    stop = statistics.median(t for t, _ in stops)
    left = max(n for _, n in stops)
    stopped = stop <= STOP_TARGET_S and left == 0
    print(f"stop during run: median {stop:.2f} s from the stop to the task's end over {len(stops)} tasks, "
          f"{left} processes left; target <= {STOP_TARGET_S} s and none; ratio {stop / STOP_TARGET_S:.2f} "
          f"{'ok' if stopped else 'MISSED'}")  # fmt: skip
    ok = ok and stopped
    if args.local:
        shown, engine = local_rates()
        off = abs(shown - engine) / engine
        good = off <= RATE_TOLERANCE
        print(f"task tokens/sec: shown {shown:.1f}, engine {engine:.1f}; ratio {shown / engine:.3f} "
              f"(target within {RATE_TOLERANCE:.0%}) {'ok' if good else 'MISSED'}")  # fmt: skip
        ok = ok and good
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
