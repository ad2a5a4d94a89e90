"""Token counters for the sliding window, one per backend.

Counting is exact where it can be: a backend's own `count_tokens` (for the local
model, its tokenizer over the rendered chat template). Before a local model is
loaded, and for any backend that cannot count cheaply, tiktoken's cl100k
(scaled by a learned ratio where there is one) gives an estimate, marked as one.
A remote backend provides its own counter (`window_counter()`), since counting
there may cost a network round trip.
"""

from __future__ import annotations

from collections.abc import Sequence

from assistant.core.backends.protocol import Backend, TokenCount
from assistant.core.conversation import Message
from assistant.core.window.offline_tokens import MESSAGE_OVERHEAD, TiktokenCounter

_TIKTOKEN = TiktokenCounter()


class EstimateCounter:
    """tiktoken cl100k counts: for a backend that cannot count (yet)."""

    exact_is_cheap = False

    def __init__(self, ratio: float = 1.0) -> None:
        self.ratio = ratio

    def message_tokens(self, message: Message) -> int:
        return round((_TIKTOKEN.count_text(message.content) + MESSAGE_OVERHEAD) * self.ratio)

    def prompt_tokens(self, messages: Sequence[Message]) -> TokenCount:
        return TokenCount(sum(self.message_tokens(m) for m in messages), estimated=True)


class BackendCounter:
    """A backend's own counts: exact and cheap for an in-process tokenizer."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.exact_is_cheap = backend.capabilities.local
        self._base: int | None = None  # what an empty prompt already takes (BOS, generation prompt)

    def message_tokens(self, message: Message) -> int:
        if self._base is None:
            self._base = self.backend.count_tokens([]).tokens
        return max(self.backend.count_tokens([message]).tokens - self._base, 1)

    def prompt_tokens(self, messages: Sequence[Message]) -> TokenCount:
        return self.backend.count_tokens(messages)


def window_counter(backend: Backend) -> BackendCounter | EstimateCounter:
    """The counter the window uses for `backend` right now."""
    if backend.capabilities.local and not backend.loaded:
        return EstimateCounter()  # its tokenizer comes with the model
    own = getattr(backend, "window_counter", None)
    if own is not None:
        return own()
    return BackendCounter(backend)
