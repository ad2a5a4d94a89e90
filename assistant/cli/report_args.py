"""The `report` and `plan` subcommands' flags, apart from the commands: building
the argument parser must not import the report (start-up)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

DEFAULT_SINCE = "30d"  # measured rates should describe today's models and machine


def add_parsers(sub: Any, setting_flags: Callable[[argparse.ArgumentParser], None] | None = None) -> None:
    """Add `report` and `plan` to the subcommands `sub`; `setting_flags` adds the
    config-override flags (`--set …`) to each, as the other subcommands have."""
    report = sub.add_parser(
        "report", help="measured speed, latency, cost per million tokens and daily capacity, from the ledger"
    )
    scope = report.add_mutually_exclusive_group()
    scope.add_argument(
        "--since", metavar="WHEN", help=f"turns since: 7d, 12h, 2w, or a date (default: {DEFAULT_SINCE})"
    )
    scope.add_argument("--all", action="store_true", help="every turn recorded")
    report.add_argument("--json", action="store_true", help="exact figures as JSON")

    plan = sub.add_parser("plan", help="what a workload would take on Claude, local and hybrid, at measured rates")
    plan.add_argument("--workload", metavar="FILE", help="a TOML file of workloads (default: the built-in scenarios)")
    plan.add_argument("--scenario", metavar="NAME", help="only this workload (built-in: spec-week, refactor-sprint)")
    plan.add_argument("--json", action="store_true", help="exact figures as JSON")
    if setting_flags is not None:
        setting_flags(report)
        setting_flags(plan)
