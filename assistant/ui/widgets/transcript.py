"""The transcript: one `History` of everything finished, then the turn in progress.

An answer streams into an `AssistantMessage`, which renders only its short,
growing tail again as text arrives (see there). Textual's `Markdown` widget
with `MarkdownStream` was measured for this first and dropped: it mounts a
widget per Markdown block, an append of 200 characters cost ~20 ms against
~3 ms here, and its look changed when a finished answer became cheap text.
When the turn is over, its widgets are folded into the `History`, so however
long the session, the transcript holds a handful of widgets.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from textual.containers import VerticalScroll
from textual.widgets import Static

from assistant.render.welcome import welcome_text
from assistant.ui.textual_compat import LaidOutOnce
from assistant.ui.widgets.markdown import BlockCache
from assistant.ui.widgets.rendered import (
    BLANK,
    Entry,
    History,
    RenderedLines,
    RenderedPart,
    badge_part,
    entry_parts,
    label_part,
    markdown_part,
    use_code_theme,
)
from assistant.ui.widgets.tool_step import Narration, ToolStep

if TYPE_CHECKING:
    from textual.theme import Theme

    from assistant.core.decisions import RouteDecision
    from assistant.core.results import TurnResult


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


class AssistantMessage(RenderedLines):
    """An answer as it streams: its label, finished segments, and a growing tail.

    The tail is the only part rendered again as text arrives, and it stays
    short: once it passes `SEGMENT_CHARS` and reaches a block boundary outside
    a code fence, it becomes a finished segment, rendered once, and a new tail
    starts. So each batch of tokens costs the same however long the answer
    grows, and the answer looks the same while it streams as once finished.
    """

    SEGMENT_CHARS = 800
    # While it streams, the answer takes rows in steps of this share of the screen's
    # height, the last ones blank until text reaches them: a new line of text is
    # then one row painted, where growing by a row would lay out the screen and
    # scroll (repaint) the whole transcript, every line, on the model's CPU time.
    RESERVE_SHARE = 1 / 5

    DEFAULT_CSS = """
    AssistantMessage { margin: 1 0 0 0; padding: 0 1; }
    """

    def __init__(self, label: str, badge: str = "") -> None:
        super().__init__()
        self.label = label
        self.badge = badge
        self.text = ""
        self._tail_text = ""
        self._segments: list[RenderedPart] = []
        self._blocks: BlockCache = {}  # the tail's rendered blocks (markdown.py)
        self.result: tuple[Entry, list[RenderedPart]] | None = None  # set when finished
        self._parts = [label_part(label, self.theme_style), badge_part(badge, self.theme_style)]

    def relabel(self, label: str, badge: str | None = None) -> None:
        """Name the backend that answers (routed, or a fallback) and why; this happens
        before any text, so rendering every part again is cheap."""
        self.label = label
        self._parts[0] = label_part(label, self.theme_style)
        if badge is not None:
            self.badge = badge
            self._parts[1] = badge_part(badge, self.theme_style)
        self._key = None  # render every part again
        self.refresh(layout=True)

    def restart(self) -> None:
        """Show no text again (a task's model step called tools: what it wrote were
        the calls); the label and badge stay."""
        self.text = self._tail_text = ""
        self._segments, self._blocks = [], {}
        self._parts = self._parts[:2]
        self._tail = None
        self._key = None  # render every part again
        self.refresh(layout=True)

    async def write(self, fragment: str) -> None:
        if not fragment:
            return
        self.text += fragment
        while (cut := self._segment_cut(fragment)) is not None:
            self._commit(self._tail_text + fragment[:cut])
            fragment = fragment[cut:]
        self._tail_text += fragment
        self.set_tail(markdown_part(self._tail_text, self._blocks) if self._tail_text else None)

    def _commit(self, text: str) -> None:
        segment = markdown_part(text, self._blocks)  # its blocks are rendered already, as the tail's
        self.extend([BLANK, segment] if self._segments else [segment])
        self._segments.append(segment)
        self._tail_text = ""

    def rows_for(self, lines: int) -> int:
        if self.result is not None:
            return lines  # finished: no more text to make room for
        step = max(1, int(self.app.size.height * self.RESERVE_SHARE))
        return -(-lines // step) * step

    def _segment_cut(self, fragment: str) -> int | None:
        """Where in `fragment` a new segment may start: after a blank line, outside a fence."""
        need = self.SEGMENT_CHARS - len(self._tail_text)
        fences = _fence_count(self._tail_text)
        start = max(0, need - 1)
        while (at := fragment.find("\n\n", start)) >= 0:
            cut = at + 2
            if (fences + _fence_count(fragment[:cut])) % 2 == 0:
                return cut
            start = cut
        return None

    def finish(self, footer: str, note: str | None = None, turn: TurnResult | None = None) -> None:
        """Record the finished answer (of `turn`); the `History` takes it at the next settle."""
        segments = list(self._segments)
        if self._tail_text:
            segments.append(markdown_part(self._tail_text))
        self.result = (Entry("answer", self.text, self.label, footer, note, self.badge, turn), segments)


_FENCE = re.compile(r"^ {0,3}(```|~~~)", re.MULTILINE)


def _fence_count(text: str) -> int:
    return len(_FENCE.findall(text))


class Welcome(Static):
    """An empty transcript's welcome (render/welcome.py): gone with the first turn."""

    DEFAULT_CSS = """
    Welcome { color: $text-muted; padding: 1 2; }
    """

    def __init__(self) -> None:
        super().__init__(welcome_text(None), markup=False)

    def backends_checked(
        self, backends: list[tuple[str, str, str]], plan: tuple[tuple[str, RouteDecision], ...] = ()
    ) -> None:
        self.update(welcome_text(backends, plan))


class Transcript(LaidOutOnce, VerticalScroll):
    DEFAULT_CSS = """
    Transcript { height: 1fr; padding: 0 1; }
    """

    def compose(self):
        yield Welcome()
        yield History()

    @property
    def welcome(self) -> Welcome | None:
        found = self.query(Welcome)
        return found.first() if found else None

    async def drop_welcome(self) -> None:
        """The first turn (or a resumed chat) takes the welcome's place."""
        if (welcome := self.welcome) is not None:
            await welcome.remove()

    def on_mount(self) -> None:
        self.anchor()
        self.app.theme_changed_signal.subscribe(self, self._theme_changed)

    def _theme_changed(self, theme: Theme) -> None:
        """The code's colours follow the theme: every part is rendered again."""
        use_code_theme(theme.dark)
        self.render_again()

    @property
    def history(self) -> History:
        return self.query_one(History)

    def live(self) -> list:
        return [w for w in self.children if not isinstance(w, History | Welcome)]

    async def add_entry(self, entry: Entry) -> None:
        """A finished entry: into the history, or after the live turn while one runs."""
        if any(isinstance(w, AssistantMessage) and w.result is None for w in self.live()):
            await self.mount(LiveEntry(entry))
        else:
            self.history.add(entry)

    async def settle(self) -> None:
        """Fold every finished live widget into the history, in order."""
        folded = []
        steps: list[str] = []  # a task's tool steps in a row: one note of their lines
        for widget in self.live():
            if isinstance(widget, ToolStep | Narration):
                steps.append(widget.line)
                folded.append(widget)
                continue
            if steps:
                self.history.add(Entry("note", "\n".join(steps)))
                steps = []
            if isinstance(widget, AssistantMessage):
                if widget.result is None:
                    break  # still streaming: it and what follows stay live
                self.history.add(*widget.result)
            elif isinstance(widget, LiveEntry):
                self.history.add(widget.entry)
            folded.append(widget)  # anything else (a question nobody answered) goes
        if steps:
            self.history.add(Entry("note", "\n".join(steps)))
        if folded:
            await self.remove_children(folded)

    def render_again(self) -> None:
        """Render every part again (the code colours follow a theme change)."""
        for widget in [self.history, *self.live()]:
            if isinstance(widget, RenderedLines):
                widget._key = None
                widget.refresh(layout=True)

    async def clear(self) -> None:
        self.history.clear()
        await self.remove_children(self.live())
