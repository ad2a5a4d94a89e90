"""The benchmark's measuring: its cases run on each backend, one warm-up, then
`runs` measured runs, each from a cold KV cache (a local model would otherwise
reuse the previous run's prompt). Every figure comes from `TurnMetrics` over the
run's events, exactly as a chat turn is measured; a case reports the medians, and
the TTFT spread (max - min).

Headless: the command line (`cli/bench.py`) draws the progress and the tables.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import statistics
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import fields, is_dataclass, replace
from pathlib import Path

from assistant.core.accounting.metrics import Clock, TurnMetrics
from assistant.core.backends.protocol import Backend, BackendUnavailable
from assistant.core.benchmark.cases import BenchCase
from assistant.core.events import BackendError
from assistant.core.hardware import machine_identity
from assistant.core.results import BenchResult

log = logging.getLogger(__name__)

HEADER_BYTES = 1 << 20  # a model file's identity hashes this much of its start

# Called with the runs done and the runs in all (the warm-up included).
RunProgress = Callable[[int, int], None]
# Called with the backend's name, the case's name, the runs done and the runs in all.
BenchProgress = Callable[[str, str, int, int], None]


class BenchError(Exception):
    """A case could not be measured; one line."""


class BenchCancelled(Exception):
    """The benchmark was stopped between (or inside) runs."""


# -- the model's identity -------------------------------------------------------


def _size(n_bytes: int) -> str:
    return f"{n_bytes / 2**30:.2f} GiB" if n_bytes >= 2**30 else f"{n_bytes / 2**20:.1f} MiB"


def model_identity(backend: Backend) -> str:
    """The model's name; for a local file also its size and a hash of its first MiB,
    so that two quantisations (or a re-downloaded file) are told apart, cheaply."""
    name = backend.model_name
    path = getattr(backend, "model_path", None)
    if not isinstance(path, Path) or not path.is_file():
        return name
    try:
        with path.open("rb") as f:
            digest = hashlib.sha256(f.read(HEADER_BYTES)).hexdigest()[:12]
        size = path.stat().st_size
    except OSError:
        return name
    return f"{name} · {_size(size)} · {digest}"


# -- memory --------------------------------------------------------------------


def _status_kib(field_name: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return None


class MemoryProbe:
    """The process's resident-memory growth since it was made: a loaded model's weights,
    KV cache and buffers. VmHWM (the peak RSS) is reset first where Linux allows
    it; otherwise the peak of the RSS sampled after the load and after each run."""

    def __init__(self) -> None:
        self._reset_peak = self._clear_peak()
        self.before = _status_kib("VmRSS")
        self._sampled = self.before

    @staticmethod
    def _clear_peak() -> bool:
        try:
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")  # 5: reset the peak RSS to the current RSS (Linux 4.0+)
        except OSError:
            return False
        return True

    def sample(self) -> None:
        rss = _status_kib("VmRSS")
        if rss is not None and self._sampled is not None:
            self._sampled = max(self._sampled, rss)

    def growth_bytes(self) -> int | None:
        self.sample()
        if self.before is None:
            return None
        peak = _status_kib("VmHWM") if self._reset_peak else None
        peak = max(peak or 0, self._sampled or 0)
        return max(peak - self.before, 0) * 1024


# -- measuring -----------------------------------------------------------------


@contextmanager
def _settings_for(backend: Backend, case: BenchCase) -> Iterator[None]:
    """The case's answer bound on a backend with `settings.max_tokens`, and comparable
    runs: greedy sampling on a local model, no prompt cache on a remote one."""
    settings = getattr(backend, "settings", None)
    names = {f.name for f in fields(settings)} if is_dataclass(settings) else set()
    wanted: dict[str, object] = {"max_tokens": case.max_tokens, "prompt_caching": False}
    if backend.capabilities.local:
        wanted["temperature"] = 0.0
    changes = {k: v for k, v in wanted.items() if k in names}
    if not changes:
        yield
        return
    backend.settings = replace(settings, **changes)  # type: ignore[attr-defined, type-var]
    try:
        yield
    finally:
        backend.settings = settings  # type: ignore[attr-defined]


def _cold_cache(backend: Backend) -> None:
    """Forget the previous run's prompt (llama.cpp would otherwise reuse its KV cache)."""
    forget = getattr(backend, "forget_cache", None)
    if forget is not None:
        forget()


def _measure(backend: Backend, case: BenchCase, cancel: threading.Event, clock: Clock) -> TurnMetrics:
    _cold_cache(backend)
    metrics = TurnMetrics(clock)
    error: BackendError | None = None
    for event in backend.stream(case.messages, cancel):
        metrics.observe(event)
        if isinstance(event, BackendError):
            error = event
    if metrics.outcome == "cancelled" or cancel.is_set():
        raise BenchCancelled
    if error is not None:
        raise BenchError(f"{backend.name}: {case.name}: {error.message}")
    if metrics.first_token_at is None:
        raise BenchError(f"{backend.name}: {case.name}: the model answered nothing")
    return metrics


def _median(values: Sequence[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return statistics.median(known) if known else None


def _prompt_tps(metrics: TurnMetrics, prompt_tokens: int, local: bool) -> float | None:
    """The engine's own prompt rate when it reports one; for a local backend that
    cannot, prompt tokens over TTFT (mostly prompt evaluation there). A remote API's
    TTFT is mostly network and queueing: no rate is made up for it."""
    rate = metrics.prompt_eval_tps()
    if rate is None and local and metrics.ttft:
        rate = prompt_tokens / metrics.ttft
    return rate


def run_case(
    backend: Backend,
    case: BenchCase,
    runs: int,
    warmup: int = 1,
    cancel: threading.Event | None = None,
    on_progress: RunProgress | None = None,
    *,
    machine: str | None = None,
    model: str | None = None,
    memory: MemoryProbe | None = None,
    clock: Clock = time.monotonic,
    concurrency: int = 1,
) -> BenchResult:
    """`warmup` unmeasured runs, then `runs` measured ones, each from a cold cache;
    with `concurrency` > 1, each run is that many streams at once (a server's slots),
    and the result also holds their aggregate rate.

    Raises `BenchError` (one line) when a run fails, `BenchCancelled` when `cancel`
    is set, and `BackendUnavailable` when the backend cannot load.
    """
    if runs < 1:
        raise ValueError("runs must be at least 1")
    cancel = cancel or threading.Event()
    backend.load()
    local = backend.capabilities.local
    total = warmup + runs
    measured: list[TurnMetrics] = []
    aggregates: list[float] = []
    with _settings_for(backend, case):
        for done in range(total):
            if on_progress is not None:
                on_progress(done, total)
            if cancel.is_set():
                raise BenchCancelled
            streams = _measure_at_once(backend, case, cancel, clock, concurrency)
            if memory is not None:
                memory.sample()
            if done >= warmup:
                measured += streams
                aggregates.append(_aggregate(streams))
        if on_progress is not None:
            on_progress(total, total)
    prompt = [
        m.usage.prompt_tokens if m.usage is not None else backend.count_tokens(case.messages).tokens
        for m in measured
    ]
    prompt_tokens = round(statistics.median(prompt))
    ttfts = [m.ttft for m in measured if m.ttft is not None]
    return BenchResult(
        at=time.time(),
        machine=machine if machine is not None else machine_identity(),
        backend=backend.name,
        model=model if model is not None else model_identity(backend),
        case=case.name,
        runs=runs,
        prompt_tokens=prompt_tokens,
        completion_tokens=round(statistics.median(m.tokens_out for m in measured)),
        prompt_tps=_median([_prompt_tps(m, p, local) for m, p in zip(measured, prompt)]),
        generation_tps=_median([m.generation_tps() for m in measured]),
        ttft=_median(ttfts),
        ttft_spread=max(ttfts) - min(ttfts) if ttfts else None,
        peak_memory_bytes=memory.growth_bytes() if memory is not None else None,
        concurrency=concurrency,
        aggregate_tps=statistics.median(aggregates) if concurrency > 1 else None,
    )


def _measure_at_once(
    backend: Backend, case: BenchCase, cancel: threading.Event, clock: Clock, concurrency: int
) -> list[TurnMetrics]:
    """`concurrency` streams of `case` at once, each on its own thread (one: here)."""
    if concurrency == 1:
        return [_measure(backend, case, cancel, clock)]
    done: list[TurnMetrics | BaseException] = []
    lock = threading.Lock()

    def one() -> None:
        try:
            found: TurnMetrics | BaseException = _measure(backend, case, cancel, clock)
        except BaseException as exc:  # noqa: BLE001 - raised again below
            found = exc
        with lock:
            done.append(found)

    threads = [threading.Thread(target=one, name=f"bench-{i}", daemon=True) for i in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for item in done:
        if isinstance(item, BaseException):
            raise item
    return [m for m in done if isinstance(m, TurnMetrics)]


def _aggregate(streams: Sequence[TurnMetrics]) -> float:
    """All the streams' generated tokens ÷ the time from the first start to the last end."""
    start = min(m.start for m in streams)
    end = max(m.end if m.end is not None else m.start for m in streams)
    return sum(m.tokens_out for m in streams) / (end - start) if end > start else 0.0


def bench(
    backends: Sequence[Backend],
    cases: Sequence[BenchCase],
    runs: int,
    *,
    warmup: int = 1,
    cancel: threading.Event | None = None,
    on_progress: BenchProgress | None = None,
    report: Callable[[str], None] | None = None,
    concurrency: int = 1,
) -> list[BenchResult]:
    """Every case on every backend, in order. A backend that cannot load, or a case
    that fails, is reported (one line to `report`) and skipped. When `cancel` is set
    the cases finished so far are returned.

    A local backend's peak memory is its RSS growth from before its load; one that
    is already loaded reports none.
    """
    cancel = cancel or threading.Event()
    say = report or (lambda line: log.warning("%s", line))
    machine = machine_identity()
    results: list[BenchResult] = []
    for backend in backends:
        if cancel.is_set():
            break
        memory = MemoryProbe() if backend.capabilities.local and not backend.loaded else None
        widen = getattr(backend, "load_for_concurrency", None)
        if concurrency > 1 and widen is not None:
            widen(concurrency)  # a local model of an auto `parallel`: measure the streams asked for
        try:
            backend.load(lambda _fraction: not cancel.is_set())  # Ctrl-C aborts a long load
        except BackendUnavailable as exc:
            if cancel.is_set():
                break
            say(f"{backend.name}: skipped: {exc}")
            continue
        model = model_identity(backend)
        at_once = min(concurrency, backend.capabilities.max_concurrency)
        if at_once < concurrency:
            say(f"{backend.name}: {at_once} stream(s) at once, not {concurrency}: it generates "
                f"{backend.capabilities.max_concurrency} at a time")  # fmt: skip
        for case in cases:
            progress = None if on_progress is None else functools.partial(on_progress, backend.name, case.name)
            try:
                result = run_case(backend, case, runs, warmup, cancel, progress,
                                  machine=machine, model=model, memory=memory, concurrency=at_once)  # fmt: skip
            except BenchCancelled:
                return results
            except BenchError as exc:
                say(f"{exc}: skipped")
                continue
            results.append(result)
    return results
