"""What the slash commands and the app's controllers may use of the app: a narrow
interface the app satisfies, so that they never import the app (which imports
them), and a reader sees in one place what a command can do.

Esc stops whatever runs now (an answer, a refactor's model turn or its checks):
each takes a fresh event from `Cancels`, and Esc sets the latest.
"""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

if TYPE_CHECKING:
    from textual.message import Message
    from textual.notifications import SeverityLevel
    from textual.screen import Screen
    from textual.theme import Theme
    from textual.timer import Timer
    from textual.worker import Worker

    from assistant.core.backends.protocol import Backend
    from assistant.core.config import Config
    from assistant.core.session.chat import ChatSession

Found = TypeVar("Found")


class Cancels:
    """The event Esc sets: the one of the work that started last."""

    def __init__(self) -> None:
        self._latest = threading.Event()

    def fresh(self) -> threading.Event:
        """A new event for work that starts now (an answer, a refactor's step)."""
        self._latest = threading.Event()
        return self._latest

    def cancel(self) -> None:
        self._latest.set()


class RefactorCommands(Protocol):
    """`/refactor` and `/undo` (ui/refactoring.py's `Refactoring`)."""

    def start(self, path: str, instruction: str) -> None: ...

    def undo(self) -> None: ...


class ChatHost(Protocol):
    """The app, as its commands and controllers see it."""

    config: Config
    project_root: Path
    state: str  # "loading 42%", "ready", "generating", "unavailable"
    theme: str
    own_themes: list[str]  # the shipped themes and the user's, listed first by /theme
    cancels: Cancels
    refactoring: RefactorCommands

    @property
    def session(self) -> ChatSession:
        """The chat (opened once the first frame is drawn)."""

    @property
    def busy(self) -> bool:
        """An answer is streaming."""

    @property
    def available_themes(self) -> dict[str, Theme]: ...

    async def add_note(self, text: str, *, error: bool = False) -> None: ...

    def notify(self, message: str, *, title: str = "", severity: SeverityLevel = "information",
               timeout: float | None = None, markup: bool = False) -> None: ...

    def refresh_status(self) -> None: ...

    def load_backend(self, candidate: Backend | None = None) -> None: ...

    async def start_turn(self, text: str, *, retry_on: str | None = None) -> None: ...

    async def action_quit(self) -> None: ...

    # Textual's own, as the app has them.

    def post_message(self, message: Message) -> bool: ...

    def query_one(self, selector: type[Found]) -> Found: ...

    def push_screen(self, screen: Screen[Any], callback: Callable[[Any], None] | None = None) -> Awaitable[Any]: ...

    async def push_screen_wait(self, screen: Screen[Any]) -> Any: ...  # noqa: ANN401 - what the screen dismisses with

    def run_worker(self, work: Any, *, name: str = "", group: str = "default", thread: bool = False,  # noqa: ANN401
                   exit_on_error: bool = True) -> Worker[Any]: ...

    def set_timer(self, delay: float, callback: Callable[[], Any]) -> Timer: ...

    def call_after_refresh(self, callback: Callable[..., Any], *args: Any) -> bool: ...  # noqa: ANN401
