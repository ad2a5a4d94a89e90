"""`assistant refactor` and `assistant undo` on the command line.

One file: the proposal's diff is printed and the user answers y/n (or `--yes`).
The project's checks (found in the project by default), which execute the
proposed code, run after that yes by default (`[edits] checks`); an edit one of
them fails is written only on a second yes, never with `--yes`. Without a
terminal to answer on and without `--yes`, nothing is written: the diff is
printed and the edit declined, with the exit code that says so.
Several files: they are proposed concurrently within each backend's limits,
with a progress bar per file and overall, then reviewed one by one (or applied
with `--yes`), each in its own commit; one file failing does not stop the
others. A final table gives file, backend, outcome, tokens, cost and time: boxed
on a terminal, plain aligned rows in a pipe or a file.

Exit codes, the worst outcome over the files: 0 every edit applied; 3 one
declined (a no, or no terminal to review on); 4 one refused by its checks (it
does not parse, or a check it fails); 1 an error (the model did not answer, the
edit did not apply); 2 bad usage; 128 + N a signal N.

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
from rich.text import Text

from assistant.cli.context import backend_named_by, confirm, start
from assistant.cli.exits import EXIT_ERROR, EXIT_OK, exit_interrupted
from assistant.cli.exits import fail as _fail
from assistant.cli.interrupt import signal_of
from assistant.core.accounting.metrics import TurnMetrics
from assistant.core.config import Config
from assistant.core.edits.checks import cleanup_scratch, configured
from assistant.core.edits.files import cleanup_pending
from assistant.core.edits.types import EditError
from assistant.core.edits.vcs import Workspace
from assistant.core.events import RouteDecided, TextDelta
from assistant.core.paths import Paths
from assistant.core.project import OutsideProject, find_root, typed_path
from assistant.core.session.chat import AUTO, ChatSession
from assistant.core.session.opening import CONFIG_NAMED
from assistant.core.session.rewind import Rewinder
from assistant.core.store.ledger import Ledger, LedgerError
from assistant.core.workflows.refactor import Checked, Proposal, Refactorer, diff_stats, undo_edit, unified_diff
from assistant.render import format as fmt
from assistant.render.refactor import batch_table, check_lines, plain_rows, plan_lines

EXIT_DECLINED = 3  # an edit not written because nobody said yes (a no, or no terminal to ask on)
EXIT_REFUSED = 4  # an edit not written because of its checks (it does not parse, or one fails)
NO_TERMINAL = "declined: no terminal to review; pass --yes to apply"


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


def show_proposal(console: Console, proposal: Proposal, shown: Callable[[str], str] = str, *,
                  with_plan: bool = True) -> None:
    """The proposal's diffs and figures, and its checks (`with_plan`: with those still
    to run, which a batch says once at its top). Everything the model, a backend or a
    file name brings is printed as text, never read as Rich markup; in a pipe or a
    file the diff is as `git diff` prints it, no line cut at any width."""
    result = proposal.result
    if result is not None and result.decision is not None:
        console.print(Text(f"{result.backend} · {result.model} — {fmt.route_badge(result.decision)}", style="dim"))
    if not proposal.ok:
        console.print(Text.assemble((f"{proposal.path}: not applied: ", "bold red"), str(proposal.error)))
        return
    for change in proposal.changes:
        new = " (new file)" if change.before is None else ""
        console.print(Text(shown(change.path) + new, style="bold"))
        if console.is_terminal:
            console.print(Syntax(unified_diff(change), "diff", theme="ansi_dark", background_color="default"))
        else:
            console.print(Text(unified_diff(change)), soft_wrap=True, end="")
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
    show_checks(console, proposal, with_plan=with_plan)


def show_checks(console: Console, proposal: Proposal, *, with_plan: bool = False) -> None:
    """Which checks ran and how each ended, with the summary lines of one that did not pass."""
    if said := check_lines(proposal, 8, with_plan=with_plan):
        console.print(said)


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


def exit_code(outcomes: Sequence[Outcome]) -> int:
    """The worst outcome over the files: an error, then refused by checks, then declined."""
    statuses = {o.status for o in outcomes}
    if statuses - {"applied", "rejected", "refused"}:
        return EXIT_ERROR
    if "refused" in statuses:
        return EXIT_REFUSED
    return EXIT_DECLINED if "rejected" in statuses else EXIT_OK


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
    if console is None:  # with --json, stdout holds the JSON alone
        console = Console(stderr=as_json)
        console.soft_wrap = not console.is_terminal  # a pipe or a file gets each line whole, never wrapped
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
    forced_by = (backend_named_by(args) or CONFIG_NAMED) if forced else ""
    outcomes = [Outcome(p) for p in paths]
    batch = len(outcomes) > 1
    if batch:  # which checks each file gets, said once
        plan = configured(config.edits, root)
        later = [c.name for c in plan.runnable] if config.edits.checks == "after_review" else []
        for line in plan_lines(plan, "run on each file once its diff is accepted", later):
            console.print(line)
    cancel = threading.Event()
    try:
        _propose_all(console, refactorer, outcomes, args.message, (forced, forced_by), cancel, named=paths)
        for outcome in outcomes:
            _review(console, refactorer, outcome, yes=args.yes, allow_new=allow_new, batch=batch)
    except KeyboardInterrupt as stop:  # Ctrl+C, or SIGTERM/SIGHUP as Ctrl+C (cli/interrupt.py)
        cancel.set()
        console.print("cancelled")
        return exit_interrupted(signal_of(stop))
    finally:
        if owned:
            session.close()
    if as_json:
        sys.stdout.write(json.dumps({"version": 1, "files": _rows(outcomes)}, ensure_ascii=True) + "\n")
    elif batch and console.is_terminal:
        console.print(batch_table(_rows(outcomes)))
    elif batch:
        for line in plain_rows(_rows(outcomes)):
            console.print(Text(line), soft_wrap=True)
    return exit_code(outcomes)


def _review(
    console: Console, refactorer: Refactorer, outcome: Outcome, *, yes: bool, allow_new: bool, batch: bool
) -> None:
    """Show one file's proposal, ask (or, with `yes`, say which files it will write),
    apply and commit."""
    proposal = outcome.proposal
    if proposal is None:
        return
    if batch:
        console.rule(Text(outcome.path))
    show_proposal(console, proposal, refactorer.shown, with_plan=not batch)
    writing = to_write(console, proposal, allow_new) if proposal.ok else []
    if not writing:
        outcome.status = "failed"
        return
    new = {c.path for c in proposal.changes if c.before is None}
    names = [refactorer.shown(p) + (" (new)" if p in new else "") for p in writing]
    answer = True if yes else confirm(f"Apply to {', '.join(names)}? [y/N] ")
    if not proposal.checks_pass and (yes or answer is None):  # unattended, only what passes its checks is written
        why = "the edit does not parse" if not proposal.parses else "its checks do not pass"
        console.print(Text(f"{outcome.path}: not applied: {why}", style="bold red"))
        outcome.status = "refused"
        refactorer.record_outcome(proposal, "failed")
        return
    if answer is None:
        console.print(Text(f"{outcome.path}: {NO_TERMINAL}", style="bold yellow"))
        outcome.status = "rejected"
        return
    if not answer:
        outcome.status = "rejected"
        refactorer.record_outcome(proposal, "rejected")
        return
    if yes:
        console.print(Text("will write: " + ", ".join(names)))
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
    labels = [c.label() for c in proposal.plan.checks if c.name in proposal.pending]
    console.print(Text(f"running {'; '.join(labels)} on a scratch copy…", style="dim"))
    cancel = threading.Event()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="checks") as pool:
        running = pool.submit(refactorer.check_accepted, proposal, writing, cancel, allow_new=allow_new)
        try:
            checked = running.result()
        except BaseException:
            cancel.set()
            raise
    show_checks(console, checked.proposal)
    return checked


def _second_yes(console: Console, refactorer: Refactorer, outcome: Outcome, checked: Checked, *, yes: bool) -> bool:
    """Whether an edit whose checks did not pass (or were cancelled) is applied all the
    same: only on a second yes typed by the user, never on --yes. Not applied, it is
    refused by its checks."""
    if checked.verdict == "cancelled":
        console.print(Text(f"{outcome.path}: not applied: cancelled while its checks ran", style="bold red"))
        outcome.status = "failed"
        return False
    if yes:
        console.print(Text(f"{outcome.path}: not applied: its checks do not pass", style="bold red"))
        outcome.status = "refused"
        refactorer.record_outcome(checked.proposal, "failed")
        return False
    if confirm("Its checks do not pass. Apply anyway? [y/N] "):
        return True
    outcome.status = "refused"
    refactorer.record_outcome(checked.proposal, "rejected")
    return False


def _propose_all(
    console: Console, refactorer: Refactorer, outcomes: list[Outcome], instruction: str,
    forced: tuple[str | None, str], cancel: threading.Event, *, named: Sequence[str] = (),
) -> None:
    """Propose every file at once, within each backend's limits; `forced`: the backend
    the user named, and how. The bars' texts are markup templates, so the file names
    and states put in them are escaped."""
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
                    outcome.path, instruction, cancel, on_event, forced=forced[0], forced_by=forced[1],
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


def cmd_undo(config: Config) -> int:
    root, ledger = find_root(), _ledger()
    try:
        said = undo_edit(root, config.edits.dirty, lambda: ledger, Rewinder(root, config, lambda: ledger))
    except EditError as exc:
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
