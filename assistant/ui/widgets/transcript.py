"""The transcript: user prompts, streamed answers, and notes.

An answer streams into a Textual `Markdown` with `Markdown.append`, which
re-parses only the last block. (That is what `MarkdownStream` does too; we
await each append ourselves because the app needs to know when text is on
screen, to hold back a producer that outruns the screen: see `DeltaBuffer`.)
Everything finished is a `RenderedLines` widget, rendered once per width: a
long session would otherwise keep hundreds of live widgets that Textual lays
out again on every append.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from textual.containers import Vertical, VerticalScroll
from textual.widgets import Static

from assistant.ui.widgets.rendered import (
    FinishedAnswer,
    RenderedMarkdown,
    RenderedText,
    markdown_part,
)

if TYPE_CHECKING:
    from textual.widgets import Markdown


class Transcript(VerticalScroll):
    DEFAULT_CSS = """
    Transcript { height: 1fr; padding: 0 1; }
    """

    def on_mount(self) -> None:
        self.anchor()


class UserMessage(RenderedText):
    DEFAULT_CSS = """
    UserMessage {
        margin: 1 0 0 0;
        padding: 0 1;
        border-left: thick $primary;
        background: $boost;
    }
    """



class NoteMessage(RenderedText):
    """A line from the app itself: errors, command output, load results."""

    DEFAULT_CSS = """
    NoteMessage { margin: 1 0 0 0; padding: 0 1; color: $text-muted; }
    NoteMessage.-error { color: $error; border-left: thick $error; }
    """

    def __init__(self, text: str, *, error: bool = False) -> None:
        super().__init__(text, classes="-error" if error else "")


class AssistantMessage(Vertical):
    """An answer: a live Markdown tail that streams, and frozen segments before it.

    Only the tail is a live `Markdown`. Once the tail passes `SEGMENT_CHARS` and reaches a block boundary outside a code
    fence, it is frozen into one `RenderedMarkdown` and the tail starts afresh. Appends
    stay cheap however long the answer grows. When the answer is done, the whole
    widget gives way to one `FinishedAnswer`.
    """

    SEGMENT_CHARS = 800

    DEFAULT_CSS = """
    AssistantMessage { margin: 1 0 0 0; height: auto; }
    AssistantMessage > Markdown { margin: 0; padding: 0 1; }
    AssistantMessage > .answer { padding: 0 1; }
    """

    def __init__(self, label: str) -> None:
        super().__init__()
        self.label = label
        self.text = ""
        self._tail = ""  # text of the live Markdown
        self._markdown: Markdown | None = None  # the live tail

    def compose(self):
        # Imported on first use: markdown-it costs ~35 ms of start-up.
        from textual.widgets import Markdown

        yield Static(self.label, classes="label", markup=False)
        self._markdown = Markdown()
        yield self._markdown

    async def write(self, fragment: str) -> None:
        if not fragment or self._markdown is None:
            return
        self.text += fragment
        while fragment:
            cut = self._segment_cut(fragment)
            if cut is None:
                await self._write_tail(fragment)
                return
            await self._write_tail(fragment[:cut])
            await self._freeze_tail()
            fragment = fragment[cut:]

    def _segment_cut(self, fragment: str) -> int | None:
        """Where in `fragment` a new segment may start: after a blank line, outside a fence."""
        need = self.SEGMENT_CHARS - len(self._tail)
        fences = _fence_count(self._tail)
        start = max(0, need - 1)
        while (at := fragment.find("\n\n", start)) >= 0:
            cut = at + 2
            if (fences + _fence_count(fragment[:cut])) % 2 == 0:
                return cut
            start = cut
        return None

    async def _write_tail(self, text: str) -> None:
        if not text or self._markdown is None:
            return
        self._tail += text
        await self._markdown.append(text)

    async def _freeze_tail(self) -> None:
        if not self._tail or self._markdown is None:
            return
        await self.mount(_frozen(self._tail), before=self._markdown)
        self._tail = ""
        await self._markdown.update("")

    def finished(self, footer: str, note: str | None = None) -> FinishedAnswer:
        """The answer's finished form, which replaces this widget in the transcript."""
        segments = [(w.text, w.part) for w in self.query(RenderedMarkdown)]
        if self._tail:
            segments.append((self._tail, markdown_part(self._tail)))
        return FinishedAnswer(self.label, segments, footer, note)


_FENCE = re.compile(r"^ {0,3}(```|~~~)", re.MULTILINE)


def _fence_count(text: str) -> int:
    return len(_FENCE.findall(text))


def _frozen(text: str) -> RenderedMarkdown:
    return RenderedMarkdown(text, classes="answer")
