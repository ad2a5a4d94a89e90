"""What the router is given: each backend's profile, from measured figures only.

Speeds come from the ledger's recent finished turns of that backend and model
(medians, with how many turns they rest on); prices from the price table; the
context size from the backend's own window assembly of this very turn.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterable, Sequence

from assistant.core.accounting.bench_results import bench_samples, one_stream, prompt_range
from assistant.core.accounting.pricing import PER_MILLION, SECONDS_PER_HOUR, PriceTable
from assistant.core.backends.protocol import Backend
from assistant.core.config import Config
from assistant.core.decisions import BackendProfile, Measured
from assistant.core.results import BenchResult
from assistant.core.store.ledger import TurnRecord
from assistant.core.window.sliding import Assembly, ContextTooLarge


def _median(values: Iterable[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return statistics.median(known) if known else None


def measured(records: Iterable[TurnRecord], bench: Sequence[BenchResult] = ()) -> Measured:
    """Medians over the finished turns and the bench runs of one backend and model:
    generation speed from both, first-token latency from the bench cases of the
    turns' prompt lengths (all of them without turns), answer length from turns."""
    records = [r for r in records if r.outcome == "ok"]
    bench = one_stream(bench)
    tps = bench_samples(bench, "generation_tps")
    ttft = bench_samples(bench, "ttft", prompt_range([r.prompt_tokens for r in records]))
    return Measured(
        turns=len(records),
        bench_runs=sum(b.runs for b in bench if b.generation_tps is not None),
        tokens_per_second=_median([*(r.tokens_per_second for r in records), *tps]),
        ttft=_median([*(r.ttft for r in records), *ttft]),
        completion_tokens=_median(float(r.completion_tokens) for r in records if r.completion_tokens),
    )


def profile(
    backend: Backend,
    window: Assembly | ContextTooLarge | None,
    figures: Measured,
    prices: PriceTable,
    config: Config,
    *,
    unavailable: str = "",
) -> BackendProfile:
    """`unavailable`: why this backend cannot take a turn now ("" when it can)."""
    caps = backend.capabilities
    local, by_time = caps.local, caps.priced_by_time
    per_hour = caps.machine_per_hour if caps.machine_per_hour is not None else config.cost.local_machine_per_hour
    if isinstance(window, ContextTooLarge):
        unavailable = unavailable or str(window)
    input_price = output_price = None
    if by_time:
        input_price = output_price = 0.0
    elif (price := prices.lookup(backend.model_name)) is not None:
        input_price, output_price = price.rates.input / PER_MILLION, price.rates.output / PER_MILLION
    assembled = window if isinstance(window, Assembly) else None
    return BackendProfile(
        name=backend.name,
        model=backend.model_name,
        available=not unavailable,
        unavailable_reason=unavailable,
        local=local,
        context_tokens=assembled.tokens if assembled else (window.needed if isinstance(window, ContextTooLarge) else 0),
        context_estimated=assembled.estimated if assembled else True,
        window_tokens=assembled.budget if assembled else (window.budget if isinstance(window, ContextTooLarge) else 0),
        measured=figures,
        input_price=input_price,
        output_price=output_price,
        machine_per_second=per_hour / SECONDS_PER_HOUR if by_time else 0.0,
        private=local or caps.private,
        priced_by_time=by_time,
    )


def local_midnight(now: float) -> float:
    day = time.localtime(now)
    return time.mktime((day.tm_year, day.tm_mon, day.tm_mday, 0, 0, 0, 0, 0, -1))

