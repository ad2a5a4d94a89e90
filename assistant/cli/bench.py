"""`assistant bench`: measure every backend on this machine, show and store the figures.

The measuring is `assistant.core.benchmark`'s, run in a worker thread so that
Ctrl-C stops it between tokens; the cases finished by then are still shown and
stored. Progress (per backend × case, and overall) goes to stderr, the tables or
`--json` to stdout, and the results to the ledger's `bench_runs`. Its flags are in
the one parser tree (`cli/parser.py`).
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
from collections.abc import Sequence
from dataclasses import asdict

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from assistant.cli.context import output, start
from assistant.cli.exits import EXIT_ERROR, exit_interrupted
from assistant.cli.interrupt import run_interruptibly
from assistant.core import plugins
from assistant.core.accounting.bench_results import QUICK_RUNS, RUNS, BenchResult
from assistant.core.backends.protocol import Backend
from assistant.core.benchmark.cases import BenchCase, bench_cases
from assistant.core.benchmark.measure import bench
from assistant.core.config import Config
from assistant.core.paths import Paths
from assistant.core.store.ledger import Ledger, LedgerError
from assistant.render import format as fmt

WARMUP = 1


def memory(n_bytes: int | None) -> str:
    if n_bytes is None:
        return fmt.DASH
    return f"{n_bytes / 2**30:.2f} GiB" if n_bytes >= 2**30 else f"{n_bytes / 2**20:.0f} MiB"


def _rate(tokens_per_second: float | None) -> str:
    return fmt.rate(tokens_per_second).removesuffix(" tok/s")  # the column says tok/s


def results_tables(results: Sequence[BenchResult]) -> list[Table]:
    """One table per backend and model, in the order they were measured."""
    groups: dict[tuple[str, str], list[BenchResult]] = {}
    for result in results:
        groups.setdefault((result.backend, result.model), []).append(result)
    tables = []
    for (backend, model), rows in groups.items():
        at_once = rows[0].concurrency
        streams = f" · {at_once} streams at once" if at_once > 1 else ""
        table = Table(title=f"{backend} · {model}", caption=f"{rows[0].machine} · median of {rows[0].runs} run(s){streams}")
        table.add_column("prompt/\nanswer", no_wrap=True)
        headers = ["prompt\ntokens", "answer\ntokens", "prompt\ntok/s", "gen\ntok/s", "TTFT", "TTFT\nspread", "peak\nmemory"]
        for header in headers + ([f"all {at_once}\ntok/s"] if at_once > 1 else []):
            table.add_column(header, justify="right", no_wrap=True)
        for r in rows:
            table.add_row(
                r.case.replace("-prompt", "").replace("-answer", ""),  # "long-prompt/short-answer": "long/short"
                fmt.count(r.prompt_tokens),
                fmt.count(r.completion_tokens),
                _rate(r.prompt_tps),
                _rate(r.generation_tps),
                fmt.seconds(r.ttft),
                fmt.seconds(r.ttft_spread),
                memory(r.peak_memory_bytes),
                *([_rate(r.aggregate_tps)] if at_once > 1 else []),
            )
        tables.append(table)
    return tables


def results_json(results: Sequence[BenchResult]) -> str:
    """`bench --json`: the results as the shipped schema has them (assistant/data/run.schema.json)."""
    return json.dumps({"version": 1, "results": [asdict(r) for r in results]}, indent=2)


class _Display:
    """The progress bars: one per backend × case as it starts, and one overall."""

    def __init__(self, progress: Progress, backends: int, cases: int, runs_per_case: int) -> None:
        self.progress = progress
        self.per_backend = cases * runs_per_case
        self.overall = progress.add_task("overall", total=backends * self.per_backend)
        self._tasks: dict[tuple[str, str], TaskID] = {}
        self._done: dict[tuple[str, str], int] = {}
        self._backends_done = 0

    def case_progress(self, backend: str, case: str, done: int, total: int) -> None:
        key = (backend, case)
        if key not in self._tasks:
            self._tasks[key] = self.progress.add_task(f"{backend} · {case}", total=total)
        self.progress.update(self._tasks[key], completed=done)
        self._done[key] = done
        finished = sum(n for (b, _), n in self._done.items() if b == backend)
        self.progress.update(self.overall, completed=self._backends_done * self.per_backend + finished)

    def backend_done(self) -> None:
        self._backends_done += 1
        self.progress.update(self.overall, completed=self._backends_done * self.per_backend)

    def say(self, line: str) -> None:
        self.progress.console.print(line, markup=False, highlight=False, soft_wrap=True)


def _measure_all(
    config: Config, names: Sequence[str], cases: Sequence[BenchCase], runs: int, display: _Display,
    cancel: threading.Event, concurrency: int = 1,
) -> list[BenchResult]:
    """One backend at a time, closed after its cases: two local models are never loaded at once."""
    results: list[BenchResult] = []
    for name in names:
        if cancel.is_set():
            break
        backend: Backend = plugins.create_backend(config, name)
        try:
            results += bench([backend], cases, runs, warmup=WARMUP, cancel=cancel,
                             on_progress=display.case_progress, report=display.say, concurrency=concurrency)  # fmt: skip
        finally:
            backend.close()
        display.backend_done()
    return results


def cmd_bench(config: Config, paths: Paths, args: argparse.Namespace) -> int:
    names = list(dict.fromkeys(args.bench_backends or [p.name for p in plugins.list_backends()]))
    if not names:
        print("assistant: no backend is installed", file=sys.stderr)
        return EXIT_ERROR
    runs = args.runs if args.runs is not None else (QUICK_RUNS if args.quick else RUNS)
    cases = bench_cases(quick=args.quick)
    out, err = output(), output(stderr=True)
    cancel = threading.Event()
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err, transient=False) as progress:
        display = _Display(progress, len(names), len(cases), WARMUP + runs)

        results, interrupted = run_interruptibly(
            lambda: _measure_all(config, names, cases, runs, display, cancel, args.concurrency), cancel, name="bench"
        )
    if not results:
        err.print("assistant: nothing was measured" + (" (interrupted)" if interrupted else ""), markup=False, soft_wrap=True)
        return exit_interrupted(interrupted) if interrupted else EXIT_ERROR
    if args.json:
        sys.stdout.write(results_json(results) + "\n")
    else:
        for table in results_tables(results):
            out.print(table)
    code = exit_interrupted(interrupted) if interrupted else 0
    try:
        with Ledger.open(paths.ledger_file) as ledger:
            ledger.record_bench(results)
    except LedgerError as exc:
        err.print(f"assistant: not stored: {exc}", markup=False, soft_wrap=True)
        return code or EXIT_ERROR
    return code


def run(paths: Paths, args: argparse.Namespace) -> int:
    """`assistant bench`, as the dispatch table runs it."""
    return cmd_bench(start(paths, args), paths, args)
