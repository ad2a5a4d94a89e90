"""A yes/no question over the chat whose safe answer is the default: "no" has the
focus, so Enter, `n` and Esc all answer it; only the risky button or `y` says yes.
Each question (a secret going to the cloud, an edit whose checks failed) is a
subclass that says what is at stake."""

from __future__ import annotations

from rich.console import RenderableType
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Static


class Confirm(ModalScreen[bool]):
    """Dismisses True only for the risky choice. `said` scrolls when it is long;
    `warning` draws a warning's border instead of an error's."""

    AUTO_FOCUS = "#no"

    DEFAULT_CSS = """
    Confirm { align: center middle; }
    Confirm > Vertical {
        width: 80%; height: auto; max-height: 90%;
        border: round $error; background: $surface; padding: 0 1;
    }
    Confirm.-warning > Vertical { border: round $warning; }
    Confirm #said { height: auto; max-height: 30; margin-bottom: 1; }
    Confirm #buttons { height: auto; align-horizontal: right; }
    Confirm Button { margin-left: 1; }
    """
    BINDINGS = [
        Binding("y", "yes", "Yes"),
        Binding("n", "no", "No"),
        Binding("escape", "no", "No", show=False),
    ]

    def __init__(self, title: str, said: RenderableType, *, yes: str, no: str, warning: bool = False) -> None:
        super().__init__(classes="-warning" if warning else "")
        self.title_text, self.said, self.yes_label, self.no_label = title, said, yes, no

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = self.title_text
            box.border_subtitle = f"y {self.yes_label.lower()} · n or Esc {self.no_label.lower()}"
            yield VerticalScroll(Static(self.said), id="said")
            with Horizontal(id="buttons"):
                yield Button(self.no_label, id="no", variant="primary")
                yield Button(self.yes_label, id="yes", variant="error")

    @on(Button.Pressed, "#no")
    def action_no(self) -> None:
        self.dismiss(False)

    @on(Button.Pressed, "#yes")
    def action_yes(self) -> None:
        self.dismiss(True)
