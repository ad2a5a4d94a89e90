from __future__ import annotations

import threading
import time

from assistant.ui.deltas import DeltaBuffer


def test_the_ui_is_told_once_per_batch() -> None:
    buffer = DeltaBuffer(limit=1000)
    cancel = threading.Event()
    assert buffer.push("a", cancel) is True
    assert buffer.push("b", cancel) is False
    assert buffer.drain() == "ab"
    assert buffer.pending == 2
    buffer.shown("ab")
    assert buffer.pending == 0
    assert buffer.push("c", cancel) is True


def test_a_producer_faster_than_the_screen_waits_for_it() -> None:
    buffer = DeltaBuffer(limit=10)
    cancel = threading.Event()
    buffer.push("x" * 10, cancel)
    done = threading.Event()

    def producer() -> None:
        buffer.push("more", cancel)
        done.set()

    threading.Thread(target=producer, daemon=True).start()
    assert not done.wait(0.2)  # blocked: 10 characters wait for the screen
    buffer.shown(buffer.drain())
    assert done.wait(1.0)


def test_cancel_releases_a_waiting_producer() -> None:
    buffer = DeltaBuffer(limit=1)
    cancel = threading.Event()
    buffer.push("x", cancel)
    started = time.monotonic()
    threading.Timer(0.1, cancel.set).start()
    buffer.push("y", cancel)  # would wait forever without the cancel
    assert time.monotonic() - started < 1.0


def test_a_full_buffer_asks_for_a_paint_at_once_once_per_batch() -> None:
    """The UI paints at its frame rate; a producer that fills the buffer first asks
    for a paint right away (once), so a fast stream is not held to the frame rate."""
    asked: list[int] = []
    buffer = DeltaBuffer(limit=4, on_full=lambda: asked.append(1))
    cancel = threading.Event()
    buffer.push("abcd", cancel)
    assert asked == []
    threading.Timer(0.1, lambda: buffer.shown(buffer.drain())).start()
    buffer.push("e", cancel)  # full: asks, then waits for the paint
    assert asked == [1]
    assert buffer.drain() == "e"
