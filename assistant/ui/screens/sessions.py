"""`/sessions`: browse, search, resume, rename and delete stored chats."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Input, Static
from assistant.core.store import saved_sessions as session_store
from assistant.core.store.ledger import Ledger, LedgerError
from assistant.render import format as fmt

if TYPE_CHECKING:
    from assistant.core.session.chat import ChatSession


class SessionsScreen(ModalScreen[str | None]):
    """Dismisses with the id of the session to resume, or None."""

    DEFAULT_CSS = """
    SessionsScreen { align: center middle; }
    SessionsScreen > Vertical { width: 95%; height: 85%; border: round $accent; background: $surface; padding: 0 1; }
    SessionsScreen DataTable { height: 1fr; }
    SessionsScreen #sessions-help { color: $text-muted; height: auto; }
    """
    BINDINGS = [
        Binding("escape", "dismiss_none", "Close"),
        Binding("enter", "resume", "Resume", show=False),
        Binding("ctrl+r", "rename", "Rename"),
        Binding("ctrl+d", "delete", "Delete"),
    ]

    def __init__(self, session: ChatSession) -> None:
        super().__init__()
        self.session = session
        self.rows: list[str] = []
        self._renaming: str | None = None

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Input(placeholder="search titles, questions and answers", id="sessions-search")
            yield DataTable(id="sessions-table", cursor_type="row")
            yield Static("Enter resume · Ctrl+R rename · Ctrl+D delete · Esc close", id="sessions-help")

    def on_mount(self) -> None:
        self.query_one(Vertical).border_title = "Sessions"
        table = self.query_one(DataTable)
        table.add_columns("id", "started", "title", "exchanges", "cost", "folder")
        self.refresh_list("")

    @work(thread=True, exclusive=True, exit_on_error=False)
    def refresh_list(self, search: str) -> None:
        ledger = self.session.ledger()
        found = session_store.listing(ledger, search) if ledger is not None else []
        self.app.call_from_thread(self._show, found)

    def _show(self, found: list) -> None:
        if not self.is_attached:  # closed while the ledger was read
            return
        table = self.query_one(DataTable)
        table.clear()
        self.rows = []
        for record, count in found:
            started = time.strftime("%Y-%m-%d %H:%M", time.localtime(record.started_at))
            # Text, not str: a DataTable reads a str cell as markup, and titles are what people typed.
            title, folder = Text(record.title or "–"), Text(record.cwd)
            table.add_row(Text(record.id), started, title, str(count), fmt.cost(record.cost), folder)
            self.rows.append(record.id)

    @on(Input.Changed, "#sessions-search")
    def search(self, event: Input.Changed) -> None:
        if self._renaming is None:
            self.refresh_list(event.value)

    @on(Input.Submitted, "#sessions-search")
    def submitted(self, event: Input.Submitted) -> None:
        if self._renaming is not None:
            if self._change("rename", lambda ledger: session_store.rename(ledger, self._renaming, event.value.strip())):
                self.app.notify(f"Renamed session {self._renaming}.")
            self._renaming = None
            event.input.placeholder = "search titles, questions and answers"
            event.input.value = ""
            self.refresh_list("")
        else:
            self.query_one(DataTable).focus()

    def selected(self) -> str | None:
        table = self.query_one(DataTable)
        if not self.rows or table.cursor_row is None or table.cursor_row >= len(self.rows):
            return None
        return self.rows[table.cursor_row]

    @on(DataTable.RowSelected)
    def action_resume(self) -> None:
        chosen = self.selected()
        if chosen is not None:
            self.dismiss(chosen)

    def action_rename(self) -> None:
        chosen = self.selected()
        if chosen is None:
            return
        self._renaming = chosen
        field = self.query_one("#sessions-search", Input)
        field.value = ""
        field.placeholder = f"new title for {chosen}, then Enter"
        field.focus()

    def action_delete(self) -> None:
        chosen = self.selected()
        if chosen is None or chosen == self.session.session_id:
            self.app.notify("This is the session in use: it cannot be deleted.", severity="warning")
            return
        if self._change("delete", lambda ledger: session_store.delete(ledger, chosen)):
            self.app.notify(f"Deleted session {chosen} (its costs stay in the ledger).")
        self.refresh_list(self.query_one("#sessions-search", Input).value)

    def _change(self, doing: str, change: Callable[[Ledger], None]) -> bool:
        """Apply `change` to the ledger; a ledger that cannot be opened or written is
        one line in a toast, and the screen stays."""
        ledger = self.session.ledger()
        if ledger is None:
            self.app.notify(f"Cannot {doing} the session: {self.session.ledger_error or 'no ledger'}", severity="error")
            return False
        try:
            change(ledger)
        except LedgerError as exc:
            self.app.notify(f"Cannot {doing} the session: {exc}", severity="error")
            return False
        return True

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
