from __future__ import annotations

import threading

from assistant.ui.deltas import DeltaBuffer
from tests.patience import PATIENCE, wait_until


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
    assert done.wait(PATIENCE)


def test_cancel_releases_a_waiting_producer() -> None:
    buffer = DeltaBuffer(limit=1)
    cancel = threading.Event()
    buffer.push("x", cancel)
    done = threading.Event()

    def producer() -> None:
        buffer.push("y", cancel)  # would wait forever without the cancel
        done.set()

    threading.Thread(target=producer, daemon=True).start()
    assert not done.wait(0.2)  # blocked: nothing is drained
    cancel.set()
    assert done.wait(PATIENCE)  # released by the cancel alone: the screen took nothing
    assert buffer.pending == 2


def test_a_full_buffer_asks_for_a_paint_at_once_once_per_batch() -> None:
    """The UI paints at its frame rate; a producer that fills the buffer first asks
    for a paint right away (once), so a fast stream is not held to the frame rate."""
    asked: list[int] = []
    buffer = DeltaBuffer(limit=4, on_full=lambda: asked.append(1))
    cancel = threading.Event()
    buffer.push("abcd", cancel)
    assert asked == []

    def paint() -> None:  # the UI, once asked (and at the latest after the wait, so a producer never asking fails)
        try:
            wait_until(lambda: bool(asked), "a paint asked for")
        finally:
            buffer.shown(buffer.drain())

    threading.Thread(target=paint, daemon=True).start()
    buffer.push("e", cancel)  # full: asks, then waits for the paint
    assert asked == [1]
    assert buffer.drain() == "e"
