"""A deterministic backend that plays back scripted answers.

For UI tests and the UI benchmark: it streams text token by token (a "token"
is a word or a run of whitespace) with an optional delay, honours cancel, and
reports usage like a real backend. It is not registered as an entry point, so
users never see it; tests hand it to `make_app` directly.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterable, Iterator, Sequence

from assistant.core.backends.protocol import (
    BackendUnavailable,
    Capabilities,
    LoadProgress,
    TokenCount,
    load_failure,
)
from assistant.core.conversation import Message
from assistant.core.events import BackendError, StreamEvent, TextDelta, ToolUse, TurnDone, Usage
from assistant.core.tool_calls import ToolCall, ToolSpec

_TOKEN = re.compile(r"\s+|[^\s]+")


def split_tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


class ScriptedBackend:

    def __init__(
        self,
        answers: Iterable[str] = ("Hello from the scripted backend.",),
        *,
        delay: float = 0.0,
        context_size: int = 4096,
        load_error: str | None = None,
        model_name: str = "scripted-model",
        name: str = "scripted",
        local: bool = True,
        failures: Iterable[BackendError | None] = (),
        window_tokens: int | None = None,
        max_tokens: int = 1024,
        tool_calls: bool = False,
    ) -> None:
        """`local=False` plays a remote backend (for routing tests); `failures` makes
        turns fail before any text, in order (None: that turn answers);
        `window_tokens` and `max_tokens` are its capabilities' window budget and
        answer reserve, as a real backend's settings make them. `tool_calls`: it
        takes tools, and an answer that is a `ToolCall` (or a tuple of them) is
        played as those calls (`ToolUse` events, then `TurnDone("tool_use")`)."""
        self.name = name
        self.local = local
        self.failures = list(failures)
        self.answers: list[str | ToolCall | tuple[ToolCall, ...]] = list(answers)
        self.tool_calls = tool_calls
        self.delay = delay
        self.load_error = load_error
        self._model_name = model_name
        self._context_size = context_size
        self._window_tokens = window_tokens
        self._max_tokens = max_tokens
        self._turn = 0
        self._loaded = False
        self.seen: list[list[Message]] = []  # the messages of every turn, for tests

    @property
    def model_name(self) -> str:
        return self._model_name

    @property
    def capabilities(self) -> Capabilities:
        return Capabilities(context_size=self._context_size, local=self.local, tokenizer="words",
                            window_tokens=self._window_tokens, answer_tokens=self._max_tokens,
                            tool_calls=self.tool_calls)  # fmt: skip

    @property
    def loaded(self) -> bool:
        return self._loaded

    def load(self, progress: LoadProgress | None = None) -> None:
        if self.load_error:
            raise BackendUnavailable(self.load_error, kind="model_file")
        for step in range(1, 5):
            if progress is not None and not progress(step / 4):
                raise BackendUnavailable("load cancelled", kind="load")
        self._loaded = True

    def count_tokens(self, messages: Sequence[Message]) -> TokenCount:
        return TokenCount(sum(len(split_tokens(m.content)) + 4 for m in messages))

    def stream(
        self, messages: Sequence[Message], cancel: threading.Event, *, tools: Sequence[ToolSpec] = ()
    ) -> Iterator[StreamEvent]:
        if (failure := load_failure(self)) is not None:
            yield failure
            return
        self.seen.append(list(messages))
        if self.failures:
            failure = self.failures.pop(0)
            if failure is not None:
                yield Usage(prompt_tokens=self.count_tokens(messages).tokens, completion_tokens=0, estimated=True)
                yield failure
                return
        answer = self.answers[min(self._turn, len(self.answers) - 1)]
        self._turn += 1
        if not isinstance(answer, str):
            calls = (answer,) if isinstance(answer, ToolCall) else answer
            for call in calls:
                yield TextDelta("", len(split_tokens(call.arguments)))
                yield ToolUse(call)
            produced = sum(len(split_tokens(c.arguments)) for c in calls)
            yield Usage(prompt_tokens=self.count_tokens(messages).tokens, completion_tokens=produced)
            yield TurnDone("tool_use")
            return
        produced = 0
        reason = "end_turn"
        for piece in split_tokens(answer):
            if cancel.is_set():
                reason = "cancelled"
                break
            if self.delay:
                time.sleep(self.delay)
            produced += 1
            yield TextDelta(piece, 1)
        yield Usage(prompt_tokens=self.count_tokens(messages).tokens, completion_tokens=produced)
        yield TurnDone(reason)  # type: ignore[arg-type]

    def close(self) -> None:
        self._loaded = False
