"""`assistant refactor` and `assistant undo` on the command line.

One file: the proposal's diff is printed and the user answers y/n (or `--yes`).
Several files: they are proposed concurrently within each backend's limits,
with a progress bar per file and overall, then reviewed one by one (or applied
with `--yes`), each in its own commit; one file failing does not stop the
others. A final table gives file, backend, outcome, tokens, cost and time.
"""

from __future__ import annotations

import argparse
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.syntax import Syntax
from rich.table import Table

from assistant import format as fmt
from assistant.core.chat import AUTO, ChatSession
from assistant.core.config import Config
from assistant.core.edits.types import EditError
from assistant.core.events import RouteDecided, TextDelta
from assistant.core.refactor import Proposal, Refactorer, diff_stats, unified_diff


def project_root(start: Path) -> Path:
    """The enclosing git work tree's root, else `start`."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / ".git").exists():
            return folder
    return start


@dataclass
class Outcome:
    path: str
    proposal: Proposal | None = None
    status: str = "waiting"
    commit: str = ""


def _session(config: Config) -> ChatSession:
    """`--backend NAME` fixes who proposes; the default (auto) lets the router decide."""
    from assistant.core.ledger import Ledger

    return ChatSession(config, ledger=Ledger.open, project_root=project_root(Path.cwd()))


def show_proposal(console: Console, proposal: Proposal) -> None:
    result = proposal.result
    if result is not None and result.decision is not None:
        console.print(f"[dim]{result.backend} · {result.model} — {fmt.route_badge(result.decision)}[/dim]")
    if not proposal.ok:
        console.print(f"[bold red]{proposal.path}: not applied:[/] {proposal.error}")
        return
    for change in proposal.changes:
        console.print(Syntax(unified_diff(change), "diff", theme="ansi_dark", background_color="default"))
    added, removed = diff_stats(proposal.changes)
    extra = f" · {proposal.fuzzy} block(s) matched ignoring whitespace" if proposal.fuzzy else ""
    retried = " · after one retry" if proposal.retried else ""
    console.print(f"[bold]+{added} −{removed}[/] · {fmt.cost(proposal.cost)} · {fmt.seconds(proposal.seconds)}{extra}{retried}")


def _confirm(question: str) -> bool:
    if sys.stdin is None or not sys.stdin.isatty():
        line = sys.stdin.readline() if sys.stdin is not None else ""
    else:
        line = input(question)
    return line.strip().lower() in ("y", "yes")


def cmd_refactor(
    config: Config, args: argparse.Namespace, *, session: ChatSession | None = None, console: Console | None = None
) -> int:
    """`session` and `console`: tests hand in scripted backends and a recording console."""
    from assistant.core.edits.files import cleanup_pending
    from assistant.core.limits import BackendLimits

    console = console or Console(stderr=False)
    session = session or _session(config)
    root = session.project_root
    cleanup_pending(root)
    refactorer = Refactorer(session, root)
    forced = None if config.general.backend == AUTO else config.general.backend
    outcomes = [Outcome(p) for p in args.paths]
    cancel = threading.Event()
    if len(outcomes) > 1:
        local = {name for name in session.pool.names() if session.pool.get(name).capabilities.local}
        session.limiter = BackendLimits(session.config, local)
    try:
        _propose_all(console, refactorer, outcomes, args.message, forced, cancel)
        apply_lock = threading.Lock()
        for outcome in outcomes:
            proposal = outcome.proposal
            if proposal is None:
                continue
            if len(outcomes) > 1:
                console.rule(outcome.path)
            show_proposal(console, proposal)
            if not proposal.ok:
                outcome.status = "failed"
                continue
            if not args.yes and not _confirm(f"Apply to {outcome.path}? [y/N] "):
                outcome.status = "rejected"
                refactorer.record_outcome(proposal, "rejected")
                continue
            with apply_lock:
                try:
                    committed = refactorer.apply(proposal)
                except EditError as exc:
                    console.print(f"[bold red]{outcome.path}: not applied:[/] {exc}")
                    outcome.status = "failed"
                    continue
            outcome.status = "applied"
            outcome.commit = (committed.commit or committed.backup_id or "")[:10]
            console.print(f"applied {outcome.path}" + (f" · commit {outcome.commit}" if outcome.commit else ""))
    except KeyboardInterrupt:
        cancel.set()
        console.print("cancelled")
        return 130
    finally:
        session.close()
    if len(outcomes) > 1:
        console.print(_table(outcomes))
    return 0 if all(o.status in ("applied", "rejected") for o in outcomes) else 1


def _propose_all(
    console: Console, refactorer: Refactorer, outcomes: list[Outcome], instruction: str,
    forced: str | None, cancel: threading.Event,
) -> None:
    progress = Progress(
        TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[state]}"), TimeElapsedColumn(),
        console=console, transient=len(outcomes) == 1,
    )
    with progress:
        overall = progress.add_task("[bold]all files", total=len(outcomes), state="")
        tasks = {o.path: progress.add_task(o.path, total=None, state="waiting") for o in outcomes}

        def work(outcome: Outcome) -> None:
            task: TaskID = tasks[outcome.path]
            tokens = 0

            def on_event(event: object) -> None:
                nonlocal tokens
                if isinstance(event, RouteDecided):
                    progress.update(task, state=f"→ {event.decision.backend}")
                elif isinstance(event, TextDelta):
                    tokens += event.tokens
                    progress.update(task, state=f"{tokens} tokens")

            try:
                outcome.proposal = refactorer.propose(outcome.path, instruction, cancel, on_event, forced=forced)
            except Exception as exc:  # one file failing does not stop the others
                outcome.proposal = Proposal(outcome.path, instruction, error=f"{type(exc).__name__}: {exc}")
            done = "proposed" if outcome.proposal.ok else "failed"
            progress.update(task, total=1, completed=1, state=done)
            progress.advance(overall)

        workers = max(1, min(len(outcomes), refactorer.config.edits.claude_concurrency + 1))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="refactor") as pool:
            list(pool.map(work, outcomes))


def _table(outcomes: list[Outcome]) -> Table:
    table = Table(title="Refactor", title_justify="left")
    for header in ("file", "backend", "outcome", "tokens in/out", "cost", "time", "commit"):
        table.add_column(header, justify="right" if header in ("tokens in/out", "cost", "time") else "left")
    for o in outcomes:
        p = o.proposal
        results = p.results if p else ()
        tokens_in = sum(r.stats.tokens_in or 0 for r in results)
        tokens_out = sum(r.stats.tokens_out for r in results)
        backend = results[-1].backend if results else "–"
        why = f" ({p.error})" if p is not None and p.error and o.status == "failed" else ""
        table.add_row(
            o.path, backend, o.status + why, f"{tokens_in:,} / {tokens_out:,}",
            fmt.cost(p.cost if p else None), fmt.seconds(p.seconds if p else None), o.commit or "–",
        )
    return table


def cmd_undo(config: Config) -> int:
    from assistant.core.edits.vcs import VcsError, Workspace

    try:
        said = Workspace(project_root(Path.cwd()), dirty=config.edits.dirty).undo()  # type: ignore[arg-type]
    except VcsError as exc:
        print(f"assistant: {exc}", file=sys.stderr)
        return 1
    print(said)
    return 0
