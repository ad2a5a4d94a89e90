"""`/report`: the measured capacity report (as `assistant report` prints it) and a
chart of tokens/sec over time per backend."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Sparkline, Static
from assistant.core.accounting.report import SpeedSeries, read_report, speed_series
from assistant.core.store.ledger import LedgerError
from assistant.render.report import report_renderable, series_label

if TYPE_CHECKING:
    from rich.console import RenderableType

    from assistant.core.session.chat import ChatSession

DAYS = 30  # as `assistant report` by default


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
        #: What the screen shows once the ledger is read (None until then), and the charts' series.
        self.body: RenderableType | None = None
        self.series: tuple[SpeedSeries, ...] = ()

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="report-body"):
            yield Static(Text("Reading the ledger…", style="dim"), id="report-text")

    def on_mount(self) -> None:
        self.query_one(VerticalScroll).border_title = f"Measured report · last {DAYS} days"
        self.query_one(VerticalScroll).border_subtitle = "Esc to close"
        self.load()

    @work(thread=True, exit_on_error=False)
    def load(self) -> None:
        """Read the ledger off the UI thread; the figures and series come from core."""
        ledger = self.session.ledger()
        if ledger is None:
            self.app.call_from_thread(self._show, Text(f"The ledger cannot be read: {self.session.ledger_error}"), ())
            return
        since = time.time() - DAYS * 86_400
        config = self.session.config
        try:
            records = ledger.turns(since=since)
            report = read_report(ledger, since=since, machine_per_hour=config.cost.local_machine_per_hour, records=records)
        except LedgerError as exc:
            self.app.call_from_thread(self._show, Text(str(exc)), ())
            return
        body = report_renderable(report, scope=f"last {DAYS} days", reference_model=config.cost.reference_model)
        self.app.call_from_thread(self._show, body, speed_series(records))

    def _show(self, body: RenderableType, series: tuple[SpeedSeries, ...]) -> None:
        if not self.is_attached:  # closed while the ledger was read
            return
        self.body, self.series = body, series
        self.query_one("#report-text", Static).update(body)
        scroll = self.query_one("#report-body", VerticalScroll)
        if not series:
            scroll.mount(Static(Text("No measured turns to chart yet.", style="dim"), classes="chart-label"))
            return
        for one in series:
            scroll.mount(Static(series_label(one), classes="chart-label", markup=False))  # names come from the ledger
            scroll.mount(Sparkline(one.tps, summary_function=max))

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
