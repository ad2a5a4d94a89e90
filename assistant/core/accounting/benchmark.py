"""`assistant bench`: how fast each backend answers on this machine.

A fixed set of cases (short or long prompt × short or long answer) is run on
each backend: one warm-up, then `runs` measured runs, each from a cold KV cache
(a local model would otherwise reuse the previous run's prompt). Every figure
comes from `TurnMetrics` over the run's events, exactly as a chat turn is
measured; a case reports the medians, and the TTFT spread (max - min).

Headless: the command line draws the progress and the tables.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import platform
import shutil
import socket
import statistics
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields, is_dataclass, replace
from pathlib import Path

from assistant.core.backends.protocol import Backend, BackendUnavailable
from assistant.core.accounting.bench_results import BenchResult
from assistant.core.conversation import Message
from assistant.core.events import BackendError
from assistant.core.hardware import physical_cores
from assistant.core.accounting.metrics import Clock, TurnMetrics

log = logging.getLogger(__name__)

SHORT_ANSWER, LONG_ANSWER = 32, 256  # max_tokens of an answer
QUICK_SHORT_ANSWER, QUICK_LONG_ANSWER = 16, 64
HEADER_BYTES = 1 << 20  # a model file's identity hashes this much of its start
GPU_QUERY_SECONDS = 2.0

# Called with the runs done and the runs in all (the warm-up included).
RunProgress = Callable[[int, int], None]
# Called with the backend's name, the case's name, the runs done and the runs in all.
BenchProgress = Callable[[str, str, int, int], None]


class BenchError(Exception):
    """A case could not be measured; one line."""


class BenchCancelled(Exception):
    """The benchmark was stopped between (or inside) runs."""


@dataclass(frozen=True, slots=True)
class BenchCase:
    name: str
    messages: tuple[Message, ...]
    max_tokens: int  # the answer's bound, whatever the backend's setting


# About 1,500 tokens of realistic code context (the same text on every machine).
CODE_CONTEXT = '''\
"""Synchronise a local catalogue of products with the supplier's HTTP API."""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Iterator

import httpx

log = logging.getLogger(__name__)

PAGE_SIZE = 200
RETRY_STATUS = {429, 500, 502, 503, 504}


class SyncError(Exception):
    """The catalogue could not be synchronised; the message says why."""


@dataclass(frozen=True)
class Product:
    sku: str
    name: str
    price: Decimal
    stock: int
    tags: tuple[str, ...] = ()
    discontinued: bool = False

    @classmethod
    def from_api(cls, item: dict) -> "Product":
        try:
            return cls(
                sku=item["sku"].strip().upper(),
                name=item["name"].strip(),
                price=Decimal(str(item["price"])).quantize(Decimal("0.01")),
                stock=max(int(item.get("stock", 0)), 0),
                tags=tuple(sorted(set(item.get("tags") or ()))),
                discontinued=bool(item.get("discontinued", False)),
            )
        except (KeyError, ValueError, TypeError) as exc:
            raise SyncError(f"malformed product {item.get('sku', '?')}: {exc}") from None


@dataclass
class SyncReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0


class SupplierClient:
    def __init__(self, base_url: str, token: str, *, timeout: float = 10.0, retries: int = 3) -> None:
        self._http = httpx.Client(
            base_url=base_url,
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            timeout=timeout,
        )
        self._retries = retries

    def close(self) -> None:
        self._http.close()

    def _get(self, path: str, params: dict) -> dict:
        delay = 0.5
        for attempt in range(self._retries + 1):
            try:
                response = self._http.get(path, params=params)
            except httpx.TransportError as exc:
                if attempt == self._retries:
                    raise SyncError(f"supplier unreachable: {exc}") from None
            else:
                if response.status_code not in RETRY_STATUS:
                    response.raise_for_status()
                    return response.json()
                if attempt == self._retries:
                    raise SyncError(f"supplier answered {response.status_code} after {attempt + 1} tries")
                retry_after = response.headers.get("Retry-After")
                if retry_after and retry_after.isdigit():
                    delay = float(retry_after)
            log.warning("retrying %s in %.1fs (attempt %d)", path, delay, attempt + 1)
            time.sleep(delay)
            delay = min(delay * 2, 30.0)
        raise AssertionError("unreachable")

    def products(self, since: str | None = None) -> Iterator[dict]:
        cursor = None
        while True:
            params = {"limit": PAGE_SIZE}
            if cursor:
                params["cursor"] = cursor
            if since:
                params["updated_since"] = since
            page = self._get("/v2/products", params)
            yield from page.get("items", [])
            cursor = page.get("next_cursor")
            if not cursor:
                return


class Catalogue:
    def __init__(self, path: str) -> None:
        self._db = sqlite3.connect(path)
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS products (sku TEXT PRIMARY KEY, name TEXT, price TEXT,"
            " stock INTEGER, tags TEXT, discontinued INTEGER, synced_at REAL)"
        )

    def get(self, sku: str) -> Product | None:
        row = self._db.execute(
            "SELECT sku, name, price, stock, tags, discontinued FROM products WHERE sku = ?", (sku,)
        ).fetchone()
        if row is None:
            return None
        sku, name, price, stock, tags, discontinued = row
        return Product(sku, name, Decimal(price), stock, tuple(json.loads(tags)), bool(discontinued))

    def upsert(self, product: Product, now: float) -> None:
        self._db.execute(
            "INSERT INTO products VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(sku) DO UPDATE SET"
            " name = excluded.name, price = excluded.price, stock = excluded.stock,"
            " tags = excluded.tags, discontinued = excluded.discontinued, synced_at = excluded.synced_at",
            (product.sku, product.name, str(product.price), product.stock,
             json.dumps(list(product.tags)), int(product.discontinued), now),
        )

    def commit(self) -> None:
        self._db.commit()


def synchronise(client: SupplierClient, catalogue: Catalogue) -> SyncReport:
    report = SyncReport()
    started = time.monotonic()
    seen: set[str] = set()
    for item in client.products():
        try:
            product = Product.from_api(item)
        except SyncError as exc:
            report.failed[str(item.get("sku", "?"))] = str(exc)
            continue
        seen.add(product.sku)
        existing = catalogue.get(product.sku)
        if existing == product:
            continue
        catalogue.upsert(product, time.time())
        (report.updated if existing else report.added).append(product.sku)
    catalogue.commit()
    report.seconds = time.monotonic() - started
    return report
'''

SYSTEM = "You are a concise, expert programming assistant."
SHORT_QUESTION = "What does the acronym HTTP stand for? Answer in one short sentence."
LONG_QUESTION = (
    "Explain in detail, step by step, how a hash table stores and finds keys: hashing, "
    "buckets, collisions, load factor and resizing. Give examples in Python."
)
CONTEXT_SHORT_QUESTION = (
    f"Here is a module of our code base:\n\n```python\n{CODE_CONTEXT}```\n\n"
    "In one sentence: what does `synchronise` return?"
)
CONTEXT_LONG_QUESTION = (
    f"Here is a module of our code base:\n\n```python\n{CODE_CONTEXT}```\n\n"
    "Review this module in detail: list every bug and risk you find (retries, the cursor "
    "loop, the database, error handling) and show the corrected code for each."
)


def _case(name: str, question: str, max_tokens: int) -> BenchCase:
    return BenchCase(name, (Message("system", SYSTEM), Message("user", question)), max_tokens)


def bench_cases(*, quick: bool = False) -> tuple[BenchCase, ...]:
    """The four cases; `quick` bounds the answers tighter (16/64 tokens instead of 32/256)."""
    short, long = (QUICK_SHORT_ANSWER, QUICK_LONG_ANSWER) if quick else (SHORT_ANSWER, LONG_ANSWER)
    return (
        _case("short-prompt/short-answer", SHORT_QUESTION, short),
        _case("short-prompt/long-answer", LONG_QUESTION, long),
        _case("long-prompt/short-answer", CONTEXT_SHORT_QUESTION, short),
        _case("long-prompt/long-answer", CONTEXT_LONG_QUESTION, long),
    )


# -- identities ----------------------------------------------------------------


def _gib(n_bytes: int) -> str:
    return f"{n_bytes / 2**30:.0f} GiB"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name" and value.strip():
                return " ".join(value.split())
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def _total_memory() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def _gpu_names() -> str:
    exe = shutil.which("nvidia-smi")
    if exe is None:
        return "no GPU"
    try:
        out = subprocess.run(
            [exe, "--query-gpu=name", "--format=csv,noheader"],
            capture_output=True, text=True, timeout=GPU_QUERY_SECONDS, check=True,
        ).stdout  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return "no GPU"
    names = [line.strip() for line in out.splitlines() if line.strip()]
    if not names:
        return "no GPU"
    distinct = sorted(set(names), key=names.index)
    return ", ".join(f"{names.count(n)}× {n}" if names.count(n) > 1 else n for n in distinct)


@functools.cache
def machine_identity() -> str:
    """`host · CPU model · N cores · RAM · GPU` (computed once per process)."""
    memory = _total_memory()
    return " · ".join((
        socket.gethostname() or "unknown host",
        _cpu_model(),
        f"{physical_cores()} cores",
        _gib(memory) if memory else "? GiB",
        _gpu_names(),
    ))  # fmt: skip


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
    llama = getattr(backend, "llama", None)
    if llama is not None:
        llama.reset()


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
