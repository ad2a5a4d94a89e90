"""Typed events of one streamed turn, as a backend yields them.

A backend's `stream()` yields, in order: any number of `TextDelta`, then `Usage`
and `Timings` (either may be missing for a backend that cannot report them), and
always ends with exactly one `TurnDone` or `BackendError`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

StopReason = Literal["end_turn", "max_tokens", "cancelled"]
ErrorKind = Literal["unavailable", "model_file", "load", "generation", "context"]


@dataclass(frozen=True, slots=True)
class TextDelta:
    """A piece of the answer.

    `tokens` is how many model tokens produced this text (0 when the backend
    cannot tell), so that rates are counted in tokens, never in characters.
    """

    text: str
    tokens: int = 1


@dataclass(frozen=True, slots=True)
class Usage:
    """Token counts of the turn, as the backend (or the API) reports them."""

    prompt_tokens: int
    completion_tokens: int
    # Local: tokens the model actually evaluated; the rest came from the KV cache.
    prompt_tokens_evaluated: int | None = None
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    # True while the figures are an estimate (before the authoritative report).
    estimated: bool = False


@dataclass(frozen=True, slots=True)
class Timings:
    """The engine's own timing of the turn (llama.cpp's perf counters)."""

    prompt_eval_seconds: float
    prompt_eval_tokens: int
    generation_seconds: float
    generated_tokens: int


@dataclass(frozen=True, slots=True)
class TurnDone:
    stop_reason: StopReason


@dataclass(frozen=True, slots=True)
class BackendError:
    """The turn failed; `message` is one line a person can act on."""

    message: str
    kind: ErrorKind = "generation"


StreamEvent = TextDelta | Usage | Timings | TurnDone | BackendError
