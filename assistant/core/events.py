"""Typed events of one streamed turn, as a backend yields them.

A backend's `stream()` yields, in order: any number of `TextDelta` (with `Usage`
updates and `Retrying` notices among them; given tools, `ToolUse` for each call the
model made, once the call is whole), then the final `Usage` and `Timings`
(either may be missing for a backend that cannot report them), and always ends
with exactly one `TurnDone` or `BackendError`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from assistant.core.tool_calls import ToolCall

if TYPE_CHECKING:
    from assistant.core.decisions import RouteDecision

# "tool_use": the model stopped to call the tools it asked for (`ToolUse` events before it).
StopReason = Literal["end_turn", "max_tokens", "cancelled", "tool_use"]
ErrorKind = Literal[
    "unavailable",  # the backend cannot serve turns at all (no key, no model)
    "model_file",
    "load",
    "generation",
    "context",  # the prompt does not fit
    "rate_limit",  # 429: try again later
    "overloaded",  # 529
    "server",  # 5xx
    "network",  # connection refused, dropped, reset
    "timeout",  # the stream stalled
    "auth",  # 401/403: the key is wrong
    "billing",  # a spend limit or no credit: never retried
    "request",  # 400/404/413: the request itself is wrong
]


@dataclass(frozen=True, slots=True)
class TextDelta:
    """A piece of the answer.

    `tokens` is how many model tokens produced this text (0 when the backend
    cannot tell), so that rates are counted in tokens, never in characters.
    """

    text: str
    tokens: int = 1


@dataclass(frozen=True, slots=True)
class ToolUse:
    """The model called a tool (the call whole: its arguments as the model wrote them)."""

    call: ToolCall


@dataclass(frozen=True, slots=True)
class Usage:
    """Token counts of the turn, as the backend (or the API) reports them."""

    prompt_tokens: int
    completion_tokens: int
    # Local: tokens the model actually evaluated; the rest came from the KV cache.
    prompt_tokens_evaluated: int | None = None
    cache_read_tokens: int = 0
    # All prompt-cache writes; `cache_write_1h_tokens` of them with a one-hour TTL.
    cache_write_tokens: int = 0
    cache_write_1h_tokens: int = 0
    # True while the figures are an estimate (before the authoritative report).
    estimated: bool = False
    # The model that actually served the turn, when the backend reports it.
    model: str = ""

    @property
    def uncached_prompt_tokens(self) -> int:
        return max(self.prompt_tokens - self.cache_read_tokens - self.cache_write_tokens, 0)


@dataclass(frozen=True, slots=True)
class Timings:
    """The engine's own timing of the turn (llama.cpp's perf counters)."""

    prompt_eval_seconds: float
    prompt_eval_tokens: int
    generation_seconds: float
    generated_tokens: int


@dataclass(frozen=True, slots=True)
class Retrying:
    """The turn's request failed before any text arrived and will be sent again."""

    attempt: int  # the attempt that failed, from 1
    wait_seconds: float
    reason: str  # one line: what failed


@dataclass(frozen=True, slots=True)
class TurnDone:
    stop_reason: StopReason


@dataclass(frozen=True, slots=True)
class BackendError:
    """The turn failed; `message` is one line a person can act on."""

    message: str
    kind: ErrorKind = "generation"


@dataclass(frozen=True, slots=True)
class Notice:
    """Something the user should hear about that is not an error of the turn
    (a router plugin that failed and was skipped, a figure a server sent that
    was not believed, …)."""

    text: str


StreamEvent = TextDelta | ToolUse | Usage | Timings | Retrying | Notice | TurnDone | BackendError


@dataclass(frozen=True, slots=True)
class FallbackStarted:
    """The session's backend could not answer before any text arrived; another one answers."""

    from_backend: str
    to_backend: str
    to_model: str
    reason: str  # the first backend's error, one line


@dataclass(frozen=True, slots=True)
class RouteDecided:
    """The router chose the backend for this turn (the answer's badge)."""

    decision: RouteDecision


@dataclass(frozen=True, slots=True)
class StepStarted:
    """A task's model step begins (the first is step 1)."""

    step: int
    backend: str


@dataclass(frozen=True, slots=True)
class ToolStarted:
    """A task's tool step begins: the call as it runs (its name repaired, its
    arguments checked), said in one line (`read src/calc.py`, `run pytest -x`)."""

    step: int
    call_id: str
    tool: str
    description: str


@dataclass(frozen=True, slots=True)
class ToolFinished:
    """A task's tool step ended (or never ran: refused, stopped, not a tool)."""

    step: int
    call_id: str
    tool: str
    description: str
    ok: bool
    summary: str  # one line: "42 lines", "exit 1 in 2.3 s", "refused: …"
    output: str  # what the model was told (the step's block shows it expanded)
    seconds: float
    exit_code: int | None = None
    # How it came to run or not: "allowed: mode ask reads freely", "approved", "denied by you", …
    permission: str = ""


SessionEvent = FallbackStarted | RouteDecided | Notice | StepStarted | ToolStarted | ToolFinished
