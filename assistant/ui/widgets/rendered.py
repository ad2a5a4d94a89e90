"""Finished transcript content, rendered once per width and served line by line.

Textual lays out and composites every widget of the transcript again on each
layout change, and while an answer streams that is many times a second. So
everything finished lives in one `History` widget: a list of parts, each
rendered once per width (and theme) and kept. A session of hundreds of turns
then costs the layout one widget, and the screen only the lines it shows.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.strip import Strip

from assistant.ui.textual_compat import LaidOutOnce
from assistant.ui.widgets.markdown import BlockCache, markdown
from assistant.ui.widgets.markdown import render_lines as render_markdown

if TYPE_CHECKING:
    from assistant.core.results import TurnResult

CODE_THEME = "monokai"  # code blocks on a dark theme
LIGHT_CODE_THEME = "friendly"  # and on a light one
_code_theme = CODE_THEME


def use_code_theme(dark: bool) -> None:
    """Code blocks and inline code follow the app's theme (set when it changes;
    parts render again, as their cache is keyed by the theme)."""
    global _code_theme
    _code_theme = CODE_THEME if dark else LIGHT_CODE_THEME


StyleFor = Callable[[str], Style]  # theme colour name -> Rich style
# A prompt or note longer than this is shown shortened (what was sent is not):
# wrapping a megabyte of text takes Rich seconds, on the UI thread.
SHOWN_CHARS = 4_000


class RenderedPart:
    """One renderable's lines, kept for the (width, theme, style) they were made for."""

    def __init__(self, make: Callable[[], RenderableType], *, bar: Callable[[], Style] | None = None) -> None:
        self.make = make
        self.bar = bar  # a coloured bar down the left edge, as for the user's prompts
        self._key: Hashable = None
        self._lines: list[Strip] = []

    def lines(self, console: Console, width: int, style: Style, key: Hashable) -> list[Strip]:
        if key != self._key:
            inner = width - 2 if self.bar else width
            options = console.options.update_width(max(inner, 1))
            rendered = self.render(console, options, style, key)
            if self.bar:
                bar = [Segment("▌", style + self.bar()), Segment(" ", style)]
                rendered = [bar + line for line in rendered]
            self._lines = [Strip(line, width) for line in rendered]
            self._key = key
        return self._lines

    @property
    def rows(self) -> int:
        """How many lines it rendered last (what the screen shows of it)."""
        return len(self._lines)

    def render(self, console: Console, options: ConsoleOptions, style: Style, key: Hashable) -> list[list[Segment]]:
        return console.render_lines(self.make(), options, style=style, pad=True)


class MarkdownPart(RenderedPart):
    """Markdown, rendered block by block (markdown.py); parts made one after another
    of a growing text (a streaming answer's tail) share `cache`, so each renders
    only the blocks that changed."""

    def __init__(self, text: str, cache: BlockCache | None = None) -> None:
        super().__init__(lambda: markdown(text, _code_theme))
        self.text = text
        self.cache = cache

    def render(self, console: Console, options: ConsoleOptions, style: Style, key: Hashable) -> list[list[Segment]]:
        lines = render_markdown(self.text, console, options, style, _code_theme, key, self.cache)
        self.cache = None  # the next text's blocks are there now; rendered again, this renders whole
        return lines


def markdown_part(text: str, cache: BlockCache | None = None) -> MarkdownPart:
    return MarkdownPart(text, cache)


def text_part(text: str, style: Callable[[], Style] | None = None) -> RenderedPart:
    return RenderedPart(lambda: Text(text, style=style() if style else ""))


class Figures:
    """A line of figures joined by ` · `, wrapped only between figures: a narrow
    screen shows `took 1.27 s` on the next line, never `took 1.27` and `s`."""

    SEPARATOR = " · "

    def __init__(self, text: str, style: Style) -> None:
        self.items = text.split(self.SEPARATOR) if text else []
        self.style = style

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        lines: list[str] = []
        for item in self.items:
            joined = f"{lines[-1]}{self.SEPARATOR}{item}" if lines else item
            if lines and cell_len(joined) <= options.max_width:
                lines[-1] = joined
            else:
                lines.append(item)
        yield Text("\n".join(lines), style=self.style, no_wrap=True, overflow="ellipsis")


def figures_part(text: str) -> RenderedPart:
    """An answer's footer: its measured figures, dimmed."""
    return RenderedPart(lambda: Figures(text, Style(dim=True)))


BLANK = text_part("")


def label_part(label: str, style: StyleFor) -> RenderedPart:
    """The line that names who answered (backend · model)."""
    return text_part(label, lambda: style("accent") + Style(bold=True))


def badge_part(badge: str, style: StyleFor) -> RenderedPart:
    """The line under the label that says why this backend answered."""
    return text_part(badge, lambda: style("muted"))


@dataclass(frozen=True, slots=True)
class Entry:
    """A finished item of the transcript, as data (what tests and exports read)."""

    kind: Literal["user", "answer", "note", "error"]
    text: str
    label: str = ""
    footer: str = ""
    note: str | None = None
    badge: str = ""  # an answer's route: who decided, why, and the estimate
    turn: TurnResult | None = field(default=None, compare=False)  # an answer's turn: what a rating names


def shortened(text: str) -> str:
    """`text`, or its start and how much more there is when it is too long to show."""
    if len(text) <= SHOWN_CHARS:
        return text
    lines = text.count("\n") + 1
    plural = "s" if lines != 1 else ""
    return f"{text[:SHOWN_CHARS]}…\n(shortened: {len(text):,} characters in all, {lines:,} line{plural})"


def entry_parts(entry: Entry, style: StyleFor, segments: list[RenderedPart] | None = None) -> list[RenderedPart]:
    """The parts that show `entry`; an answer may bring the segments it already rendered."""
    if entry.kind == "user":
        shown = shortened(entry.text)
        return [RenderedPart(lambda: Text(shown, style=Style(bold=True)), bar=lambda: style("primary"))]
    if entry.kind in ("note", "error"):
        shown = shortened(entry.text)
        if entry.kind == "error":
            return [RenderedPart(lambda: Text(shown, style=style("error")), bar=lambda: style("error"))]
        return [text_part(shown, lambda: style("muted"))]
    body = segments if segments is not None else ([markdown_part(entry.text)] if entry.text else [])
    spaced: list[RenderedPart] = []
    for i, part in enumerate(body):
        spaced += [BLANK, part] if i else [part]
    return [
        label_part(entry.label, style),
        *([badge_part(entry.badge, style)] if entry.badge else []),
        *spaced,
        *([text_part(entry.note, lambda: style("error"))] if entry.note else []),
        figures_part(entry.footer),
    ]


class RenderedLines(LaidOutOnce):
    """Shows its parts one below the other, each rendered once per width.

    Parts are only ever added, except the optional `tail`: the one part that may
    change (a streaming answer's last, growing stretch). Changing it renders it
    alone again.
    """

    DEFAULT_CSS = """
    RenderedLines { height: auto; }
    """

    def __init__(self, *, id: str | None = None, classes: str = "") -> None:  # noqa: A002 - Textual's name
        super().__init__(id=id, classes=classes)
        self._parts: list[RenderedPart] = []
        self._tail: RenderedPart | None = None
        self._key: Hashable = None
        self._lines: list[Strip] = []
        self._rendered = 0  # how many parts `_lines` holds, before the tail's lines
        self._fixed = 0  # how many of `_lines` belong to those parts
        self._tail_shown: RenderedPart | None = None  # the tail whose lines follow
        self._pass_lines: list[Strip] | None = None  # the lines of the render pass under way
        self._rows = -1  # the height the last layout gave the content

    def lines_at(self, width: int) -> list[Strip]:
        style = self.rich_style
        key = (width, self.app.theme, style)
        if key != self._key:
            self._key, self._lines, self._rendered, self._fixed = key, [], 0, 0
            self._tail_shown = None
        stale_tail = self._tail_shown is not self._tail
        if self._rendered < len(self._parts) or stale_tail:
            console = self.app.console
            del self._lines[self._fixed :]  # the old tail's lines
            for part in self._parts[self._rendered :]:  # parts added since: render only those
                self._lines.extend(part.lines(console, width, style, key))
            self._rendered, self._fixed = len(self._parts), len(self._lines)
            if self._tail is not None:
                self._lines.extend(self._tail.lines(console, width, style, key))
            self._tail_shown = self._tail
        return self._lines

    def extend(self, parts: list[RenderedPart]) -> None:
        """Show more parts below; only they are rendered."""
        before = self._shown()
        self._parts += parts
        self._show_change(before)

    def set_tail(self, part: RenderedPart | None) -> None:
        """Show `part` below all the others, in place of the previous tail."""
        before = self._shown()
        self._tail = part
        self._show_change(before)

    def rows_for(self, lines: int) -> int:
        """How many rows the widget takes to show `lines` lines (a streaming answer takes
        more: see AssistantMessage)."""
        return lines

    def _shown(self) -> tuple[int, list[Strip]] | None:
        """Where the lines that may change start, and those lines, as now shown."""
        if self._key is None:
            return None
        return self._fixed, self._lines[self._fixed :]

    def _show_change(self, before: tuple[int, list[Strip]] | None) -> None:
        """Paint what changed since `before`.

        While an answer streams this happens several times a second, and each
        layout of the screen (and the repaint of all it shows that follows) is
        CPU taken from the model's threads (bench/tui_local.py). So while the
        widget keeps its height, only the rows that changed are painted again:
        most times the text grows along its last line, or onto a row the
        widget holds in reserve (`rows_for`)."""
        width = self.content_size.width
        key = self._key
        if before is None or not width or key[0] != width:
            self.refresh(layout=True)
            return
        start, old = before
        lines = self.lines_at(width)
        if self._key != key or self.rows_for(len(lines)) != self._rows:  # rendered anew, or a new height
            self.refresh(layout=True)
            return
        end = max(len(lines), start + len(old))
        changed = [
            y for y in range(start, end)
            if y >= len(lines) or y - start >= len(old) or lines[y] != old[y - start]
        ]
        if changed:
            self.refresh(Region(0, changed[0], width, changed[-1] - changed[0] + 1))

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        self._rows = self.rows_for(len(self.lines_at(width)))
        return self._rows

    def render_lines(self, crop: Region) -> list[Strip]:
        # Textual asks for each line of the crop in turn; the lines (and the style
        # walk up the DOM that keys them) are looked up once for all of them.
        self._pass_lines = self.lines_at(self.content_size.width)
        try:
            return super().render_lines(crop)
        finally:
            self._pass_lines = None

    def render_line(self, y: int) -> Strip:
        width = self.content_size.width
        lines = self._pass_lines if self._pass_lines is not None else self.lines_at(width)
        return lines[y] if 0 <= y < len(lines) else Strip.blank(width)

    def theme_style(self, name: str) -> Style:
        """A Rich style in one of the current theme's colours (`accent`, `error`, ...);
        `muted` is the foreground, dimmed."""
        if name == "muted":
            return Style(dim=True)
        return Style(color=getattr(self.app.current_theme, name, None))


SELECTED_HINT = "  ◀ + good · − bad · ↑↓ another answer · Esc back to the prompt"


class History(RenderedLines):
    """Everything finished in the transcript, in order, as one widget.

    Focused (Shift+Tab from the prompt), it selects an answer: the last one first,
    ↑ and ↓ (or k and j) move, `+` or `g` rates it good and `-` or `b` bad (what
    the quality router learns from), Esc goes back to the prompt. Only the label
    lines of the answers given and taken the selection render again: every other
    part keeps its lines."""

    DEFAULT_CSS = """
    History { padding: 0 1; }
    History:focus { background: $boost; }
    """
    can_focus = True
    BINDINGS = [
        Binding("up,k", "select(-1)", "Previous answer", show=False),
        Binding("down,j", "select(1)", "Next answer", show=False),
        Binding("plus,g,equals_sign", "rate('good')", "Good answer", show=False),
        Binding("minus,b", "rate('bad')", "Bad answer", show=False),
        Binding("escape", "leave", "Back to the prompt", show=False),
    ]

    class Rated(Message):
        """The user rated the selected answer."""

        def __init__(self, entry: Entry, verdict: str) -> None:
            super().__init__()
            self.entry, self.verdict = entry, verdict

    def __init__(self) -> None:
        super().__init__()
        self.entries: list[Entry] = []
        self._labels: list[int] = []  # per answer entry: the index of its label part in `_parts`
        self._answers: list[Entry] = []
        self.selected: int | None = None  # the index of the selected answer, while focused

    def add(self, entry: Entry, segments: list[RenderedPart] | None = None) -> None:
        parts = entry_parts(entry, self.theme_style, segments)
        self.entries.append(entry)
        if entry.kind == "answer":
            self._labels.append(len(self._parts) + (1 if self._parts else 0))
            self._answers.append(entry)
        self.extend([BLANK, *parts] if self._parts else parts)

    def clear(self) -> None:
        self._parts, self.entries, self._labels, self._answers = [], [], [], []
        self.selected = None
        self._key = None
        self.refresh(layout=True)

    @property
    def selected_entry(self) -> Entry | None:
        return self._answers[self.selected] if self.selected is not None else None

    def on_focus(self) -> None:
        self._select(len(self._answers) - 1 if self._answers else None)

    def on_blur(self) -> None:
        self._select(None)

    def action_select(self, step: int) -> None:
        if self.selected is not None:
            self._select(min(max(self.selected + step, 0), len(self._answers) - 1))

    def action_rate(self, verdict: str) -> None:
        if (entry := self.selected_entry) is not None:
            self.post_message(self.Rated(entry, verdict))

    def action_leave(self) -> None:
        self.screen.focus_next()

    def _select(self, index: int | None) -> None:
        """Mark answer `index` (None: none) on its label line, and bring it into view."""
        if index == self.selected:
            return
        for i, selected in ((self.selected, False), (index, True)):
            if i is not None:
                entry = self._answers[i]
                label = entry.label + (SELECTED_HINT if selected else "")
                self._parts[self._labels[i]] = label_part(label, self.theme_style)
        self.selected = index
        self._key = None  # the lines are joined again; each unchanged part keeps its own
        self.refresh(layout=True)
        if index is not None:
            self.call_after_refresh(self._show_selected)

    def _show_selected(self) -> None:
        if self.selected is None or self.parent is None:
            return
        start = sum(part.rows for part in self._parts[: self._labels[self.selected]])
        line = Region(0, self.virtual_region.y + start, self.size.width, 1)  # in the transcript's space
        self.parent.scroll_to_region(line, animate=False)  # type: ignore[attr-defined]
