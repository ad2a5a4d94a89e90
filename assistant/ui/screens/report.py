"""`/report`: the measured capacity report (as `assistant report` prints it) and a
chart of tokens/sec over time per backend."""

from __future__ import annotations

import io
import statistics
import time
from typing import TYPE_CHECKING

from rich.console import Console
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Sparkline, Static
from assistant.core.accounting.report import read_report
from assistant.core.store.ledger import LedgerError
from assistant.render.report import print_report

if TYPE_CHECKING:
    from assistant.core.session.chat import ChatSession

DAYS = 30  # as `assistant report` by default
POINTS = 120  # turns per chart


class ReportScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    ReportScreen { align: center middle; }
    ReportScreen > VerticalScroll {
        width: 95%; height: 90%; border: round $accent; background: $surface; padding: 0 1;
    }
    ReportScreen .chart-label { margin-top: 1; }
    ReportScreen Sparkline { height: 3; margin-bottom: 1; }
    """
    BINDINGS = [Binding("escape", "dismiss_none", "Close"), Binding("q", "dismiss_none", "Close", show=False)]

    def __init__(self, session: ChatSession) -> None:
        super().__init__()
        self.session = session
        self.rendered: str | None = None  # the report's text once read (tests read it)
        self.series: dict[str, list[float]] = {}

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="report-body"):
            yield Static(Text("Reading the ledger…", style="dim"), id="report-text")

    def on_mount(self) -> None:
        self.query_one(VerticalScroll).border_title = f"Measured report · last {DAYS} days"
        self.query_one(VerticalScroll).border_subtitle = "Esc to close"
        self.load(max(self.app.size.width - 8, 60))

    @work(thread=True, exit_on_error=False)
    def load(self, width: int) -> None:
        ledger = self.session.ledger()
        if ledger is None:
            self.app.call_from_thread(self._show, f"The ledger cannot be read: {self.session.ledger_error}", {})
            return
        since = time.time() - DAYS * 86_400
        config = self.session.config
        try:
            records = ledger.turns(since=since)
            report = read_report(ledger, since=since, machine_per_hour=config.cost.local_machine_per_hour, records=records)
        except LedgerError as exc:
            self.app.call_from_thread(self._show, str(exc), {})
            return
        out = io.StringIO()
        console = Console(file=out, width=width, force_terminal=True, color_system="truecolor", markup=False)
        print_report(console, report, scope=f"last {DAYS} days", reference_model=config.cost.reference_model)
        series: dict[str, list[float]] = {}
        for r in records:
            if r.outcome == "ok" and r.tokens_per_second:
                series.setdefault(f"{r.backend} · {r.model}", []).append(r.tokens_per_second)
        self.app.call_from_thread(self._show, out.getvalue(), {k: v[-POINTS:] for k, v in series.items()})

    def _show(self, text: str, series: dict[str, list[float]]) -> None:
        if not self.is_attached:  # closed while the ledger was read
            return
        self.rendered = Text.from_ansi(text).plain
        self.series = series
        self.query_one("#report-text", Static).update(Text.from_ansi(text))
        body = self.query_one("#report-body", VerticalScroll)
        if not series:
            body.mount(Static(Text("No measured turns to chart yet.", style="dim"), classes="chart-label"))
            return
        for name, values in series.items():
            label = (
                f"{name}: tokens/sec over its last {len(values)} turns — "
                f"min {min(values):,.1f} · median {statistics.median(values):,.1f} · max {max(values):,.1f}"
            )
            body.mount(Static(label, classes="chart-label", markup=False))  # names come from the ledger
            body.mount(Sparkline(values, summary_function=max))

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
