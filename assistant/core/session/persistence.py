"""Chats that resume: what a session stores after each change, and what it
takes back from a stored one (see `core.store.saved_sessions` for the tables).

A collaborator of `ChatSession`, which hands it the chat's state (`ChatState`)
at each change: it keeps what it stored, so that a history stored again (after
/compact, /retry other, /keep, a pin) keeps each answer's figures, and every
answer the conversation no longer holds stays, shown but not sent
(`StoredExchange.in_conversation`). `/clear` starts another stored chat
(`restart`): the one before keeps its exchanges and its title.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from assistant.core import store
from assistant.core.conversation import Exchange, Message
from assistant.core.session.recorder import TurnRecorder

if TYPE_CHECKING:
    from assistant.core.results import TurnResult
    from assistant.core.store.saved_sessions import StoredExchange, StoredSession

TITLE_CHARS = 80


@dataclass(frozen=True, slots=True)
class ChatState:
    """What a resumed session needs besides its exchanges to send the same prompt."""

    mode: str
    system_prompt: str
    pinned: Sequence[Message]
    window_starts: dict[str, int]


class ChatPersistence:
    def __init__(
        self, recorder: TurnRecorder, session_id: Callable[[], str], started_at: float, *, enabled: bool = False
    ) -> None:
        self.recorder = recorder
        self._session_id = session_id
        self.started_at = started_at
        #: Store exchanges and window state so the session can be resumed (TUI chats).
        self.enabled = enabled
        self._row_written = False
        self._stored: list[StoredExchange] = []
        self.title_hint = ""  # the first question: the session's title

    def ensure_session_row(self, first: str, exchanges: Sequence[Exchange]) -> None:
        """The ledger's row of this session, written once, titled by its first question."""
        ledger = self.recorder.ledger()
        if ledger is not None and not self._row_written:
            first = first or self.title_hint or (exchanges[0].user.content if exchanges else "")
            title = " ".join(first.split())[:TITLE_CHARS]
            ledger.start_session(self._session_id(), started_at=self.started_at, cwd=os.getcwd(), title=title)
            self._row_written = True

    def save_exchange(self, exchanges: Sequence[Exchange], result: TurnResult, state: ChatState) -> None:
        """The last exchange (answered by `result`) and the state after it."""
        ledger = self._ledger()
        if ledger is None:
            return
        try:
            self.ensure_session_row("", exchanges)
            item = store.saved_sessions.StoredExchange(exchanges[-1], result)
            self._stored.append(item)
            store.saved_sessions.append_exchange(ledger, self._session_id(), item)
            self._save_state(ledger, state)
        except store.LedgerError as exc:
            self.recorder.error = str(exc)

    def save_unanswered(self, result: TurnResult, state: ChatState) -> None:
        """A turn that left nothing in the conversation (cancelled or failed before any
        text): kept to be shown with its note, never sent again."""
        ledger = self._ledger()
        if ledger is None:
            return
        try:
            self.ensure_session_row(result.question, ())
            item = store.saved_sessions.StoredExchange(Exchange(Message("user", result.question), None), result,
                                                       in_conversation=False)  # fmt: skip
            self._stored.append(item)
            store.saved_sessions.append_exchange(ledger, self._session_id(), item)
            self._save_state(ledger, state)
        except store.LedgerError as exc:
            self.recorder.error = str(exc)

    def save_history(self, exchanges: Sequence[Exchange], state: ChatState) -> None:
        """Store the history again after the conversation changed (/compact, /retry
        other, /keep, a pin): every exchange stored stays, in its place, those no
        longer in `exchanges` marked as out of the conversation."""
        ledger = self._ledger()
        if ledger is None or not self._row_written:
            return
        held = {id(e) for e in exchanges}
        stored = {id(item.exchange) for item in self._stored}
        items = [replace(item, in_conversation=id(item.exchange) in held) for item in self._stored]
        items += [store.saved_sessions.StoredExchange(e) for e in exchanges if id(e) not in stored]
        self._stored = items
        try:
            store.saved_sessions.replace_exchanges(ledger, self._session_id(), items)
            self._save_state(ledger, state)
        except store.LedgerError as exc:
            self.recorder.error = str(exc)

    def restart(self, started_at: float) -> None:
        """A new stored chat from now on (/clear), under the session's new id: the one
        before keeps its exchanges and its title; this one is titled by its own first
        question."""
        self.started_at = started_at
        self._row_written = False
        self._stored = []
        self.title_hint = ""

    def resumed(self, stored: StoredSession) -> None:
        """`stored` is this session now: its rows exist, its exchanges are kept."""
        self._row_written = True
        self.started_at = stored.started_at
        self._stored = list(stored.exchanges)

    def _ledger(self) -> store.Ledger | None:
        """The ledger to store the chat in; None when storing is off or there is none."""
        return self.recorder.ledger() if self.enabled else None

    def _save_state(self, ledger: store.Ledger, state: ChatState) -> None:
        store.saved_sessions.save_state(
            ledger,
            self._session_id(),
            mode=state.mode,
            system_prompt=state.system_prompt,
            pinned=state.pinned,
            window_starts=state.window_starts,
        )
