"""The multi-line prompt: Enter sends, Shift+Enter / Ctrl+J / Alt+Enter insert a newline,
Up/Down walk the history from the first/last line, Tab completes a slash command.

A long paste (a log, a file) is kept aside and shown as one short marker, which
is replaced by the pasted text when the message is sent: a `TextArea` holding a
megabyte takes about a second to lay out on every change, and the app would
freeze (Esc included) while a person edits around it.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from textual import events
from textual.message import Message
from textual.widgets import TextArea

NEWLINE_KEYS = {"shift+enter", "ctrl+j", "alt+enter"}
PASTE_INLINE_CHARS = 10_000  # a longer paste is kept aside, behind a marker
_MARKER = re.compile(r"‹pasted #\d+: [^›]*›")


class PromptInput(TextArea):
    DEFAULT_CSS = """
    PromptInput {
        height: auto;
        max-height: 10;
        min-height: 3;
        border: round $primary 50%;
    }
    PromptInput:focus { border: round $primary; }
    """

    @dataclass
    class Submitted(Message):
        text: str

    def __init__(self, commands: Callable[[], Iterable[str]] = tuple, **kwargs) -> None:
        """`commands`: the slash commands' names, asked for when first completed (the
        table loads with the first command typed, not before the first frame)."""
        super().__init__(soft_wrap=True, show_line_numbers=False, **kwargs)
        self._command_names = commands
        self.prompt_history: list[str] = []
        self._history_index: int | None = None
        self._draft = ""
        self._pastes: dict[str, str] = {}  # marker -> the pasted text it stands for

    def completions(self) -> list[str]:
        text = self.text
        if not text.startswith("/") or " " in text or "\n" in text:
            return []
        return [c for c in self.commands if c.startswith(text)]

    @functools.cached_property
    def commands(self) -> list[str]:
        return sorted(self._command_names())

    def _set_text(self, text: str) -> None:
        self.text = text
        self.move_cursor(self.document.end)

    def expanded(self, text: str) -> str:
        """`text` with each paste marker it still holds replaced by what was pasted
        (in one pass: a pasted text that holds a marker's words stays as it was)."""
        if not self._pastes:
            return text
        return _MARKER.sub(lambda m: self._pastes.get(m.group(0), m.group(0)), text)

    def _keep_paste(self, pasted: str) -> str:
        lines = pasted.count("\n") + 1
        plural = "s" if lines != 1 else ""
        marker = f"‹pasted #{len(self._pastes) + 1}: {len(pasted):,} characters, {lines:,} line{plural}›"
        self._pastes[marker] = pasted
        return marker

    async def _on_paste(self, event: events.Paste) -> None:
        # A hook Textual calls by name (textual_compat.OVERRIDDEN), before TextArea's
        # own `_on_paste`, which inserts the paste unless this prevents it.
        if self.read_only or len(event.text) <= PASTE_INLINE_CHARS:
            return
        event.stop()
        event.prevent_default()
        self.insert(self._keep_paste(event.text))
        self.focus()

    def remember(self, text: str) -> None:
        if text and (not self.prompt_history or self.prompt_history[-1] != text):
            self.prompt_history.append(text)
        self._history_index = None

    async def _on_key(self, event: events.Key) -> None:
        # A hook Textual calls by name (textual_compat.OVERRIDDEN), before TextArea's
        # own `_on_key`, which inserts the key unless this prevents it.
        if self._take_key(event.key):
            event.stop()
            event.prevent_default()

    def _take_key(self, key: str) -> bool:
        """Act on `key` if it is one of the prompt's own (Enter, the newline keys, Tab
        with a completion, Up/Down at the first/last line); False leaves it to TextArea."""
        if key == "enter":
            text = self.text.strip()
            if text:
                self.remember(text)  # with its markers: recalled, it is sent in full again
                self.clear()
                self.post_message(self.Submitted(self.expanded(text)))
            return True
        if key in NEWLINE_KEYS:
            self.insert("\n")
            return True
        if key == "tab" and (matches := self.completions()):
            self._set_text(matches[0] + " ")
            return True
        if key == "up" and self.cursor_location[0] == 0 and self.prompt_history:
            if self._history_index is None:
                self._draft = self.text
                self._history_index = len(self.prompt_history)
            self._history_index = max(0, self._history_index - 1)
            self._set_text(self.prompt_history[self._history_index])
            return True
        if (
            key == "down"
            and self._history_index is not None
            and self.cursor_location[0] == self.document.line_count - 1
        ):
            self._history_index += 1
            if self._history_index >= len(self.prompt_history):
                self._history_index = None
                self._set_text(self._draft)
            else:
                self._set_text(self.prompt_history[self._history_index])
            return True
        return False
