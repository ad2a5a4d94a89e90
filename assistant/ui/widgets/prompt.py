"""The multi-line prompt: Enter sends, Shift+Enter / Ctrl+J / Alt+Enter insert a newline,
Up/Down walk the history from the first/last line, Tab completes a slash command."""

from __future__ import annotations

from dataclasses import dataclass

from textual import events
from textual.message import Message
from textual.widgets import TextArea

NEWLINE_KEYS = {"shift+enter", "ctrl+j", "alt+enter"}


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

    def __init__(self, commands: list[str] | None = None, **kwargs) -> None:
        super().__init__(soft_wrap=True, show_line_numbers=False, **kwargs)
        self.commands = sorted(commands or [])
        self.prompt_history: list[str] = []
        self._history_index: int | None = None
        self._draft = ""

    def completions(self) -> list[str]:
        text = self.text
        if not text.startswith("/") or " " in text or "\n" in text:
            return []
        return [c for c in self.commands if c.startswith(text)]

    def _set_text(self, text: str) -> None:
        self.text = text
        self.move_cursor(self.document.end)

    def remember(self, text: str) -> None:
        if text and (not self.prompt_history or self.prompt_history[-1] != text):
            self.prompt_history.append(text)
        self._history_index = None

    async def _on_key(self, event: events.Key) -> None:
        key = event.key
        if key == "enter":
            event.stop()
            event.prevent_default()
            text = self.text.strip()
            if text:
                self.remember(text)
                self.clear()
                self.post_message(self.Submitted(text))
            return
        if key in NEWLINE_KEYS:
            event.stop()
            event.prevent_default()
            self.insert("\n")
            return
        if key == "tab" and (matches := self.completions()):
            event.stop()
            event.prevent_default()
            self._set_text(matches[0] + " ")
            return
        if key == "up" and self.cursor_location[0] == 0 and self.prompt_history:
            event.stop()
            event.prevent_default()
            if self._history_index is None:
                self._draft = self.text
                self._history_index = len(self.prompt_history)
            self._history_index = max(0, self._history_index - 1)
            self._set_text(self.prompt_history[self._history_index])
            return
        if (
            key == "down"
            and self._history_index is not None
            and self.cursor_location[0] == self.document.line_count - 1
        ):
            event.stop()
            event.prevent_default()
            self._history_index += 1
            if self._history_index >= len(self.prompt_history):
                self._history_index = None
                self._set_text(self._draft)
            else:
                self._set_text(self.prompt_history[self._history_index])
            return
        await super()._on_key(event)
