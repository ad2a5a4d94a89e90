from __future__ import annotations

import time
from collections.abc import Callable

from tests.patience import PATIENCE


async def wait_for(pilot, predicate: Callable[[], bool], timeout: float = PATIENCE) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the app")
        await pilot.pause(0.02)


async def send(pilot, text: str) -> None:
    """Put `text` in the prompt and press Enter (typing each key through Pilot costs
    ~75 ms a key; tests of typing itself press the keys)."""
    from assistant.ui.widgets.prompt import PromptInput

    prompt = pilot.app.query_one(PromptInput)
    prompt.text = text
    prompt.move_cursor(prompt.document.end)
    await pilot.press("enter")


def streaming(app, tokens: int) -> bool:
    """An answer streams now, and more than `tokens` of it have come."""
    status = app.session.status()
    return status.answering and status.stats is not None and status.stats.tokens_out > tokens


def status_text(app) -> str:
    from assistant.ui.widgets.status import StatusBar

    return str(app.query_one(StatusBar).text())


def entries(app):
    """The transcript as entries: the history, then what is still live."""
    from assistant.ui.widgets.rendered import Entry
    from assistant.ui.widgets.transcript import AssistantMessage, LiveEntry, Transcript

    transcript = app.query_one(Transcript)
    found = list(transcript.history.entries)
    for widget in transcript.live():
        if isinstance(widget, LiveEntry):
            found.append(widget.entry)
        elif isinstance(widget, AssistantMessage):
            found.append(widget.result[0] if widget.result else Entry("answer", widget.text, widget.label))
    return found


def transcript_text(app) -> str:
    """Everything the transcript holds, as text."""
    parts = []
    for e in entries(app):
        parts += [e.label, e.text, e.note or "", e.footer]
    return "\n".join(p for p in parts if p)


class TerminalMirror:
    """What a terminal would show, as text: each screen update the app sends is
    applied, in order, to a grid of cells (a partial update leaves the rest as it
    was, as on a real screen). `stale_rows()` compares it with the screen drawn
    whole from the app's present state, so a row the app forgot to repaint shows."""

    def __init__(self, app) -> None:
        from textual._compositor import CompositorUpdate

        self.app = app
        self.rows: list[list[str]] = []
        display = app._display  # Textual's private hook between compositor and driver

        def mirrored(screen, renderable):
            if isinstance(renderable, CompositorUpdate):
                self.apply(renderable, self.rows)
            return display(screen, renderable)

        app._display = mirrored

    def apply(self, update, rows: list[list[str]]) -> None:
        from rich.cells import cell_len
        from rich.segment import ControlType

        width, height = self.app.size
        while len(rows) < height:
            rows.append([" "] * width)
        console = self.app.console
        x = y = 0
        for segment in update.__rich_console__(console, console.options):
            if segment.control:
                for control in segment.control:
                    if control[0] == ControlType.CURSOR_MOVE_TO:
                        x, y = control[1], control[2]
                continue
            if segment.text == "\n":
                x, y = 0, y + 1
                continue
            for char in segment.text:
                cells = cell_len(char)
                for i in range(cells):  # a wide character takes two cells
                    if 0 <= y < height and 0 <= x + i < width:
                        rows[y][x + i] = "" if i else char
                x += cells

    def text(self) -> list[str]:
        return ["".join(row) for row in self.rows]

    def stale_rows(self, widget) -> list[tuple[int, str, str]]:
        """(screen row, shown, truth) for each row of `widget` on screen that does not
        show the widget's lines (`lines_at`: what it is, not what Textual cached of it)."""
        region, clip = self.app.screen._compositor.visible_widgets[widget]
        visible = region.intersection(clip)
        left = region.x + widget.styles.gutter.left
        width = widget.content_size.width
        lines = widget.lines_at(width)
        shown = self.text()
        stale = []
        for y in range(visible.y, visible.bottom):
            i = y - region.y - widget.styles.gutter.top
            truth = lines[i].text.rstrip() if 0 <= i < len(lines) else ""
            row = shown[y][left : left + width].rstrip()
            if row != truth:
                stale.append((y, row, truth))
        return stale
