"""Incremental prompt tokenization gives exactly the tokens of tokenizing the whole prompt."""

from __future__ import annotations

import random

import pytest

from assistant.backends.llama.backend import LlamaCppBackend, _chat_messages
from assistant.backends.llama.prompt_tokens import common_prefix
from assistant.core.conversation import Message

pytestmark = pytest.mark.model

WORDS = ["def", "class", "  indent", "x = 1", "émoji 🎉", "<b>", "über", "\n\n", "```py", "print('hi')",
         "a,b", " spaces  ", "<|im_start|>", "日本語", "\t"]


def whole(backend: LlamaCppBackend, messages: list[Message]) -> list[int]:
    result = backend._formatter(messages=_chat_messages(messages))
    return backend.llama.tokenize(result.prompt.encode(), add_bos=not result.added_special, special=True)


def test_every_prompt_of_a_growing_sliding_chat_is_tokenized_exactly(local_backend: LlamaCppBackend) -> None:
    rng = random.Random(7)
    messages = [Message("system", "You are helpful.")]
    for turn in range(80):
        messages.append(Message("user", " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 40)))))
        if rng.random() < 0.15 and len(messages) > 5:
            del messages[1:3]  # the window slides
        if rng.random() < 0.05:
            messages[0] = Message("system", f"You are helpful. ({turn})")  # the prefix changes
        assert local_backend.prompt_tokens(messages) == whole(local_backend, messages), turn
        messages.append(Message("assistant", " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 40)))))


def test_common_prefix() -> None:
    assert common_prefix(b"", b"abc") == 0
    assert common_prefix(b"abc", b"abd") == 2
    big = b"x" * 10_000
    assert common_prefix(big + b"a", big + b"b") == 10_000
    assert common_prefix(big, big) == 10_000
