"""What a refactor says about its checks, and the batch table: one wording for the
TUI's review and the command line.

The checks say which ran and what found them ("checks: syntax passed; tests
(pytest, found: tests/): passed (1.2 s)"), which wait for the user's yes, which
cannot run here and why, and, when no tests run, that plainly ("no tests found:
checked for syntax only"). The batch table is a boxed table on a terminal and
plain space-aligned rows in a pipe or a file, one row per file, never wrapped.
Everything is Text: a file name or a check's output is never read as markup.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from rich.cells import cell_len
from rich.table import Table
from rich.text import Text

from assistant.core.edits.checks import CheckPlan
from assistant.core.text import one_line
from assistant.core.workflows.refactor import Proposal
from assistant.render import format as fmt

PENDING = "run once you accept (they execute this code)"
COLUMNS = ("file", "backend", "outcome", "checks", "tokens in/out", "gen tok/s", "cost", "time", "commit")
NUMERIC = ("tokens in/out", "gen tok/s", "cost", "time")
GAP = "  "


def check_lines(proposal: Proposal, summary_lines: int = 2, *, with_plan: bool = True) -> Text:
    """The checks of `proposal`: which ran and how each ended (a failing one with
    the lines where it sums up), then, `with_plan`, those still to run, those that
    cannot run here, and what is left when no tests run. "" when there is nothing
    to say."""
    lines = [checks_line(proposal)] if proposal.changes else []
    for outcome in proposal.outcomes:
        if not outcome.passed:
            lines += [Text(f"  {line}", style="red") for line in outcome.summary_lines(summary_lines)]
    if with_plan:
        lines += plan_lines(proposal.plan, PENDING, proposal.pending, ran={o.name for o in proposal.outcomes})
    return Text("\n").join(line for line in lines if line)


def checks_line(proposal: Proposal) -> Text:
    """`checks: syntax passed; tests (pytest, found: tests/): passed (0.8 s)`."""
    parts = [] if not proposal.parses else [Text("syntax passed", style="green")]
    for outcome in proposal.outcomes:
        style = "yellow" if outcome.status == "not run" else "green" if outcome.passed else "bold red"
        parts.append(Text(outcome.line(), style=style))
    return Text("checks: ").append_text(Text("; ").join(parts)) if parts else Text()


def plan_lines(plan: CheckPlan, lead: str, pending: Sequence[str], *, ran: Collection[str] = ()) -> list[Text]:
    """The checks of `plan` still to run (the `pending` names, then `lead`), each one
    that cannot run here and why, and what an edit is checked for when no tests run."""
    lines = []
    waiting = [c.label() for c in plan.checks if c.name in pending]
    if waiting:
        lines.append(Text(f"{'; '.join(waiting)}: {lead}", style="dim"))
    lines += [Text(f"{c.label()}: not run: {c.missing}", style="yellow")
              for c in plan.checks if c.missing and c.name not in ran]
    runnable = [c.name for c in plan.runnable]
    if plan.no_tests or not runnable:
        checked = "syntax only" if not runnable else f"syntax and {' and '.join(runnable)} only"
        lines.append(Text(f"{plan.no_tests}: checked for {checked}" if plan.no_tests else f"checked for {checked}",
                          style="yellow"))
    return lines


# -- the batch table -------------------------------------------------------------------


def cells(row: dict[str, Any]) -> list[str]:
    """One file's row (as `refactor --json` gives it) as the table's cells."""
    checks = row["checks"]
    said = "–" if not checks else "does not parse" if not row["parses"] else ", ".join(
        ["syntax", *(f"{c['name']} {c['status']}" for c in checks[1:])])
    rate = row["tokens_per_second"]
    return [
        row["file"], row["backend"] or "–", row["outcome"] + (f" ({row['error']})" if row["error"] else ""), said,
        f"{row['tokens_in']:,} / {row['tokens_out']:,}", fmt.rate(rate) if rate else "–",
        fmt.cost(row["cost"]), fmt.seconds(row["seconds"]), row["commit"] or "–",
    ]  # fmt: skip


def batch_table(rows: Sequence[dict[str, Any]]) -> Table:
    """The table a terminal shows."""
    table = Table(title="Refactor", title_justify="left")
    for header in COLUMNS:
        table.add_column(header, justify="right" if header in NUMERIC else "left")
    for row in rows:
        table.add_row(*(Text(cell) for cell in cells(row)))  # a cell's str would be read as markup
    return table


def plain_rows(rows: Sequence[dict[str, Any]]) -> list[str]:
    """The table for a pipe or a file: a header and one line per file, the columns
    aligned with spaces (figures to the right), nothing wrapped or cut."""
    table = [list(COLUMNS), *([one_line(cell).replace("\t", " ") for cell in cells(row)] for row in rows)]
    widths = [max(cell_len(line[i]) for line in table) for i in range(len(COLUMNS))]

    def aligned(i: int, cell: str) -> str:
        pad = " " * (widths[i] - cell_len(cell))
        return pad + cell if COLUMNS[i] in NUMERIC else cell + pad

    return [GAP.join(aligned(i, cell) for i, cell in enumerate(line)).rstrip() for line in table]
