"""A stand-in backend for when the configured one cannot even be created.

The app keeps running and every turn says why, instead of the app failing to start.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence

from assistant.core.backends.protocol import BackendUnavailable, Capabilities, LoadProgress, TokenCount
from assistant.core.conversation import Message
from assistant.core.events import BackendError, StreamEvent


class UnavailableBackend:
    def __init__(self, name: str, reason: str) -> None:
        self.name = name
        self.reason = reason

    @property
    def model_name(self) -> str:
        return "unavailable"

    @property
    def capabilities(self) -> Capabilities:
        return Capabilities(context_size=1, local=True, tokenizer="none")

    @property
    def loaded(self) -> bool:
        return False

    def load(self, progress: LoadProgress | None = None) -> None:
        raise BackendUnavailable(self.reason)

    def stream(self, messages: Sequence[Message], cancel: threading.Event) -> Iterator[StreamEvent]:
        yield BackendError(self.reason, kind="unavailable")

    def count_tokens(self, messages: Sequence[Message]) -> TokenCount:
        return TokenCount(0)

    def close(self) -> None:
        pass
