"""Turns started all at once, the way a batch refactor starts them: one thread per turn
through `ChatSession.run_task`, admitted by the session's `BackendLimits`. Shared by
the benches that time a backend's aggregate speed (server_concurrency, local_parallel).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

from assistant.core.conversation import Message
from assistant.core.results import TurnResult
from assistant.core.session.chat import ChatSession


def at_once(session: ChatSession, prompts: Sequence[list[Message]], backend: str) -> tuple[float, list[TurnResult]]:
    """(wall seconds, results) of one batch turn per prompt on `backend`, all started
    together; exits with the first failure's reason."""
    results: list[TurnResult] = []
    lock = threading.Lock()

    def one(prompt: list[Message]) -> None:
        result = session.run_task(prompt, threading.Event(), kind="batch", forced=backend)
        with lock:
            results.append(result)

    threads = [threading.Thread(target=one, args=(p,)) for p in prompts]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    failed = [r for r in results if r.outcome != "ok"]
    if failed:
        raise SystemExit(f"a turn failed: {failed[0].error.message if failed[0].error else failed[0].outcome}")
    return wall, results
