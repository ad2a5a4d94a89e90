"""Chats that resume: what a `ChatSession` stores after each change, and how it
picks a stored session up again (see `core.store.sessions` for the tables).

A mixin of `ChatSession`: it uses the session's ledger, history, pins and windows.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from assistant.core.conversation import Exchange

if TYPE_CHECKING:
    from assistant.core.session.turns import TurnResult

TITLE_CHARS = 80


class PersistenceMixin:
    # Provided by ChatSession.
    persist: bool
    session_id: str
    _session_written: bool
    _stored_items: list
    _resume_starts: dict[str, int]
    _title_hint: str

    def _store(self):  # noqa: ANN202 - the session_store module, or None without a ledger
        if not self.persist or self.ledger() is None:
            return None
        from assistant.core.store import sessions as session_store

        return session_store

    def _ensure_session_row(self, first: str = "") -> None:
        ledger = self.ledger()
        if ledger is not None and not self._session_written:
            first = first or self._title_hint or (self.exchanges[0].user.content if self.exchanges else "")
            title = " ".join(first.split())[:TITLE_CHARS]
            ledger.start_session(self.session_id, started_at=self.started_at, cwd=os.getcwd(), title=title)
            self._session_written = True

    def _stored(self, exchange: Exchange, result: TurnResult | None):  # noqa: ANN202 - StoredExchange
        from assistant.render import format as fmt
        from assistant.core.store.sessions import StoredExchange

        if result is None:
            return StoredExchange(exchange)
        badge = fmt.route_badge(result.decision) if result.decision is not None else ""
        return StoredExchange(exchange, f"{result.backend} · {result.model}", badge, fmt.turn_summary(result))

    def _persist_exchange(self, result: TurnResult) -> None:
        store = self._store()
        if store is None:
            return
        from assistant.core.store.ledger import LedgerError

        try:
            self._ensure_session_row()
            item = self._stored(self.exchanges[-1], result)
            self._stored_items.append(item)
            store.append_exchange(self.ledger(), self.session_id, item)
            self._persist_state(store)
        except LedgerError as exc:
            self.ledger_error = str(exc)

    def _persist_state(self, store) -> None:  # noqa: ANN001
        store.save_state(
            self.ledger(),
            self.session_id,
            mode=self.mode,
            system_prompt=self.system_prompt,
            pinned=self.pinned,
            window_starts={name: w.start for name, w in self.windows.items()},
        )

    def persist_history(self) -> None:
        """Store the whole history again (after /clear, /compact, /retry, a pin)."""
        store = self._store()
        if store is None or not self._session_written:
            return
        from assistant.core.store.ledger import LedgerError

        kept = {id(item.exchange): item for item in self._stored_items}
        try:
            store.replace_exchanges(
                self.ledger(), self.session_id, [kept.get(id(e)) or self._stored(e, None) for e in self.exchanges]
            )
            self._persist_state(store)
        except LedgerError as exc:
            self.ledger_error = str(exc)

    def resume(self, stored) -> None:  # noqa: ANN001 - a session_store.StoredSession
        """Continue a stored session: the same history, pins and window starts, so the
        next prompt is the one it would have been."""
        self._session_id = stored.id
        self._session_written = True
        self.started_at = stored.started_at
        self.system_prompt = stored.system_prompt or self.system_prompt
        self.pinned = list(stored.pinned)
        self.exchanges = [item.exchange for item in stored.exchanges]
        self._stored_items = list(stored.exchanges)
        self.windows.clear()
        self._resume_starts = dict(stored.window_starts)
        if stored.mode:
            self.mode = stored.mode

