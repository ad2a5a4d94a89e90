"""Widgets whose content is rendered once per width, then served line by line.

Textual re-measures every `height: auto` child of the transcript on each layout
change, and while an answer streams that is many times a second. A `Static`
re-renders its Rich content to measure it; these widgets keep the rendered lines
and render again only when their width, style or the theme changes, so a
transcript of hundreds of finished messages costs next to nothing per layout.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable

from rich.console import Console, RenderableType
from rich.style import Style
from rich.text import Text
from textual.geometry import Size
from textual.strip import Strip
from textual.widget import Widget

CODE_THEME = "monokai"


class RenderedPart:
    """One renderable's lines, kept for the last (width, theme, style) they were made for."""

    def __init__(self, make: Callable[[], RenderableType]) -> None:
        self.make = make
        self._key: Hashable = None
        self._lines: list[Strip] = []

    def lines(self, console: Console, width: int, style: Style, key: Hashable) -> list[Strip]:
        if key != self._key:
            options = console.options.update_width(max(width, 1))
            rendered = console.render_lines(self.make(), options, style=style, pad=True)
            self._lines = [Strip(line, width) for line in rendered]
            self._key = key
        return self._lines


def markdown_part(text: str) -> RenderedPart:
    return RenderedPart(lambda: _rich_markdown(text))


def _rich_markdown(text: str) -> RenderableType:
    # Imported on first use: markdown-it and Pygments cost ~35 ms of start-up.
    from rich.markdown import Markdown

    return Markdown(text, code_theme=CODE_THEME)


def text_part(text: str, style: Callable[[], Style] | None = None) -> RenderedPart:
    return RenderedPart(lambda: Text(text, style=style() if style else ""))


class RenderedLines(Widget):
    """Shows its parts one below the other, each rendered once per width."""

    DEFAULT_CSS = """
    RenderedLines { height: auto; }
    """

    def __init__(self, *, classes: str = "") -> None:
        super().__init__(classes=classes)
        self._key: Hashable = None
        self._lines: list[Strip] = []

    def parts(self) -> list[RenderedPart]:
        return []

    def lines_at(self, width: int) -> list[Strip]:
        style = self.rich_style
        key = (width, self.app.theme, style)
        if key != self._key:
            console = self.app.console
            self._lines = [
                line for part in self.parts() for line in part.lines(console, width, style, key)
            ]
            self._key = key
        return self._lines

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self.lines_at(width))

    def render_line(self, y: int) -> Strip:
        width = self.content_size.width
        lines = self.lines_at(width)
        return lines[y] if 0 <= y < len(lines) else Strip.blank(width)

    def theme_style(self, name: str, **kwargs: bool) -> Style:
        """A Rich style in one of the current theme's colours (`accent`, `error`, ...)."""
        return Style(color=getattr(self.app.current_theme, name, None), **kwargs)


class RenderedMarkdown(RenderedLines):
    """A finished stretch of Markdown (code blocks highlighted)."""

    def __init__(self, text: str, *, classes: str = "") -> None:
        super().__init__(classes=classes)
        self.text = text
        self.part = markdown_part(text)

    def parts(self) -> list[RenderedPart]:
        return [self.part]


class RenderedText(RenderedLines):
    """Plain text (no markup is interpreted)."""

    def __init__(self, text: str, *, classes: str = "") -> None:
        super().__init__(classes=classes)
        self.text = text
        self._part = text_part(text)

    def parts(self) -> list[RenderedPart]:
        return [self._part]


class FinishedAnswer(RenderedLines):
    """A whole finished answer as one widget: label, Markdown segments, note, figures.

    It takes over the segments the streaming answer already rendered, so
    finishing an answer renders only its last segment.
    """

    DEFAULT_CSS = """
    FinishedAnswer { margin: 1 0 0 0; padding: 0 1; }
    """

    def __init__(
        self,
        label: str,
        segments: list[tuple[str, RenderedPart]],
        footer: str,
        note: str | None = None,
    ) -> None:
        super().__init__()
        self.label = label
        self.text = "".join(text for text, _ in segments)
        self.footer = footer
        self.note = note
        blank = text_part("")
        body: list[RenderedPart] = []
        for i, (_, part) in enumerate(segments):
            body += [blank, part] if i else [part]
        self._parts = [
            text_part(label, lambda: self.theme_style("accent", bold=True)),
            *body,
            *([text_part(note, lambda: self.theme_style("error"))] if note else []),
            text_part(footer, lambda: Style(dim=True)),
        ]

    def parts(self) -> list[RenderedPart]:
        return self._parts
