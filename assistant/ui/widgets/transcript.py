"""The transcript: one `History` of everything finished, then the turn in progress.

An answer streams into a Textual `Markdown` with `Markdown.append`, which
re-parses only the last block. (That is what `MarkdownStream` does too; we
await each append ourselves because the app needs to know when text is on
screen, to hold back a producer that outruns the screen: see `DeltaBuffer`.)
When the turn is over, its widgets are folded into the `History`, so however
long the session, the transcript holds a handful of widgets.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from textual.containers import Vertical, VerticalScroll
from textual.widgets import Static

from assistant.ui.widgets.rendered import (
    BLANK,
    Entry,
    History,
    RenderedLines,
    RenderedPart,
    entry_parts,
    markdown_part,
)

if TYPE_CHECKING:
    from textual.widgets import Markdown


class LiveEntry(RenderedLines):
    """An entry shown on its own until the turn is over (the prompt, a note)."""

    DEFAULT_CSS = """
    LiveEntry { margin: 1 0 0 0; padding: 0 1; }
    """

    def __init__(self, entry: Entry) -> None:
        super().__init__()
        self.entry = entry
        self._parts = entry_parts(entry, self.theme_style)


def user_message(text: str) -> LiveEntry:
    return LiveEntry(Entry("user", text))


def note_message(text: str, *, error: bool = False) -> LiveEntry:
    return LiveEntry(Entry("error" if error else "note", text))


class AssistantMessage(Vertical):
    """An answer: a live Markdown tail that streams, and frozen segments before it.

    Only the tail is a live `Markdown`. Once the tail passes `SEGMENT_CHARS` and
    reaches a block boundary outside a code fence, it is frozen: rendered once
    into the `frozen` widget above it (one widget, however many segments), and
    the tail starts afresh. Appends stay cheap however long the answer grows,
    and the frozen segments go to the `History` as they are.
    """

    SEGMENT_CHARS = 800

    DEFAULT_CSS = """
    AssistantMessage { margin: 1 0 0 0; height: auto; }
    AssistantMessage > Markdown { margin: 0; padding: 0 1; }
    AssistantMessage > RenderedLines { padding: 0 1; }
    AssistantMessage > .label { color: $accent; text-style: bold; padding: 0 1; }
    """

    def __init__(self, label: str) -> None:
        super().__init__()
        self.label = label
        self.text = ""
        self._tail = ""  # text of the live Markdown
        self._markdown: Markdown | None = None
        self._frozen = RenderedLines()
        self._segments: list[RenderedPart] = []
        self.result: tuple[Entry, list[RenderedPart]] | None = None  # set when finished

    def compose(self):
        # Imported on first use: markdown-it costs ~35 ms of start-up.
        from textual.widgets import Markdown

        yield Static(self.label, classes="label", markup=False)
        yield self._frozen
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
        segment = markdown_part(self._tail)
        self._frozen.extend([BLANK, segment] if self._segments else [segment])
        self._segments.append(segment)
        self._tail = ""
        await self._markdown.update("")

    def finish(self, footer: str, note: str | None = None) -> None:
        """Record the finished answer; the `History` takes it at the next settle."""
        segments = list(self._segments)
        if self._tail:
            segments.append(markdown_part(self._tail))
        self.result = (Entry("answer", self.text, self.label, footer, note), segments)


_FENCE = re.compile(r"^ {0,3}(```|~~~)", re.MULTILINE)


def _fence_count(text: str) -> int:
    return len(_FENCE.findall(text))


class Transcript(VerticalScroll):
    DEFAULT_CSS = """
    Transcript { height: 1fr; padding: 0 1; }
    """

    def compose(self):
        yield History()

    def on_mount(self) -> None:
        self.anchor()

    @property
    def history(self) -> History:
        return self.query_one(History)

    def live(self) -> list:
        return [w for w in self.children if not isinstance(w, History)]

    async def add_entry(self, entry: Entry) -> None:
        """A finished entry: into the history, or after the live turn while one runs."""
        if any(isinstance(w, AssistantMessage) and w.result is None for w in self.live()):
            await self.mount(LiveEntry(entry))
        else:
            self.history.add(entry)

    async def settle(self) -> None:
        """Fold every finished live widget into the history, in order."""
        folded = []
        for widget in self.live():
            if isinstance(widget, AssistantMessage):
                if widget.result is None:
                    break  # still streaming: it and what follows stay live
                self.history.add(*widget.result)
            elif isinstance(widget, LiveEntry):
                self.history.add(widget.entry)
            folded.append(widget)
        if folded:
            await self.remove_children(folded)

    async def clear(self) -> None:
        self.history.clear()
        await self.remove_children(self.live())
