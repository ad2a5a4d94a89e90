"""What a turn and a benchmark run produced: the values every layer above passes
around (the session makes them, the store keeps them, the accounting and the
screens read them). Pure values, below all of those.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

from assistant.core.decisions import RouteDecision
from assistant.core.events import BackendError, Usage

# How a turn ended.
Outcome = Literal["ok", "cancelled", "interrupted", "error"]
OUTCOMES: tuple[str, ...] = get_args(Outcome)


@dataclass(frozen=True, slots=True)
class TurnStats:
    """A snapshot of a turn's figures; `None` means not measured (yet)."""

    ttft: float | None
    generation_tps: float | None
    prompt_eval_tps: float | None
    tokens_in: int | None
    tokens_out: int
    prompt_tokens_evaluated: int | None
    elapsed: float
    finished: bool
    usage_estimated: bool
    # First token to last token (to now while streaming).
    generation_seconds: float | None = None
    # The rate as the tokens arrived here (`generation_tps` is the engine's own once it
    # reports one), and whether the engine reported one.
    client_tps: float | None = None
    engine_timed: bool = False


@dataclass(frozen=True, slots=True)
class TurnResult:
    text: str
    stats: TurnStats
    cost: float | None  # None: unknown (never shown as $0)
    outcome: Outcome
    stop_reason: str | None
    error: BackendError | None
    backend: str = ""  # the backend's own name (as shown and recorded)
    model: str = ""
    usage: Usage | None = None
    counterfactual_cost: float | None = None
    # Set when another backend answered because the chosen one could not.
    fallback_from: str | None = None
    fallback_reason: str | None = None
    decision: RouteDecision | None = None
    routed_to: str = ""  # the pool's name of the backend that answered (for /retry other)
    question: str = ""  # what was sent, prefixes removed
    turn_id: int | None = None  # its ledger row (None when it was not recorded): what a rating names


# How a task ended: the model answered, a cap stopped it (steps, tokens, the budget), the
# user did, or a step failed.
TaskEnd = Literal["answered", "steps", "tokens", "budget", "cancelled", "error"]


@dataclass(frozen=True, slots=True)
class TaskResult:
    """A task (model steps and tool steps until the model answers) and its figures.
    Model time and tool time are apart: tokens/sec counts model time only."""

    text: str  # the model's last answer ("" when none)
    end: TaskEnd
    steps: int  # model steps
    tool_steps: int
    model_seconds: float
    tool_seconds: float
    tokens_in: int  # every step's prompt, as reported
    tokens_out: int
    generation_seconds: float  # first token to last, summed over the steps
    cost: float | None  # None: some step's cost is unknown
    changed: tuple[str, ...] = ()  # project paths the tools wrote
    last: TurnResult | None = None  # the last model step
    error: BackendError | None = None
    reason: str = ""  # one line when a cap or a failure ended it
    commit: str | None = None  # the task's commit, when its changes were committed
    task_id: str = ""
    tools_used: tuple[tuple[str, int], ...] = ()  # (tool, times it ran), in the order first used

    @property
    def tokens_per_second(self) -> float | None:
        """Output tokens over the model's generation time (tools' time never counts)."""
        return self.tokens_out / self.generation_seconds if self.generation_seconds > 0 else None


@dataclass(frozen=True, slots=True)
class BenchResult:
    """One benchmark case of one backend and model on one machine: medians over `runs`."""

    at: float  # Unix time of the run
    machine: str  # e.g. "host · Intel Xeon … · 2 cores · 31 GiB · no GPU"
    backend: str
    model: str  # the model's name (and, for a local file, its size and short hash)
    case: str  # "short-prompt/short-answer", "long-prompt/long-answer", …
    runs: int
    prompt_tokens: int
    completion_tokens: int
    prompt_tps: float | None  # prompt evaluation, tokens/s
    generation_tps: float | None
    ttft: float | None  # seconds, median
    ttft_spread: float | None  # seconds: max - min over the runs
    peak_memory_bytes: int | None = None  # local: the process's peak RSS growth while loaded
    # Migration 9: how many streams ran at once (`assistant bench --concurrency`), and all
    # their generated tokens ÷ the wall time of a run (median over runs); None at 1.
    concurrency: int = 1
    aggregate_tps: float | None = None
    id: int | None = None
