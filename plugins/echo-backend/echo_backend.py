"""echo: a backend that streams back the question it was asked.

A worked example of a third-party backend, installable on its own (see
pyproject.toml beside it): it implements the `Backend` protocol
(`assistant.core.backends.protocol`) and declares its settings as `Options`,
which the app reads under `[backends.echo]`, checks at start-up and hands to
`from_config`:

    [backends.echo]
    prefix = "echo: "
    max_tokens = 256
    delay_ms = 0

It needs no model and no network, which makes it a stand-in for tests and
demonstrations of the app itself (a scripted answer at a chosen speed).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from assistant.core.backends.protocol import Capabilities, LoadProgress, TokenCount
from assistant.core.config import Config
from assistant.core.conversation import Message
from assistant.core.events import StopReason, StreamEvent, TextDelta, TurnDone, Usage
from assistant.core.options import TOKENS_MAX, setting

CONTEXT_TOKENS = 1_000_000  # it keeps nothing: any prompt fits
_TOKEN = re.compile(r"\s+|\S+")  # a "token" is a word or a run of whitespace


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


@dataclass(frozen=True, slots=True)
class EchoOptions:
    """`[backends.echo]`: each field a setting, with its help, default and range."""

    prefix: str = setting("echo: ", "Text every answer starts with.")
    max_tokens: int = setting(256, "Most tokens (words and spaces) an answer streams.", minimum=1, maximum=TOKENS_MAX)
    delay_ms: int = setting(0, "Milliseconds between two tokens, to play a slower model.", minimum=0, maximum=60_000)


class EchoBackend:
    name = "echo"
    Options = EchoOptions

    def __init__(self, options: EchoOptions) -> None:
        self.options = options
        self._loaded = False

    @classmethod
    def from_config(cls, config: Config, options: EchoOptions) -> EchoBackend:
        return cls(options)

    @property
    def model_name(self) -> str:
        return "echo"

    @property
    def capabilities(self) -> Capabilities:
        return Capabilities(context_size=CONTEXT_TOKENS, local=True, tokenizer="words",
                            answer_tokens=self.options.max_tokens)  # fmt: skip

    @property
    def loaded(self) -> bool:
        return self._loaded

    def load(self, progress: LoadProgress | None = None) -> None:
        self._loaded = True
        if progress is not None:
            progress(1.0)

    def count_tokens(self, messages: Sequence[Message]) -> TokenCount:
        return TokenCount(sum(len(_tokens(m.content)) for m in messages))

    def stream(self, messages: Sequence[Message], cancel: threading.Event) -> Iterator[StreamEvent]:
        self.load()
        question = next((m.content for m in reversed(messages) if m.role == "user"), "")
        pieces = _tokens(self.options.prefix + question)
        answer = pieces[: self.options.max_tokens]
        reason: StopReason = "end_turn" if len(answer) == len(pieces) else "max_tokens"
        sent = 0
        for piece in answer:
            if cancel.is_set():  # within one token of being asked
                reason = "cancelled"
                break
            if self.options.delay_ms and sent:
                time.sleep(self.options.delay_ms / 1000)
            sent += 1
            yield TextDelta(piece, 1)
        yield Usage(prompt_tokens=self.count_tokens(messages).tokens, completion_tokens=sent)
        yield TurnDone(reason)

    def close(self) -> None:
        self._loaded = False
