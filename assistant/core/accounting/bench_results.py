"""What `assistant bench` measures, as stored in the ledger and read by the report."""

from __future__ import annotations

from dataclasses import dataclass

# Measured runs per case (after one warm-up): by default, and with --quick.
RUNS, QUICK_RUNS = 3, 1


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
    id: int | None = None
