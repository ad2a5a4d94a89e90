"""The transcript: user prompts, streamed answers, and notes.

An answer streams into a Textual `Markdown` through `MarkdownStream`, which
re-parses only the last block. Once finished it is swapped for a single
`Static` holding a Rich Markdown renderable: a long session would otherwise keep
hundreds of live Markdown block widgets, and Textual slows with every one.
"""

from __future__ import annotations

from rich.markdown import Markdown as RichMarkdown
from textual.containers import VerticalScroll
from textual.widgets import Markdown, Static
from textual.widgets.markdown import MarkdownStream


class Transcript(VerticalScroll):
    DEFAULT_CSS = """
    Transcript { height: 1fr; padding: 0 1; }
    """

    def on_mount(self) -> None:
        self.anchor()


class UserMessage(Static):
    DEFAULT_CSS = """
    UserMessage {
        margin: 1 0 0 0;
        padding: 0 1;
        border-left: thick $primary;
        background: $boost;
    }
    """

    def __init__(self, text: str) -> None:
        super().__init__(text, markup=False)


class NoteMessage(Static):
    """A line from the app itself: errors, command output, load results."""

    DEFAULT_CSS = """
    NoteMessage { margin: 1 0 0 0; padding: 0 1; color: $text-muted; }
    NoteMessage.-error { color: $error; border-left: thick $error; }
    """

    def __init__(self, text: str, *, error: bool = False) -> None:
        super().__init__(text, markup=False, classes="-error" if error else "")


class AnswerFooter(Static):
    DEFAULT_CSS = """
    AnswerFooter { color: $text-muted; padding: 0 1; }
    """


class AssistantMessage(Static):
    """Holds a streaming answer, then its cheap finished form."""

    DEFAULT_CSS = """
    AssistantMessage { margin: 1 0 0 0; height: auto; }
    AssistantMessage > Markdown { margin: 0; padding: 0 1; }
    AssistantMessage > .answer { padding: 0 1; }
    """

    def __init__(self, label: str) -> None:
        super().__init__()
        self.label = label
        self.text = ""
        self._markdown: Markdown | None = None
        self._stream: MarkdownStream | None = None

    def compose(self):
        yield Static(self.label, classes="label", markup=False)
        self._markdown = Markdown()
        yield self._markdown

    async def write(self, fragment: str) -> None:
        if not fragment or self._markdown is None:
            return
        self.text += fragment
        if self._stream is None:
            self._stream = Markdown.get_stream(self._markdown)
        await self._stream.write(fragment)

    async def finish(self, footer: str, note: str | None = None) -> None:
        """Stop streaming and replace the live Markdown with one Static."""
        if self._stream is not None:
            await self._stream.stop()
            self._stream = None
        if self._markdown is not None:
            await self._markdown.remove()
            self._markdown = None
        widgets = []
        if self.text:
            widgets.append(Static(RichMarkdown(self.text, code_theme="monokai"), classes="answer"))
        if note:
            widgets.append(NoteMessage(note, error=True))
        widgets.append(AnswerFooter(footer, markup=False))
        await self.mount_all(widgets)
