"""What `assistant bench` measures, as stored in the ledger and read by the report."""

from __future__ import annotations

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


# A bench case's prompt is comparable to the turns' when within this factor of their
# shortest and longest: the bench's short prompts (~40 tokens) stand beside chat turns.
COMPARABLE_PROMPT = 2


def prompt_range(prompt_tokens: Sequence[int | None]) -> tuple[int, int] | None:
    """The prompt lengths comparable to the turns' known prompts (None without any)."""
    known = [n for n in prompt_tokens if n is not None]
    return (min(known) // COMPARABLE_PROMPT, max(known) * COMPARABLE_PROMPT) if known else None
