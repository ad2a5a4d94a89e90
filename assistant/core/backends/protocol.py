"""The contract every backend implements, built-in or third-party.

One synchronous streaming call per turn, run in a worker thread and cancelled
between tokens through a `threading.Event`. Backends are found through the
`assistant.backends` entry-point group (see `assistant.core.plugins`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from assistant.core.conversation import Message
from assistant.core.events import BackendError, ErrorKind, StreamEvent
from assistant.core.tool_calls import ToolSpec

if TYPE_CHECKING:
    from assistant.core.config import Config

# Called with the fraction loaded (0.0-1.0); returning False aborts the load.
LoadProgress = Callable[[float], bool]


@dataclass(frozen=True, slots=True)
class Capabilities:
    context_size: int
    local: bool
    # Which tokenizer counts this backend's tokens ("gguf" = the model's own).
    tokenizer: str
    # How many sequences it can generate at once.
    max_concurrency: int = 1
    # Most requests started per second (an API's rate limit); None: as fast as slots free up.
    requests_per_second: float | None = None
    # A cap on its sliding window, in its tokens (a `window_tokens` setting); None: its
    # whole context less `answer_tokens`.
    window_tokens: int | None = None
    # Tokens of its context kept for the answer (its `max_tokens`): never filled by the prompt.
    answer_tokens: int = 0
    # What sets `context_size`, with the setting that changes it ("n_ctx, [backends.local]
    # n_ctx"): a turn that does not fit says so, rather than a bare figure.
    context_source: str = ""
    # Where its settings live ("[backends.local]"), so that an error can name its
    # `window_tokens` and `max_tokens`; "" when it has none.
    settings_table: str = ""
    # Self-hosted (an inference server of the user's): turns with secret files may go there.
    private: bool = False
    # It takes `tools` in `stream()` and yields the model's calls as `ToolUse` events (the
    # Messages API's tool_use, the OpenAI API's tool_calls, a grammar). A backend without
    # them still runs tasks: the loop describes the tools in the prompt and reads the
    # calls out of the answer's text (core/tools/repair.py).
    tool_calls: bool = False
    # Priced by the time it runs at this $/hour (an inference server), not per token;
    # None: a local backend's machine cost ([cost]), or the price table's per-token prices.
    machine_per_hour: float | None = None

    @property
    def priced_by_time(self) -> bool:
        return self.local or self.machine_per_hour is not None


@dataclass(frozen=True, slots=True)
class TokenCount:
    """How many tokens some messages take, and whether that is exact."""

    tokens: int
    # True when counted by an approximation (e.g. tiktoken scaled for Claude, offline).
    estimated: bool = False


class BackendUnavailable(Exception):
    """The backend cannot serve turns; the message says why and what to do."""

    def __init__(self, message: str, kind: ErrorKind = "unavailable") -> None:
        super().__init__(message)
        self.kind: ErrorKind = kind


@runtime_checkable
class Backend(Protocol):
    #: The registered name (`local`, `claude`, ...).
    name: str

    @property
    def model_name(self) -> str:
        """A short, human name of the model this backend runs."""
        ...

    @property
    def capabilities(self) -> Capabilities: ...

    @property
    def loaded(self) -> bool:
        """True once `load()` has succeeded (remote backends: always)."""
        ...

    def load(self, progress: LoadProgress | None = None) -> None:
        """Make the backend ready; raise `BackendUnavailable` with a clear reason."""
        ...

    def stream(
        self, messages: Sequence[Message], cancel: threading.Event, *, tools: Sequence[ToolSpec] = ()
    ) -> Iterator[StreamEvent]:
        """Yield the turn's events; ends with `TurnDone` or `BackendError`.

        `tools` (only passed when `capabilities.tool_calls`): what the model may call;
        each call it makes is a `ToolUse`, and the turn ends `TurnDone("tool_use")`.
        `messages` then hold the task so far: assistant messages with `tool_calls`,
        and a `tool` message answering each.

        Must return within one token of `cancel` being set.
        """
        ...

    def count_tokens(self, messages: Sequence[Message]) -> TokenCount:
        """Tokens these messages take in this backend's prompt, template included."""
        ...

    def close(self) -> None: ...


BackendFactory = Callable[["Config"], Backend]


def load_failure(backend: Backend) -> BackendError | None:
    """Load `backend` if it is not yet; the error event to yield when it cannot be."""
    try:
        backend.load()
    except BackendUnavailable as exc:
        return BackendError(str(exc), kind=exc.kind)
    return None
