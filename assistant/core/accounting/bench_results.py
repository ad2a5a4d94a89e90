"""What `assistant bench` measures, as stored in the ledger and read by the report."""

from __future__ import annotations

import statistics
from collections.abc import Sequence

from assistant.core.results import BenchResult

# Measured runs per case (after one warm-up): by default, and with --quick.
RUNS, QUICK_RUNS = 3, 1


def one_stream(bench: Sequence[BenchResult]) -> list[BenchResult]:
    """The runs of one stream at a time: what a turn's figures are set beside. A turn
    is one stream; runs of several at once share their engine (their aggregate rate
    is a figure of its own)."""
    return [b for b in bench if b.concurrency == 1]


def bench_samples(bench: Sequence[BenchResult], field: str, prompts: tuple[int, int] | None = None) -> list[float]:
    """A bench figure (`generation_tps`, `ttft`) once per run it is the median of, to
    count beside turns' figures. With `prompts` (`prompt_range` of the turns), only
    cases whose prompt lies in that range: a first-token latency depends on the
    prompt's length, so only comparable ones are counted together. Pass `one_stream`
    results where the figures stand beside a turn's."""
    samples: list[float] = []
    for b in bench:
        value = getattr(b, field)
        if value is None or (prompts is not None and not prompts[0] <= b.prompt_tokens <= prompts[1]):
            continue
        samples += [value] * b.runs
    return samples


# Several streams at once count as a gain from this much more throughput in all than one.
GAINFUL = 1.1


def gainful_concurrency(bench: Sequence[BenchResult]) -> int | None:
    """The streams at once that gave the most tokens a second in all, measured against one
    stream at a time (`assistant bench` and `--concurrency N` of one backend and model on
    one machine): 1 where several at once were measured and none gained; None where either
    side was never measured."""
    single = [b.generation_tps for b in one_stream(bench) if b.generation_tps]
    several: dict[int, list[float]] = {}
    for b in bench:
        if b.concurrency > 1 and b.aggregate_tps:
            several.setdefault(b.concurrency, []).append(b.aggregate_tps)
    if not single or not several:
        return None
    aggregate = {n: statistics.median(rates) for n, rates in several.items()}
    best = max(aggregate, key=lambda n: aggregate[n])
    return best if aggregate[best] >= GAINFUL * statistics.median(single) else 1


# A bench case's prompt is comparable to the turns' when within this factor of their
# shortest and longest: the bench's short prompts (~40 tokens) stand beside chat turns.
COMPARABLE_PROMPT = 2


def prompt_range(prompt_tokens: Sequence[int | None]) -> tuple[int, int] | None:
    """The prompt lengths comparable to the turns' known prompts (None without any)."""
    known = [n for n in prompt_tokens if n is not None]
    return (min(known) // COMPARABLE_PROMPT, max(known) * COMPARABLE_PROMPT) if known else None
