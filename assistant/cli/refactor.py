"""`assistant refactor` and `assistant undo` on the command line.

One file: the proposal's diff is printed and the user answers y/n (or `--yes`).
The project's checks, which execute the proposed code, run after that yes by
default (`[edits] checks`); an edit one of them fails is written only on a
second yes, never with `--yes`.
Several files: they are proposed concurrently within each backend's limits,
with a progress bar per file and overall, then reviewed one by one (or applied
with `--yes`), each in its own commit; one file failing does not stop the
others. A final table gives file, backend, outcome, tokens, cost and time.

The project root is `core.project`'s (the git work tree's top, else the current
folder); each PATH is typed relative to the current folder and known by its path
relative to the root in every message, the table and the commit. Before writing,
the files the edit will write are named; it writes only the files named on the
command line, and a new file only with `--allow-new`. Nothing from outside (the
model's text, an error, a file name) is ever read as Rich markup.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from assistant.cli.context import start
from assistant.cli.exits import exit_interrupted
from assistant.cli.exits import fail as _fail
from assistant.cli.interrupt import signal_of
from assistant.core.accounting.metrics import TurnMetrics
from assistant.core.config import Config
from assistant.core.edits.checks import cleanup_scratch
from assistant.core.edits.files import cleanup_pending
from assistant.core.edits.types import EditError
from assistant.core.edits.vcs import VcsError, Workspace
from assistant.core.events import RouteDecided, TextDelta
from assistant.core.paths import Paths
from assistant.core.project import OutsideProject, find_root, typed_path
from assistant.core.session.chat import AUTO, ChatSession
from assistant.core.store.ledger import Ledger, LedgerError
from assistant.core.workflows.refactor import Checked, Proposal, Refactorer, diff_stats, undo_edit, unified_diff
from assistant.render import format as fmt


@dataclass
class Outcome:
    path: str  # relative to the project root: how every message and the table name it
    proposal: Proposal | None = None
    status: str = "waiting"
    commit: str = ""


def _session(config: Config, root: Path, *, batch: bool) -> ChatSession:
    """`--backend NAME` fixes who proposes; the default (auto) lets the router decide.
    `batch`: several files are proposed at once, each backend within its limits."""
    return ChatSession(config, ledger=Ledger.open, project_root=root, batch=batch)


def project_paths(typed: Sequence[str], root: Path) -> list[str]:
    """The root-relative paths of what the user typed, standing in the current folder;
    `OutsideProject` for the first that leads out of the project."""
    cwd = Path.cwd()
    return list(dict.fromkeys(typed_path(t, root=root, cwd=cwd) for t in typed))


def show_proposal(console: Console, proposal: Proposal, shown: Callable[[str], str] = str) -> None:
    """The proposal's diffs and figures. Everything the model, a backend or a file name
    brings is printed as text, never read as Rich markup."""
    result = proposal.result
    if result is not None and result.decision is not None:
        console.print(Text(f"{result.backend} · {result.model} — {fmt.route_badge(result.decision)}", style="dim"))
    if not proposal.ok:
        console.print(Text.assemble((f"{proposal.path}: not applied: ", "bold red"), str(proposal.error)))
        return
    for change in proposal.changes:
        new = " (new file)" if change.before is None else ""
        console.print(Text(shown(change.path) + new, style="bold"))
        console.print(Syntax(unified_diff(change), "diff", theme="ansi_dark", background_color="default"))
    added, removed = diff_stats(proposal.changes)
    extra = f" · {proposal.fuzzy} block(s) matched ignoring whitespace" if proposal.fuzzy else ""
    retried = " · after one retry" if proposal.retried else ""
    figures = f" · {fmt.cost(proposal.cost)} · {fmt.seconds(proposal.seconds)}{extra}{retried}"
    console.print(Text.assemble((f"+{added} −{removed}", "bold"), figures))
    for line in proposal.refused:
        console.print(Text(f"not written: {line}", style="yellow"))
    if not proposal.parses:
        console.print(Text("does not parse (after one repair round):", style="bold red"))
        for line in proposal.syntax_lines():
            console.print(Text(f"  {line}", style="red"))
    show_outcomes(console, proposal)
    if proposal.pending:
        console.print(Text(f"{', '.join(proposal.pending)}: run once you accept (they execute this code)", style="dim"))


def show_outcomes(console: Console, proposal: Proposal) -> None:
    """Each check's outcome, with the summary lines of one that did not pass."""
    for outcome in proposal.outcomes:
        console.print(Text(outcome.line(), style="green" if outcome.passed else "bold red"))
        if outcome.output and not outcome.passed:
            console.print(Text("\n".join("  " + line for line in outcome.summary_lines(8)), style="red"))


def to_write(console: Console, proposal: Proposal, allow_new: bool) -> list[str]:
    """The files of `proposal` that will be written: a new file nobody named only with
    `--allow-new` (each one left out is said)."""
    paths = []
    for change in proposal.changes:
        if change.path in proposal.unasked and not allow_new:
            console.print(Text(f"not written: {change.path}: a new file you did not name (--allow-new allows it)",
                               style="yellow"))
        else:
            paths.append(change.path)
    return paths


def _confirm(question: str) -> bool:
    if sys.stdin is None or not sys.stdin.isatty():
        line = sys.stdin.readline() if sys.stdin is not None else ""
    else:
        line = input(question)
    return line.strip().lower() in ("y", "yes")


def cmd_refactor(
    config: Config, args: argparse.Namespace, *, session: ChatSession | None = None, console: Console | None = None
) -> int:
    """`session` and `console`: tests hand in scripted backends and a recording console.
    A session handed in stays open: whoever made it closes it (and makes it with
    `batch=True` for several files)."""
    owned = session is None
    root = session.project_root if session is not None else find_root()
    try:
        paths = project_paths(args.paths, root)
    except OutsideProject as exc:  # before any model is asked
        return _fail(str(exc), 2)
    allow_new = bool(getattr(args, "allow_new", False))
    as_json = bool(getattr(args, "json", False))
    console = console or Console(stderr=as_json)  # with --json, stdout holds the JSON alone
    try:  # a repository that cannot take the commit is refused before any model is paid
        for note in Workspace(root).ready(paths):
            console.print(Text(note, style="yellow"))
    except EditError as exc:
        return _fail(str(exc))
    session = session or _session(config, root, batch=len(paths) > 1)
    cleanup_pending(root)
    cleanup_scratch(Paths.resolve())  # scratch copies of checks a killed run left
    refactorer = Refactorer(session, root)
    forced = None if config.general.backend == AUTO else config.general.backend
    outcomes = [Outcome(p) for p in paths]
    cancel = threading.Event()
    try:
        _propose_all(console, refactorer, outcomes, args.message, forced, cancel, named=paths)
        for outcome in outcomes:
            _review(console, refactorer, outcome, yes=args.yes, allow_new=allow_new, batch=len(outcomes) > 1)
    except KeyboardInterrupt as stop:  # Ctrl+C, or SIGTERM/SIGHUP as Ctrl+C (cli/interrupt.py)
        cancel.set()
        console.print("cancelled")
        return exit_interrupted(signal_of(stop))
    finally:
        if owned:
            session.close()
    if as_json:
        sys.stdout.write(json.dumps({"version": 1, "files": _rows(outcomes)}, ensure_ascii=True) + "\n")
    elif len(outcomes) > 1:
        console.print(_table(outcomes))
    return 0 if all(o.status in ("applied", "rejected") for o in outcomes) else 1


def _review(
    console: Console, refactorer: Refactorer, outcome: Outcome, *, yes: bool, allow_new: bool, batch: bool
) -> None:
    """Show one file's proposal, say which files it will write, ask, apply and commit."""
    proposal = outcome.proposal
    if proposal is None:
        return
    if batch:
        console.rule(Text(outcome.path))
    show_proposal(console, proposal, refactorer.shown)
    writing = to_write(console, proposal, allow_new) if proposal.ok else []
    if not writing:
        outcome.status = "failed"
        return
    if yes and not proposal.checks_pass:  # unattended, only what parses and passes its checks is written
        why = "the edit does not parse" if not proposal.parses else "its checks do not pass"
        console.print(Text(f"{outcome.path}: not applied: {why}", style="bold red"))
        outcome.status = "failed"
        refactorer.record_outcome(proposal, "failed")
        return
    new = {c.path for c in proposal.changes if c.before is None}
    names = [refactorer.shown(p) + (" (new)" if p in new else "") for p in writing]
    console.print(Text("will write: " + ", ".join(names)))
    if not yes and not _confirm(f"Apply to {', '.join(names)}? [y/N] "):
        outcome.status = "rejected"
        refactorer.record_outcome(proposal, "rejected")
        return
    try:
        checked = _check_accepted(console, refactorer, proposal, writing, allow_new)
        outcome.proposal = proposal = checked.proposal
        if checked.verdict != "apply" and not _second_yes(console, refactorer, outcome, checked, yes=yes):
            return
        committed = refactorer.apply(proposal, writing, allow_new=allow_new)
    except EditError as exc:
        console.print(Text.assemble((f"{outcome.path}: not applied: ", "bold red"), str(exc)))
        outcome.status = "failed"
        return
    outcome.status = "applied"
    outcome.commit = (committed.commit or committed.backup_id or "")[:10]
    console.print(Text(f"applied {', '.join(names)}" + (f" · commit {outcome.commit}" if outcome.commit else "")))


def _check_accepted(
    console: Console, refactorer: Refactorer, proposal: Proposal, writing: list[str], allow_new: bool
) -> Checked:
    """The checks left for after the yes. They run in a worker so that Ctrl+C, which
    lands in this thread, can cancel them (their process group is then killed)
    before it ends the command."""
    if not proposal.pending:
        return refactorer.check_accepted(proposal, writing, threading.Event(), allow_new=allow_new)
    console.print(Text(f"running {', '.join(proposal.pending)} on a scratch copy…", style="dim"))
    cancel = threading.Event()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="checks") as pool:
        running = pool.submit(refactorer.check_accepted, proposal, writing, cancel, allow_new=allow_new)
        try:
            checked = running.result()
        except BaseException:
            cancel.set()
            raise
    show_outcomes(console, checked.proposal)
    return checked


def _second_yes(console: Console, refactorer: Refactorer, outcome: Outcome, checked: Checked, *, yes: bool) -> bool:
    """Whether an edit whose checks did not pass (or were cancelled) is applied all the
    same: only on a second yes typed by the user, never on --yes."""
    if checked.verdict == "cancelled":
        console.print(Text(f"{outcome.path}: not applied: cancelled while its checks ran", style="bold red"))
        outcome.status = "failed"
        return False
    if yes:
        console.print(Text(f"{outcome.path}: not applied: its checks do not pass", style="bold red"))
        outcome.status = "failed"
        refactorer.record_outcome(checked.proposal, "failed")
        return False
    if _confirm("Its checks do not pass. Apply anyway? [y/N] "):
        return True
    outcome.status = "rejected"
    refactorer.record_outcome(checked.proposal, "rejected")
    return False


def _propose_all(
    console: Console, refactorer: Refactorer, outcomes: list[Outcome], instruction: str,
    forced: str | None, cancel: threading.Event, *, named: Sequence[str] = (),
) -> None:
    """Propose every file at once, within each backend's limits. The bars' texts are
    markup templates, so the file names and states put in them are escaped."""
    progress = Progress(
        TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[state]}"), TimeElapsedColumn(),
        console=console, transient=len(outcomes) == 1,
    )
    with progress:
        overall = progress.add_task("[bold]all files", total=len(outcomes), state="")
        tasks = {o.path: progress.add_task(escape(o.path), total=None, state="waiting") for o in outcomes}

        def work(outcome: Outcome) -> None:
            task: TaskID = tasks[outcome.path]
            metrics = TurnMetrics()  # this file's live figures, as the status bar's are computed

            def on_event(event: object) -> None:
                nonlocal metrics
                if isinstance(event, RouteDecided):
                    metrics = TurnMetrics()  # a new turn (the repair round's too)
                    progress.update(task, state=escape(f"→ {event.decision.backend}"))
                elif isinstance(event, TextDelta):
                    metrics.observe(event)
                    live = metrics.snapshot()
                    progress.update(task, state=f"{live.tokens_out} tokens · {fmt.rate(live.generation_tps)}")

            try:
                outcome.proposal = refactorer.propose(
                    outcome.path, instruction, cancel, on_event, forced=forced,
                    named=[p for p in named if p != outcome.path], kind="batch" if len(outcomes) > 1 else "edit",
                )
            except Exception as exc:  # one file failing does not stop the others
                outcome.proposal = Proposal(outcome.path, instruction, error=f"{type(exc).__name__}: {exc}")
            done = "proposed" if outcome.proposal.ok else "failed"
            progress.update(task, total=1, completed=1, state=done)
            progress.advance(overall)

        session = refactorer.session  # as many workers as every backend together serves at once
        serves = sum(session.backend_named(n).capabilities.max_concurrency for n in session.backend_names())
        workers = max(1, min(len(outcomes), serves))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="refactor") as pool:
            try:
                list(pool.map(work, outcomes))
            except BaseException:  # Ctrl+C: the workers stop (turns, checks) before the pool waits for them
                cancel.set()
                raise


def _rows(outcomes: list[Outcome]) -> list[dict[str, Any]]:
    """Per file: what the batch table shows, as figures (`--json` prints them)."""
    rows = []
    for o in outcomes:
        p = o.proposal
        results = p.results if p else ()
        rates = [r.stats.generation_tps for r in results if r.stats.generation_tps]
        rows.append({
            "file": o.path,
            "backend": results[-1].backend if results else None,
            "outcome": o.status,
            "error": p.error if p is not None and p.error and o.status == "failed" else None,
            "parses": bool(p and p.changes and p.parses),
            "checks": [] if p is None or not p.changes else [
                *({"name": "syntax", "status": "passed" if p.parses else "failed"},),
                *({"name": c.name, "status": c.status} for c in p.outcomes)],
            "tokens_in": sum(r.stats.tokens_in or 0 for r in results),
            "tokens_out": sum(r.stats.tokens_out for r in results),
            "tokens_per_second": rates[-1] if rates else None,  # its last answer's, as its backend generated it
            "cost": p.cost if p else None,
            "seconds": p.seconds if p else None,
            "commit": o.commit or None,
        })  # fmt: skip
    return rows


def _table(outcomes: list[Outcome]) -> Table:
    table = Table(title="Refactor", title_justify="left")
    numeric = ("tokens in/out", "gen tok/s", "cost", "time")
    for header in ("file", "backend", "outcome", "checks", *numeric, "commit"):
        table.add_column(header, justify="right" if header in numeric else "left")
    for row in _rows(outcomes):
        checks = row["checks"]
        said = "–" if not checks else "does not parse" if not row["parses"] else ", ".join(
            ["syntax", *(f"{c['name']} {c['status']}" for c in checks[1:])])
        cells = (
            row["file"], row["backend"] or "–", row["outcome"] + (f" ({row['error']})" if row["error"] else ""), said,
            f"{row['tokens_in']:,} / {row['tokens_out']:,}", fmt.rate(row["tokens_per_second"]) if row["tokens_per_second"] else "–",
            fmt.cost(row["cost"]), fmt.seconds(row["seconds"]), row["commit"] or "–",
        )  # fmt: skip
        table.add_row(*(Text(cell) for cell in cells))  # a cell's str would be read as markup
    return table


def cmd_undo(config: Config) -> int:
    try:
        said = undo_edit(find_root(), config.edits.dirty, _ledger)
    except VcsError as exc:
        return _fail(str(exc))
    print(said)
    return 0


def run_refactor(paths: Paths, args: argparse.Namespace) -> int:
    """`assistant refactor`, as the dispatch table runs it."""
    return cmd_refactor(start(paths, args), args)


def run_undo(paths: Paths, args: argparse.Namespace) -> int:
    """`assistant undo`, as the dispatch table runs it."""
    return cmd_undo(start(paths, args))


def _ledger() -> Ledger | None:
    """The ledger, for recording an undo; None when it cannot be opened (the undo goes on)."""
    try:
        return Ledger.open()
    except LedgerError:
        return None
