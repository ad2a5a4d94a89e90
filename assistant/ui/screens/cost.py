"""`/cost`: what this session cost, per backend, read back from the ledger.

The figures are the ledger's rows, so the screen shows exactly what
`assistant cost` prints for this session. The read runs in a thread worker.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Group, RenderableType
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static
from assistant.core.accounting.cost_summary import summarize
from assistant.core.store.ledger import LedgerError
from assistant.render.cost import cost_table

if TYPE_CHECKING:
    from assistant.core.session.chat import ChatSession


class CostScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    CostScreen { align: center middle; }
    CostScreen > VerticalScroll {
        width: 95%;
        height: auto;
        max-height: 90%;
        border: round $accent;
        background: $surface;
        padding: 0 1;
    }
    """
    BINDINGS = [
        Binding("escape", "dismiss", "Close"),
        Binding("q", "dismiss", "Close", show=False),
    ]

    def __init__(self, session: ChatSession) -> None:
        super().__init__()
        self.session = session
        #: What the screen shows once the ledger is read (None until then).
        self.body: RenderableType | None = None

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(Text("Reading the ledger…", style="dim"), id="cost-body")

    def on_mount(self) -> None:
        self.query_one(VerticalScroll).border_title = "Session cost"
        self.query_one(VerticalScroll).border_subtitle = "Esc to close"
        self.load()

    @work(thread=True, exit_on_error=False)
    def load(self) -> None:
        body = summary_renderable(self.session, width=max(self.app.size.width - 8, 60))
        self.app.call_from_thread(self._show, body)

    def _show(self, body: RenderableType) -> None:
        if not self.is_attached:  # closed while the ledger was read
            return
        self.body = body
        self.query_one("#cost-body", Static).update(body)

    def action_dismiss(self) -> None:  # type: ignore[override]
        self.dismiss(None)


def summary_renderable(session: ChatSession, *, width: int) -> RenderableType:
    ledger = session.ledger()
    if ledger is None:
        reason = session.ledger_error or "no ledger"
        return Text(f"The ledger cannot be read: {reason}", style="bold red")
    ids = session.status().session_ids  # each /clear stores a new chat; the session spent for them all
    try:
        records = ledger.turns(session_ids=ids) if ids else []
    except LedgerError as exc:
        return Text(str(exc), style="bold red")
    if not records:
        return Text("No turns yet in this session.", style="dim")
    by_backend = summarize(records, by="backend")
    by_model = summarize(records, by="model")
    return Group(
        cost_table(by_backend, title=f"Session {session.session_id} · by backend", width=width),
        Text(""),
        cost_table(by_model, title="By model", width=width),
    )
