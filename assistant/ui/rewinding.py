"""`/rewind` and `/redo` in the TUI.

The session's points are read off the UI thread and shown by the rewind screen
(screens/rewind.py), which works out each preview through `preview_of`; the
preview it dismisses with is carried out here, in a worker of the turn's group.
A rewind or redo that moved the chat leaves the session holding the stored chat
again (the core reloads it), and the transcript is drawn again from that stored
chat, as a resumed one is. What each ends with is a `Note`; an error is one line.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from assistant.core import store
from assistant.core.checkpoints import CheckpointError
from assistant.core.session.rewind import RewindError, reloaded
from assistant.render.rewind import points_lines, rewound_line
from assistant.ui import screens
from assistant.ui.actions import show_stored

if TYPE_CHECKING:
    from assistant.core.session.chat import ChatSession
    from assistant.core.session.rewind import Preview, Rewound, What
    from assistant.core.store.saved_sessions import StoredSession
    from assistant.ui.host import ChatHost

log = logging.getLogger(__name__)

# What reading the points, a preview, a rewind or a redo may raise: each is one line.
FAILURES = (RewindError, CheckpointError, store.LedgerError)


def open_rewind(host: ChatHost, number: int | None = None) -> None:
    """`/rewind`: the list of the session's points; `/rewind N`: the preview of point N."""
    host.run_worker(_open(host, number), name="rewind_list", group="turn", exit_on_error=False)


def redo(host: ChatHost) -> None:
    """`/redo`: take back the session's last rewind, its files and its chat."""
    session = host.session
    host.run_worker(_carry_out(host, lambda: session.rewinds.redo(session.session_id), redo=True), name="redo",
                    group="turn", exit_on_error=False)  # fmt: skip


def rewind(host: ChatHost, preview: Preview) -> None:
    """Carry out the preview the rewind screen was left with."""
    rewinds = host.session.rewinds
    host.run_worker(_carry_out(host, lambda: rewinds.rewind(preview), redo=False), name="rewind", group="turn",
                    exit_on_error=False)  # fmt: skip


async def _open(host: ChatHost, number: int | None) -> None:
    session = host.session
    try:
        points = await asyncio.to_thread(session.rewinds.points, session.session_id)
    except FAILURES as exc:
        await host.add_note(f"Nothing to rewind: {exc}", error=True)
        return
    if not points:
        await host.add_note(points_lines(points)[0])
        return
    first = None
    if number is not None:
        first = await asyncio.to_thread(preview_of, session, number, "both", True)
        if isinstance(first, str):
            await host.add_note(f"Nothing to rewind: {first}", error=True)
            return

    def chosen(preview: Preview | None) -> None:
        if preview is not None:
            rewind(host, preview)

    host.push_screen(screens.RewindScreen(points, partial(preview_of, session), first), chosen)


def preview_of(session: ChatSession, number: int, what: What, keep_mine: bool) -> Preview | str:
    """What rewinding to before point `number` would do, or why it cannot be done
    (in a thread: a preview takes a checkpoint of the files as they are)."""
    try:
        return session.rewinds.preview(session.session_id, number, what, keep_mine=keep_mine)
    except FAILURES as exc:
        return str(exc)


async def _carry_out(host: ChatHost, step: Callable[[], Rewound], *, redo: bool) -> None:
    session = host.session
    try:
        rewound, stored = await asyncio.to_thread(_done, session, step)
    except FAILURES as exc:
        await host.add_note(f"{'Nothing redone' if redo else 'Not rewound'}: {exc}", error=True)
        return
    if stored is not None:
        await show_stored(host, stored)
    await host.add_note(rewound_line(rewound, redo=redo))
    host.refresh_status()


def _done(session: ChatSession, step: Callable[[], Rewound]) -> tuple[Rewound, StoredSession | None]:
    """What `step` did, and the stored chat to draw again when it moved exchanges (in a thread)."""
    rewound = step()
    if not rewound.chat_moved:
        return rewound, None
    try:
        return rewound, reloaded(session.ledger(), session.session_id)
    except store.LedgerError as exc:  # the session holds the chat as stored: only the window is behind
        log.warning("the transcript was not drawn again after the rewind: %s", exc)
        return rewound, None
