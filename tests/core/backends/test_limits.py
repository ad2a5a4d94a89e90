"""Per-backend limits of a batch: how many turns at once, and how fast they start."""

from __future__ import annotations

import threading
import time
from dataclasses import replace

from assistant.core.config import Config
from assistant.core.backends.limits import BackendLimits


def test_local_turns_queue_and_claude_and_server_turns_overlap_up_to_their_limits() -> None:
    config = Config().with_overrides({"servers.gpu.base_url": "http://gpu:8080/v1"})
    config = replace(config, edits=replace(config.edits, claude_concurrency=3, claude_requests_per_second=1000))
    limits = BackendLimits(config, {"local"}, slots=lambda name: {"gpu": 2}[name])  # the server's own slots
    peak = {"local": 0, "claude": 0, "gpu": 0}
    now = {"local": 0, "claude": 0, "gpu": 0}
    lock = threading.Lock()

    def turn(name: str) -> None:
        with limits(name):
            with lock:
                now[name] += 1
                peak[name] = max(peak[name], now[name])
            time.sleep(0.03)
            with lock:
                now[name] -= 1

    threads = [threading.Thread(target=turn, args=(n,)) for n in ["local"] * 4 + ["claude"] * 8 + ["gpu"] * 6]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert peak == {"local": 1, "claude": 3, "gpu": 2}


def test_claude_starts_are_paced() -> None:
    config = Config()
    config = replace(config, edits=replace(config.edits, claude_concurrency=10, claude_requests_per_second=2.0))
    clock = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock[0] += seconds

    limits = BackendLimits(config, set(), clock=lambda: clock[0], sleep=sleep)
    for _ in range(3):
        with limits("claude"):
            pass
    assert slept == [0.5, 0.5]  # 2 per second: the 2nd and 3rd wait half a second each
