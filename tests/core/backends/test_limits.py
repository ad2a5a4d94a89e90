"""Per-backend limits of a batch: how many turns at once, and how fast they start,
each as the backend's capabilities say."""

from __future__ import annotations

import threading
import time

from assistant.core.backends.limits import BackendLimits
from assistant.core.backends.protocol import Capabilities

CAPABILITIES = {
    "local": Capabilities(context_size=4096, local=True, tokenizer="gguf"),  # one sequence at a time
    "claude": Capabilities(context_size=200_000, local=False, tokenizer="anthropic", max_concurrency=3,
                           requests_per_second=1000.0),
    "gpu": Capabilities(context_size=8192, local=False, tokenizer="server", max_concurrency=2),  # the server's slots
}  # fmt: skip


def test_local_turns_queue_and_remote_turns_overlap_up_to_their_limits() -> None:
    limits = BackendLimits(CAPABILITIES.__getitem__)
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


def test_starts_are_paced_where_a_backend_has_a_request_rate() -> None:
    clock = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock[0] += seconds

    paced = Capabilities(context_size=1000, local=False, tokenizer="anthropic", max_concurrency=10,
                         requests_per_second=2.0)  # fmt: skip
    limits = BackendLimits({"claude": paced, "gpu": CAPABILITIES["gpu"]}.__getitem__,
                           clock=lambda: clock[0], sleep=sleep)  # fmt: skip
    for _ in range(3):
        with limits("claude"):
            pass
        with limits("gpu"):  # no rate: never waits
            pass
    assert slept == [0.5, 0.5]  # 2 per second: the 2nd and 3rd wait half a second each
