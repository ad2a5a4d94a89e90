"""The local model's engine thread: one thread runs every decode, whoever asks
(see assistant/backends/llama/engine_thread.py)."""

from __future__ import annotations

import threading

import pytest

from assistant.backends.llama.engine_thread import EngineThread


@pytest.fixture
def engine():
    e = EngineThread("test-engine")
    yield e
    e.close()


def test_call_runs_there_and_returns_or_raises(engine: EngineThread) -> None:
    assert engine.call(lambda: threading.current_thread().name) == "test-engine"
    with pytest.raises(ZeroDivisionError):
        engine.call(lambda: 1 / 0)
    assert engine.call(lambda: engine.call(lambda: 7)) == 7  # from the engine thread itself: inline


def test_posted_tasks_run_there_in_the_order_given_whoever_posts(engine: EngineThread) -> None:
    ran: list[tuple[int, str]] = []
    order: list[int] = []
    posted = threading.Lock()

    def post(i: int) -> None:
        with posted:
            order.append(i)
            engine.post(lambda: ran.append((i, threading.current_thread().name)))

    threads = [threading.Thread(target=post, args=(i,)) for i in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    engine.call(lambda: None)  # runs after every task posted before it
    assert ran == [(i, "test-engine") for i in order] and sorted(order) == list(range(5))
