"""The sliding window on the real SmolLM2: llama.cpp's KV cache keeps the
conversation, so each turn evaluates only its new tokens. Even when the window
slides, the turns it keeps are moved down in the cache rather than evaluated
again; and that gives the same answers as evaluating everything afresh."""

from __future__ import annotations

import threading
from dataclasses import replace

import pytest

from assistant.backends.llama.backend import LlamaCppBackend
from assistant.core.config import Config
from assistant.core.session.chat import ChatSession
from assistant.core.events import TextDelta

pytestmark = pytest.mark.model


def test_twenty_turns_evaluate_only_their_new_tokens(local_backend: LlamaCppBackend, monkeypatch) -> None:
    monkeypatch.setattr(local_backend, "settings", replace(local_backend.settings, max_tokens=8, window_tokens=400))
    session = ChatSession(Config(), local_backend)  # fixed on `local`: the window is counted by its tokenizer
    rows = []
    for i in range(20):
        result = session.run_turn(f"Question {i}: name a colour and a number.", threading.Event())
        assert result.outcome == "ok", result.error
        assembly = session.window("local")
        assert assembly.tokens <= 400 and not assembly.estimated  # exact: the model's own tokens
        assert result.usage.prompt_tokens == assembly.tokens  # the window's count is the model's count
        rows.append((result.usage.prompt_tokens, result.usage.prompt_tokens_evaluated, assembly.slid))
    slides = [i for i, (_, _, slid) in enumerate(rows) if slid]
    assert 1 <= len(slides) <= 6, rows  # in chunks, not one turn per turn
    steady = [evaluated for prompt, evaluated, slid in rows[1:] if not slid]
    for i in range(1, len(rows)):
        prompt, evaluated, slid = rows[i]
        if not slid:
            assert evaluated <= prompt - rows[i - 1][0] + 2, (i, rows)  # the last answer, the question, markup
        else:
            assert evaluated <= max(steady) + 2, (i, rows)  # kept turns were moved, not evaluated
    assert sum(e for _, e, _ in rows) < sum(p for p, _, _ in rows) / 5, rows


def test_an_answer_after_a_slide_is_the_one_a_fresh_evaluation_gives(local_backend: LlamaCppBackend, monkeypatch) -> None:
    monkeypatch.setattr(local_backend, "settings", replace(local_backend.settings, max_tokens=16, window_tokens=300))
    session = ChatSession(Config(), local_backend)
    for i in range(30):
        result = session.run_turn(f"Question {i}: name a colour and a number.", threading.Event())
        if session.window("local").slid:
            break
    else:
        pytest.fail("the window never slid")
    assert result.usage.prompt_tokens_evaluated < result.usage.prompt_tokens / 3  # moved, not evaluated
    local_backend.forget_cache()  # the same prompt, evaluated from nothing (greedy sampling)
    messages = list(session.window("local").messages)
    fresh = "".join(e.text for e in local_backend.stream(messages, threading.Event()) if isinstance(e, TextDelta))
    assert fresh == result.text
