"""`/rewind`: the session's points to go back to, then what going back to one would
do, before anything is done.

The list is the session's points, one line each, the newest at the bottom and
highlighted; Enter shows a point's preview. There, f, c and b choose the files,
the chat or both, and m whether the user's own changes since are taken back too;
each choice is worked out again by the core in a thread (a preview takes a
checkpoint of the files as they are), and the screen shows only the answer that
matches the choice made last. Enter (or y) dismisses with that preview, which the
app carries out (ui/rewinding.py); Esc goes back to the list, and from the list
closes. Every line is render/rewind.py's, shown as plain text: a question or a
path may hold brackets that markup would eat.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from assistant.render.rewind import WHAT, point_line, preview_lines

if TYPE_CHECKING:
    from assistant.core.session.rewind import Point, Preview, What

LIST_HELP = "Enter preview · ↑↓ another point · Esc close"
WORKING = "Working out what would change…"
Choice = tuple[int, "What", bool]  # (point, what, keep the user's own changes)
# Works out a choice's preview (in a thread), or says in one line why it cannot be done.
PreviewOf = Callable[[int, "What", bool], "Preview | str"]


class RewindScreen(ModalScreen["Preview | None"]):
    """Dismisses with the preview to carry out, or None."""

    DEFAULT_CSS = """
    RewindScreen { align: center middle; }
    RewindScreen > Vertical { width: 95%; height: 85%; border: round $accent; background: $surface; padding: 0 1; }
    RewindScreen #rewind-points { height: 1fr; }
    RewindScreen #rewind-preview-box { height: 1fr; }
    RewindScreen #rewind-preview.failed { color: $error; }
    RewindScreen #rewind-help { color: $text-muted; height: auto; }
    """
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("enter,y", "confirm", "Rewind", show=False),
        Binding("f", "what('files')", "Files", show=False),
        Binding("c", "what('chat')", "Chat", show=False),
        Binding("b", "what('both')", "Both", show=False),
        Binding("m", "mine", "Mine too", show=False),
    ]

    def __init__(self, points: list[Point], preview_of: PreviewOf, preview: Preview | None = None) -> None:
        """`preview`: shown at once (`/rewind N`), of files and chat, the user's changes kept."""
        super().__init__()
        self.points = points
        self.preview_of = preview_of
        self.number: int | None = preview.point.number if preview is not None else None  # None: the list
        self.what: What = "both"
        self.keep_mine = True
        #: The preview of the choice made last; None while it is worked out, or when it cannot be.
        self.preview = preview
        #: The lines the preview area shows now.
        self.shown: list[str] = []

    def compose(self) -> ComposeResult:
        with Vertical():
            yield OptionList(*(Option(Text(point_line(p)), id=str(p.number)) for p in self.points), id="rewind-points")
            with VerticalScroll(id="rewind-preview-box"):
                yield Static("", id="rewind-preview", markup=False)
            yield Static(LIST_HELP, id="rewind-help", markup=False)

    def on_mount(self) -> None:
        box = self.query_one(Vertical)
        box.border_title = "Rewind: go back to before a point"
        listed = self.query_one(OptionList)
        listed.highlighted = (self.number or len(self.points)) - 1  # the point shown, else the newest
        listed.scroll_to_highlight()
        if self.number is not None and self.preview is not None:
            self._show_preview()
            self._say(preview_lines(self.preview))
        else:
            self._show_list()

    # -- the list -----------------------------------------------------------------

    def _show_list(self) -> None:
        self.number, self.preview = None, None
        self.query_one("#rewind-preview-box").display = False
        listed = self.query_one(OptionList)
        listed.display = True
        listed.focus()
        self.query_one("#rewind-help", Static).update(LIST_HELP)

    @on(OptionList.OptionSelected, "#rewind-points")
    def chosen(self, event: OptionList.OptionSelected) -> None:
        self.number = int(event.option.id or 0)
        self.what, self.keep_mine = "both", True
        self._show_preview()
        self._work_out()

    # -- the preview --------------------------------------------------------------

    def _show_preview(self) -> None:
        self.query_one(OptionList).display = False
        box = self.query_one("#rewind-preview-box", VerticalScroll)
        box.display = True
        box.focus()
        self._help()

    def _help(self) -> None:
        mine = "kept" if self.keep_mine else "taken back too"
        self.query_one("#rewind-help", Static).update(
            f"Now: {WHAT[self.what]}, your own changes {mine} · f files · c chat · b both · m yours kept or not · "
            "Enter/y rewind · Esc back"
        )

    def action_what(self, what: What) -> None:
        if self.number is not None and what != self.what:
            self.what = what
            self._work_out()

    def action_mine(self) -> None:
        if self.number is not None:
            self.keep_mine = not self.keep_mine
            self._work_out()

    def _work_out(self) -> None:
        """The preview of the choice made now, worked out again in a thread."""
        assert self.number is not None
        self.preview = None
        self._help()
        self._say([WORKING])
        self._preview((self.number, self.what, self.keep_mine))

    @work(thread=True, exclusive=True, group="rewind-preview", exit_on_error=False)
    def _preview(self, choice: Choice) -> None:
        self.app.call_from_thread(self._worked_out, choice, self.preview_of(*choice))

    def _worked_out(self, choice: Choice, preview: Preview | str) -> None:
        if not self.is_attached or choice != (self.number, self.what, self.keep_mine):  # closed, or chosen again
            return
        if isinstance(preview, str):
            self.preview = None
            self._say([f"Cannot rewind there: {preview}"], failed=True)
        else:
            self.preview = preview
            self._say(preview_lines(preview))

    def _say(self, lines: list[str], *, failed: bool = False) -> None:
        self.shown = lines
        said = self.query_one("#rewind-preview", Static)
        said.set_class(failed, "failed")
        said.update("\n".join(lines))

    def action_confirm(self) -> None:
        if self.number is None:  # Enter on the list is the list's own
            return
        if self.preview is None:
            why = self.shown[0] if self.shown and self.shown[0] != WORKING else "The preview is not ready yet."
            self.app.notify(why, severity="warning")
            return
        if self.preview.empty:
            self.app.notify("Nothing would change: choose files, chat or both, or Esc for another point.")
            return
        self.dismiss(self.preview)

    def action_back(self) -> None:
        if self.number is None:
            self.dismiss(None)
        else:
            self._show_list()
