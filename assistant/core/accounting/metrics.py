"""Measured figures of a turn and of a session, fed by stream events.

Every rate here is counted in model tokens over measured time. The clock is
injectable so that tests can drive it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from assistant.core.events import (
    BackendError,
    StreamEvent,
    TextDelta,
    Timings,
    TurnDone,
    Usage,
)
from assistant.core.results import TurnStats

Clock = Callable[[], float]


class TurnMetrics:
    """Follows one turn's events and measures it.

    - time to first token: from `start` to the first non-empty text;
    - generation rate: model tokens after the first one, over the time from
      the first token to the last one (to *now* while streaming, so the live
      figure falls when the stream stalls); once finished, the engine's own
      rate when the backend reports its timings;
    - prompt-eval rate: the engine's own timing when the backend reports it,
      otherwise prompt tokens evaluated (when the backend reports them) over
      the time to first token.
    """

    def __init__(self, clock: Clock = time.monotonic) -> None:
        self._clock = clock
        self.start = clock()
        self.first_token_at: float | None = None
        self.last_token_at: float | None = None
        self.end: float | None = None
        self.tokens_out = 0
        self._first_delta_tokens = 0
        self.usage: Usage | None = None
        self.timings: Timings | None = None
        self.outcome: str | None = None

    def observe(self, event: StreamEvent) -> None:
        now = self._clock()
        match event:
            case TextDelta(text=text, tokens=tokens):
                if self.first_token_at is None:
                    if not text and not tokens:
                        return
                    self.first_token_at = now
                    self._first_delta_tokens = tokens
                self.last_token_at = now
                self.tokens_out += tokens
            case Usage(estimated=estimated, completion_tokens=completion):
                self.usage = event
                # The backend's own count replaces our running sum; an estimate only raises it.
                self.tokens_out = max(self.tokens_out, completion) if estimated else completion
            case Timings():
                self.timings = event
            case TurnDone(stop_reason=reason):
                self.end = now
                self.outcome = "ok" if reason != "cancelled" else "cancelled"
            case BackendError():
                self.end = now
                self.outcome = "error"

    @property
    def ttft(self) -> float | None:
        if self.first_token_at is None:
            return None
        return self.first_token_at - self.start

    def generation_seconds(self, now: float | None = None) -> float | None:
        if self.first_token_at is None:
            return None
        until = self.last_token_at if self.end is not None else (now if now is not None else self._clock())
        return (until or self.first_token_at) - self.first_token_at

    def generation_tps(self, now: float | None = None) -> float | None:
        """Once the turn is over, the engine's own figure where it reports one
        (llama.cpp's tokens ÷ decode time), so the number shown is the engine's
        truth and not how fast anything downstream took the tokens; while it
        streams, and for engines that report nothing, the measured rate."""
        engine = self._engine_tps()
        return engine if engine is not None else self.client_tps(now)

    def _engine_tps(self) -> float | None:
        """The engine's own generation rate, once the turn is over and where it reported its timings."""
        t = self.timings
        if self.end is None or t is None or t.generation_seconds <= 0 or t.generated_tokens <= 0:
            return None
        return t.generated_tokens / t.generation_seconds

    def client_tps(self, now: float | None = None) -> float | None:
        """The rate the tokens arrived at: after the first, over first to last token."""
        span = self.generation_seconds(now)
        after_first = self.tokens_out - self._first_delta_tokens
        if span is None or after_first <= 0 or span <= 0:
            return None
        return after_first / span

    def prompt_eval_tps(self) -> float | None:
        if self.timings and self.timings.prompt_eval_seconds > 0:
            return self.timings.prompt_eval_tokens / self.timings.prompt_eval_seconds
        evaluated = self._prompt_evaluated()
        if evaluated and self.ttft:
            return evaluated / self.ttft
        return None

    def _prompt_evaluated(self) -> int | None:
        """Prompt tokens the model evaluated, when the backend knows them. A remote
        API's time to first token is mostly network and queueing, and its cache
        reads are not evaluated at all: no prompt rate is made up for it."""
        return self.usage.prompt_tokens_evaluated if self.usage is not None else None

    def elapsed(self, now: float | None = None) -> float:
        until = self.end if self.end is not None else (now if now is not None else self._clock())
        return until - self.start

    def snapshot(self, now: float | None = None) -> TurnStats:
        now = now if now is not None else self._clock()
        return TurnStats(
            ttft=self.ttft,
            generation_tps=self.generation_tps(now),
            prompt_eval_tps=self.prompt_eval_tps(),
            tokens_in=self.usage.prompt_tokens if self.usage else None,
            tokens_out=self.tokens_out,
            prompt_tokens_evaluated=self.usage.prompt_tokens_evaluated if self.usage else None,
            elapsed=self.elapsed(now),
            finished=self.end is not None,
            usage_estimated=bool(self.usage and self.usage.estimated),
            generation_seconds=self.generation_seconds(now),
            client_tps=self.client_tps(now),
            engine_timed=self._engine_tps() is not None,
        )


@dataclass(slots=True)
class SessionTotals:
    """Running totals over the finished turns of a session."""

    turns: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    seconds: float = 0.0
    cost: float = 0.0
    # False as soon as one turn's cost is unknown; the total is then a floor.
    cost_known: bool = True

    def add(self, stats: TurnStats, cost: float | None) -> None:
        self.turns += 1
        self.tokens_in += stats.tokens_in or 0
        self.tokens_out += stats.tokens_out
        self.seconds += stats.elapsed
        if cost is None:
            self.cost_known = False
        else:
            self.cost += cost
