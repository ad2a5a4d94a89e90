"""The local model's engine thread: one thread runs every decode, in step with
whoever consumes the stream (see assistant/backends/llama/engine_thread.py)."""

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


def test_iterate_runs_the_generator_there_in_step_with_the_caller(engine: EngineThread) -> None:
    seen_there: list[str] = []
    cancel = threading.Event()

    def tokens():
        for i in range(100):
            seen_there.append(threading.current_thread().name)
            if cancel.is_set():
                yield "cancelled"
                return
            yield i

    got = []
    for item in engine.iterate(tokens):
        got.append(item)
        if item == 0:
            cancel.set()  # as Esc does on seeing a token: the very next one sees it
    assert got == [0, "cancelled"]
    assert set(seen_there) == {"test-engine"}


def test_an_early_close_ends_the_generator_there_before_returning(engine: EngineThread) -> None:
    closed_on: list[str] = []

    def endless():
        try:
            while True:
                yield 1
        finally:
            closed_on.append(threading.current_thread().name)

    stream = engine.iterate(endless)
    assert next(stream) == 1
    stream.close()
    assert closed_on == ["test-engine"]  # closed, there, by the time close() returned
    assert engine.call(lambda: "idle again") == "idle again"


def test_an_error_in_the_generator_reaches_the_caller(engine: EngineThread) -> None:
    def failing():
        yield 1
        raise RuntimeError("decode failed")

    stream = engine.iterate(failing)
    assert next(stream) == 1
    with pytest.raises(RuntimeError, match="decode failed"):
        next(stream)
    assert engine.call(lambda: "still serving") == "still serving"


def test_streams_from_many_threads_all_compute_on_one(engine: EngineThread) -> None:
    names: set[str] = set()

    def gen():
        names.add(threading.current_thread().name)
        yield 1

    threads = [threading.Thread(target=lambda: list(engine.iterate(gen))) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert names == {"test-engine"}
