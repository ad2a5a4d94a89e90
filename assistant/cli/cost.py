"""`assistant cost`: what sessions cost and how fast they were, from the ledger."""

from __future__ import annotations

import argparse
import sys
import time

from assistant.cli.context import output, start
from assistant.cli.exits import EXIT_USAGE, HOW_TO_MEASURE, fail, nothing_recorded
from assistant.core.accounting.cost_summary import parse_since, summarize
from assistant.core.accounting.tasks import summarize_tasks
from assistant.core.paths import Paths
from assistant.core.store.ledger import Ledger, LedgerError
from assistant.render.cost import cost_table, summary_csv, summary_json, tasks_line


def cmd_cost(paths: Paths, args: argparse.Namespace) -> int:
    start(paths, args)  # a broken config is said here as by every other command
    path = paths.ledger_file
    since: float | None = None
    if args.since and not args.all:
        try:
            since = parse_since(args.since, time.time())
        except ValueError as exc:
            return fail(str(exc), EXIT_USAGE)
    records: list = []
    tasks: list = []
    scope = "all turns" if args.all else f"since {args.since}" if args.since else "the last session"
    if Ledger.recorded(path):
        try:
            with Ledger.open_to_read(path) as ledger:
                if args.all:
                    records, tasks = ledger.turns(), ledger.tasks()
                elif args.since:
                    records, tasks = ledger.turns(since=since), ledger.tasks(since=since)
                elif (session_id := args.session or ledger.last_session_id()) is not None:
                    records, scope = ledger.turns(session_id=session_id), f"session {session_id}"
                    tasks = ledger.tasks(session_id=session_id)
        except LedgerError as exc:
            return fail(str(exc))
    if not records and args.session:
        return fail(f"no turns recorded for session {args.session}")  # a session named that has none
    nothing = None if records else f"no turns recorded ({scope})"
    summary, task_totals = summarize(records, by=args.by), summarize_tasks(tasks)
    if args.json:  # a valid summary, empty when nothing is recorded, with the reason
        said = nothing and f"{nothing}: {HOW_TO_MEASURE}"
        sys.stdout.write(summary_json(summary, reason=said, tasks=task_totals) + "\n")
    elif nothing and not args.csv:
        return nothing_recorded(nothing)
    elif args.csv:
        sys.stdout.write(summary_csv(summary))
    else:
        console = output()  # a pipe or a file gets every column; a terminal, what fits
        width = console.width if console.is_terminal else None
        console.print(cost_table(summary, title=f"Cost · {scope} · by {args.by}", width=width))
        if task_totals is not None:  # the tasks among those turns
            console.print(tasks_line(task_totals), highlight=False)
    return 0
