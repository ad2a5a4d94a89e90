"""A turn is a generator of its events with its result at the end (core/session/runner.py):
whoever takes the events may stop taking them, and the turn then lets go of what it held."""

from __future__ import annotations

import threading

import pytest

from assistant.backends.scripted import ScriptedBackend
from assistant.core.config import Config
from assistant.core.events import TextDelta
from assistant.core.session.chat import ChatSession
from tests.patience import PATIENCE


def test_a_turn_whose_events_are_no_longer_taken_ends_its_live_figures_and_frees_its_backend() -> None:
    backend = ScriptedBackend(["one two three", "again"], name="local")
    s = ChatSession(Config(), backend, batch=True)  # the local model serves one turn at a time

    def taken_until_text(event: object) -> None:
        if isinstance(event, TextDelta):
            assert s.status().answering  # its live figures while it streams
            raise RuntimeError("the watcher failed")

    with pytest.raises(RuntimeError, match="the watcher failed"):
        s.run_turn("hi", threading.Event(), taken_until_text)
    assert not s.status().answering  # its figures ended with it
    answered: list[str] = []
    second = threading.Thread(target=lambda: answered.append(s.run_turn("hi", threading.Event()).text))
    second.start()
    second.join(PATIENCE)  # a slot the first turn kept would make this one wait forever
    assert answered == ["again"]
