"""The multi-line prompt: Enter sends, Shift+Enter / Ctrl+J / Alt+Enter insert a newline,
Up/Down walk the history from the first/last line, Tab completes a slash command or
an `@path` of the project.

Tab completes as a shell does: the one candidate; else what all candidates begin
with, and they are offered (the app shows them); a Tab again puts each in turn. An
`@` word keeps Tab even when nothing matches, so the keys typed next still land
here. The project's files are listed off the UI thread (a git process on a large
repository takes a while), when an `@` word is first typed after the prompt got
the focus or a message was sent, so new files count; a Tab that comes before the
listing completes when it arrives.

A long paste (a log, a file) is kept aside and shown as one short marker, which
is replaced by the pasted text when the message is sent: a `TextArea` holding a
megabyte takes about a second to lay out on every change, and the app would
freeze (Esc included) while a person edits around it.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from textual import events
from textual.message import Message
from textual.widgets import TextArea
from textual.widgets.text_area import Location

from assistant.core.project import within_root
from assistant.core.project_files import ProjectPaths, project_files

NEWLINE_KEYS = {"shift+enter", "ctrl+j", "alt+enter"}
PASTE_INLINE_CHARS = 10_000  # a longer paste is kept aside, behind a marker
_MARKER = re.compile(r"‹pasted #\d+: [^›]*›")
OFFERED_SHOWN = 12  # names of the offered paths in the hints line; then how many more


@dataclass(frozen=True, slots=True)
class _Word:
    """What Tab completes: the whole prompt while it is a `/command`, or the `@path`
    right before the cursor."""

    start: Location
    end: Location
    text: str

    @property
    def is_path(self) -> bool:
        return self.text.startswith("@")


@dataclass(frozen=True, slots=True)
class _Offer:
    """The candidates a Tab offered for a word, and which of them is in place (-1:
    their common beginning); it holds while the prompt is as that Tab left it."""

    start: Location
    candidates: tuple[str, ...]
    shown: int
    text: str
    cursor: Location


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

    class Offered(Message):
        """A Tab offered several completions (`completions()`), which the text may not
        show: the hints line shows them."""

    @dataclass
    class _Listed(Message):
        """The project's paths, listed in a worker; `here`: where the person stands in it."""

        paths: ProjectPaths
        here: str

    def __init__(self, commands: Callable[[], Iterable[str]] = tuple, root: Path | None = None, **kwargs) -> None:
        """`commands`: the slash commands' names, asked for when first completed (the
        table loads with the first command typed, not before the first frame).
        `root`: the project whose paths an `@` word completes (None: no path completion)."""
        super().__init__(soft_wrap=True, show_line_numbers=False, **kwargs)
        self._command_names = commands
        self.prompt_history: list[str] = []
        self._history_index: int | None = None
        self._draft = ""
        self._pastes: dict[str, str] = {}  # marker -> the pasted text it stands for
        self._root = root
        self._paths: ProjectPaths | None = None  # None until first listed
        self._here = ""  # the folder, relative to the root, that typed paths start from
        self._paths_stale = True  # listed again at the next `@` word
        self._listing = False
        self._waiting: tuple[str, Location] | None = None  # the prompt as a Tab left it, waiting for the listing
        self._offer: _Offer | None = None

    def completions(self) -> list[str]:
        """What Tab offers now: the slash commands the prompt's `/word` begins, as it is
        typed; the paths a Tab offered for an `@` word, while the prompt is as it left it."""
        if offer := self._live_offer():
            return list(offer.candidates)
        word = self._word()
        if word is None or word.is_path:
            return []
        return self._candidates(word) or []

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
        with something to complete, Up/Down at the first/last line); False leaves it
        to TextArea."""
        if key == "enter":
            text = self.text.strip()
            if text:
                self.remember(text)  # with its markers: recalled, it is sent in full again
                self.clear()
                self._paths_stale = True  # the answer may make files, and so may the person
                self.post_message(self.Submitted(self.expanded(text)))
            return True
        if key in NEWLINE_KEYS:
            self.insert("\n")
            return True
        if key == "tab":
            return self._complete()
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

    # -- completion -------------------------------------------------------------

    def _word(self) -> _Word | None:
        text = self.text
        if text.startswith("/") and " " not in text and "\n" not in text:
            return _Word((0, 0), self.document.end, text)
        if self._root is None:
            return None
        row, column = self.cursor_location
        before = self.document.get_line(row)[:column]
        if not before or before[-1].isspace():
            return None
        word = before.rsplit(maxsplit=1)[-1]
        return _Word((row, column - len(word)), (row, column), word) if word.startswith("@") else None

    def _candidates(self, word: _Word) -> list[str] | None:
        """What `word` may become; None while the project's paths are not listed yet.
        A path with a space is left out: a message's `@` word ends at one."""
        if not word.is_path:
            return [c for c in self.commands if c.startswith(word.text)]
        if self._paths is None:
            return None
        found = self._paths.complete(word.text[1:], self._here)
        return [f"@{path}" for path in found if not any(ch.isspace() for ch in path)]

    def _live_offer(self) -> _Offer | None:
        offer = self._offer
        if offer is not None and (offer.cursor != self.cursor_location or offer.text != self.text):
            offer = self._offer = None
        return offer

    def _complete(self) -> bool:
        """Complete the word Tab is for. False when there is none: Tab then moves the
        focus, as anywhere else. An `@` word keeps the key even with nothing to offer."""
        if offer := self._live_offer():  # Tab again: the next candidate in place
            shown = (offer.shown + 1) % len(offer.candidates)
            self._put(offer.start, offer.cursor, offer.candidates, shown)
            return True
        word = self._word()
        if word is None:
            return False
        candidates = self._candidates(word)
        if candidates is None:
            self._list_paths()
            self._waiting = (self.text, self.cursor_location)
            return True
        if not candidates:
            if word.is_path:
                self.app.bell()
            return word.is_path
        if len(candidates) == 1:
            only = candidates[0]
            self.replace(only if only.endswith("/") else only + " ", word.start, word.end,
                         maintain_selection_offset=False)
            return True
        common = os.path.commonprefix(candidates)
        self._put(word.start, word.end, tuple(candidates), -1 if len(common) > len(word.text) else 0)
        return True

    def _put(self, start: Location, end: Location, candidates: tuple[str, ...], shown: int) -> None:
        """Put candidate `shown` (-1: their common beginning) in place of what lies
        from `start` to `end`, and offer the candidates."""
        text = os.path.commonprefix(list(candidates)) if shown < 0 else candidates[shown]
        self.replace(text, start, end, maintain_selection_offset=False)
        self._offer = _Offer(start, candidates, shown, self.text, self.cursor_location)
        self.post_message(self.Offered())

    def on_focus(self) -> None:
        self._paths_stale = True

    def on_text_area_changed(self) -> None:
        if self._paths_stale and (word := self._word()) is not None and word.is_path:
            self._list_paths()  # as the `@` is typed: ready by the time Tab is

    def _list_paths(self) -> None:
        if self._listing or self._root is None:
            return
        self._listing, self._paths_stale = True, False
        self.run_worker(functools.partial(self._list_in_thread, self._root), name="project_files",
                        group="project_files", thread=True, exit_on_error=False)

    def _list_in_thread(self, root: Path) -> None:
        paths, here = ProjectPaths({}), ""
        try:
            paths, here = ProjectPaths.of(project_files(root)), _standing_in(root)
        finally:  # whatever happened, the prompt stops waiting (an error is the worker's to log)
            self.post_message(self._Listed(paths, here))

    def on_prompt_input__listed(self, message: _Listed) -> None:
        message.stop()
        self._paths, self._here, self._listing = message.paths, message.here, False
        waiting, self._waiting = self._waiting, None
        if waiting == (self.text, self.cursor_location):
            self._complete()


def _standing_in(root: Path) -> str:
    """Where a typed path starts from, relative to `root`: the current folder when it is
    inside the project (the rule of `mentioned_files`, which reads the `@` words), else
    the root itself (`""`)."""
    try:
        here = within_root(Path.cwd(), root)
    except OSError:  # the current folder was deleted
        return ""
    return here.as_posix() if here is not None and here.parts else ""


def offered_line(candidates: Sequence[str], shown: int = OFFERED_SHOWN) -> str:
    """The offered `@` paths for the hints line: each by its name in its folder
    (`calc.py`, `pkg/`), the first `shown` of them, then how many more there are."""
    names = []
    for candidate in candidates[:shown]:
        path = candidate.removeprefix("@")
        bare = path.rstrip("/")
        names.append(bare.rpartition("/")[2] + path[len(bare):])
    more = len(candidates) - len(names)
    return "   ".join(names) + (f"   … {more} more" if more > 0 else "")
