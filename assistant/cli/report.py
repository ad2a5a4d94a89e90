"""`assistant report` and `assistant plan` on the command line.

Formatting only: every figure comes from `assistant.core.accounting.report` and
`assistant.core.accounting.workloads`. Tables round through `assistant.render.format`; `--json`
carries the exact numbers, null where a figure is unknown, with its reason.

Imported only when one of the two runs (see `cli.commands.COMMANDS`).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.cli.context import output, start
from assistant.cli.exits import EXIT_USAGE, HOW_TO_MEASURE, fail as _fail, nothing_recorded
from assistant.cli.parser import DEFAULT_SINCE
from assistant.core import plugins
from assistant.core.accounting.cost_summary import parse_since
from assistant.core.accounting.report import Report, build_report, read_report
from assistant.core.accounting.workloads import (
    PlanLimits,
    WorkloadError,
    builtin_workloads,
    plan,
    rates_from_report,
    read_workloads,
)
from assistant.core.store.ledger import Ledger, LedgerError
from assistant.render.report import print_plans, report_renderable

if TYPE_CHECKING:
    from assistant.core.config import Config
    from assistant.core.paths import Paths


def _load(paths: Paths, since: float | None, machine_per_hour: float) -> Report | str:
    """The report of the ledger's turns since `since`, or why there is none."""
    path = paths.ledger_file
    if not Ledger.recorded(path):
        return build_report([], machine_per_hour=machine_per_hour)
    try:
        with Ledger.open_to_read(path) as ledger:  # reading only: a read-only file will do
            return read_report(ledger, since=since, machine_per_hour=machine_per_hour)
    except LedgerError as exc:
        return str(exc)


def _json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


# -- report ----------------------------------------------------------------------


def cmd_report(config: Config, paths: Paths, args: argparse.Namespace) -> int:
    since: float | None = None
    scope = "all turns"
    if not args.all:
        when = args.since or DEFAULT_SINCE
        try:
            since = parse_since(when, time.time())
        except ValueError as exc:
            return _fail(str(exc), EXIT_USAGE)
        scope = f"since {when}"
    report = _load(paths, since, config.cost.local_machine_per_hour)
    if isinstance(report, str):
        return _fail(report)
    nothing = None
    if not report.turns and not report.bench_runs:
        recorded = Ledger.recorded(paths.ledger_file)
        nothing = f"no turns recorded ({scope})" + ("" if args.all or not recorded else " (--all for every turn)")
    if args.json:  # a valid report, empty when nothing is recorded, with the reason
        _json({"scope": scope, "since": since, "reference_model": config.cost.reference_model,
               "reason": nothing and f"{nothing}: {HOW_TO_MEASURE}", **asdict(report)})
        return 0
    if nothing:
        return nothing_recorded(nothing)
    output().print(report_renderable(report, scope=scope, reference_model=config.cost.reference_model))
    return 0


def cmd_plan(config: Config, paths: Paths, args: argparse.Namespace) -> int:
    try:
        workloads = read_workloads(Path(args.workload)) if args.workload else builtin_workloads()
    except WorkloadError as exc:
        return _fail(str(exc))
    if args.scenario:
        chosen = [w for w in workloads if w.name == args.scenario]
        if not chosen:
            names = ", ".join(w.name for w in workloads)
            return _fail(f"no workload named {args.scenario!r}: choose {names}", EXIT_USAGE)
        workloads = tuple(chosen)
    # The rates `assistant report` shows by default: those of the last 30 days.

    report = _load(paths, parse_since(DEFAULT_SINCE, time.time()), config.cost.local_machine_per_hour)
    if isinstance(report, str):
        return _fail(report)
    rates = rates_from_report(report, machine_per_hour=config.cost.local_machine_per_hour)
    claude = plugins.create_backend(config, "claude").capabilities  # the plans' remote side, as configured
    limits = PlanLimits(claude.max_concurrency, claude.requests_per_second or math.inf)
    results = [plan(w, rates, limits) for w in workloads]
    measured = bool(report.turns or report.bench_runs)
    nothing = None if measured else f"nothing measured in the last {DEFAULT_SINCE}: {HOW_TO_MEASURE}"
    if args.json:
        _json({"rates": asdict(rates), "limits": asdict(limits), "plans": [asdict(r) for r in results],
               "reason": nothing})
        return 0
    console = output()
    print_plans(console, results, rates, limits, window=DEFAULT_SINCE)
    if nothing:
        console.print(f"{nothing[0].upper()}{nothing[1:]}.")
    return 0


def run_report(paths: Paths, args: argparse.Namespace) -> int:
    """`assistant report`, as the dispatch table runs it."""
    return cmd_report(start(paths, args), paths, args)


def run_plan(paths: Paths, args: argparse.Namespace) -> int:
    """`assistant plan`, as the dispatch table runs it."""
    return cmd_plan(start(paths, args), paths, args)
