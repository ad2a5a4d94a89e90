"""What the slash commands (and a key on an answer) ask of the session off the UI
thread: rate an answer, keep the first one after `/retry other`, compact the
dropped turns, resume a stored chat. Each runs in a worker and ends with a
`Note` the app adds to the transcript (or, for a resumed chat, draws it again).
"""

from __future__ import annotations

import asyncio
import os
from functools import partial
from typing import TYPE_CHECKING

from assistant.core import store
from assistant.core.session.compaction import CompactionError
from assistant.render import format as fmt
from assistant.render.sessions import shown_answer
from assistant.ui.messages import Note
from assistant.ui.widgets.rendered import Entry
from assistant.ui.widgets.transcript import Transcript

if TYPE_CHECKING:
    from assistant.core.results import TurnResult
    from assistant.core.session.chat import ChatSession
    from assistant.core.store.saved_sessions import StoredSession
    from assistant.ui.host import ChatHost

BUSY = "Wait for the answer or cancel it (Esc) first."


def rate(host: ChatHost, verdict: str, result: TurnResult | None = None) -> None:
    """`/good`, `/bad` (or a key on a focused answer): the answer's rating, into the ledger."""
    host.run_worker(partial(_rate, host, verdict, result), name="rate_answer", group="rating", thread=True,
                    exit_on_error=False)


def keep_first(host: ChatHost) -> None:
    """`/keep` after `/retry other`: the first answer is the conversation's again."""
    host.run_worker(partial(_keep_first, host), name="keep_first_answer", group="turn", thread=True,
                    exit_on_error=False)


def compact(host: ChatHost) -> None:
    """`/compact`: the turns the window dropped, summarised into one pinned message (Esc stops it)."""
    host.run_worker(partial(_compact, host), name="compact_history", group="turn", thread=True, exit_on_error=False)


def resume(host: ChatHost, which: str) -> None:
    """Continue a stored chat: "last" (this folder's latest) or a session id."""
    host.run_worker(_resume(host, which), name="load_session", group="session", exit_on_error=False)


def _rate(host: ChatHost, verdict: str, result: TurnResult | None) -> None:
    try:
        rated = host.session.rate(verdict, result)  # type: ignore[arg-type]
    except (ValueError, store.LedgerError) as exc:
        host.post_message(Note(f"Not rated: {exc}", error=True))
        return
    kind = rated.decision.kind if rated.decision is not None and rated.decision.kind else "this kind of"
    host.post_message(Note(f"Rated {verdict}: the answer of {fmt.answer_label(rated.backend, rated.model)}; "
                           f"the quality router counts it for {kind} turns from the next one."))  # fmt: skip


def _keep_first(host: ChatHost) -> None:
    try:
        first = host.session.keep_first()
    except (ValueError, store.LedgerError) as exc:
        host.post_message(Note(f"Nothing kept: {exc}", error=True))
        return
    host.post_message(Note(f"Kept the first answer ({fmt.answer_label(first.backend, first.model)}): the conversation "
                           "goes on from it, rated good, and the other answer is rated bad."))  # fmt: skip


def _compact(host: ChatHost) -> None:
    cancel = host.cancels.fresh()
    try:
        text = host.session.compact(cancel)
    except CompactionError as exc:
        host.notify(str(exc), severity="error")  # a toast: the conversation is as it was
        return
    host.post_message(Note(text))


async def _resume(host: ChatHost, which: str) -> None:
    stored, error = await asyncio.to_thread(_stored, host.session, which)
    if stored is None:
        await host.add_note(error, error=True)
        return
    if host.busy:
        host.notify(BUSY, severity="warning")
        return
    host.session.resume(stored)
    await show_stored(host, stored)
    title = f" “{stored.title}”" if stored.title else ""
    await host.add_note(f"Resumed session {stored.id}{title}: {len(stored.exchanges)} exchange(s).")
    host.refresh_status()


async def show_stored(host: ChatHost, stored: StoredSession) -> None:
    """The transcript as the stored chat holds it, each answer as a resumed chat shows
    it (after a resume, a rewind or a redo)."""
    transcript = host.query_one(Transcript)
    await transcript.drop_welcome()
    await transcript.clear()
    for item in stored.exchanges:
        transcript.history.add(Entry("user", item.exchange.user.content))
        if (shown := shown_answer(item)) is not None:
            transcript.history.add(Entry("answer", shown.text, shown.label, shown.footer, shown.note, shown.badge,
                                         item.result))  # fmt: skip


def _stored(session: ChatSession, which: str) -> tuple[StoredSession | None, str]:
    """The stored session `which` (read in a thread), or why it cannot be resumed."""
    ledger = session.ledger()
    if ledger is None:
        return None, f"cannot resume: {session.ledger_error}"
    try:
        session_id = store.saved_sessions.last_session_in(ledger, os.getcwd()) if which == "last" else which
        if session_id is None:
            return None, "no earlier session in this folder to resume"
        return store.saved_sessions.load(ledger, session_id), ""
    except store.LedgerError as exc:
        return None, f"cannot resume: {exc}"
