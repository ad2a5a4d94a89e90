"""`assistant rate SESSION TURN good|bad|none`: say what an answer was worth.

The rating goes to the ledger as the TUI's `/good` and `/bad` do (core/store/ratings.py),
and the `quality` router and `assistant report` count it from the next turn on.
`TURN` numbers a session's answered turns from 1 (`last` is the latest); `none`
takes a rating back.
"""

from __future__ import annotations

import argparse
import time

from assistant.cli.context import start
from assistant.cli.exits import EXIT_USAGE, fail
from assistant.core.paths import Paths
from assistant.core.store import ratings
from assistant.core.store import sessions as session_store
from assistant.core.store.ledger import Ledger, LedgerError
from assistant.core.text import clean_text


def _number(text: str, count: int) -> int | None:
    """The 0-based index `TURN` names among `count` answered turns, or None."""
    if text == "last":
        return count - 1 if count else None
    if not text.isdecimal() or not 1 <= int(text) <= count:
        return None
    return int(text) - 1


def cmd_rate(paths: Paths, args: argparse.Namespace) -> int:
    start(paths, args)
    if not Ledger.recorded(paths.ledger_file):
        return fail("no turns recorded yet: nothing to rate")
    try:
        with Ledger.open(paths.ledger_file) as ledger:
            wanted = clean_text(args.session)
            session_id = ledger.last_session_id() if wanted == "last" else session_store.find(ledger, wanted).id
            if session_id is None:
                return fail("no turns recorded yet: nothing to rate")
            answered = ratings.answered_turns(ledger, session_id)
            index = _number(clean_text(args.turn).strip(), len(answered))
            if index is None:
                count = f"1 to {len(answered)}" if answered else "none"
                return fail(f"session {session_id} has no answered turn {args.turn!r} (its turns: {count}, or last)",
                            EXIT_USAGE)  # fmt: skip
            turn = ledger.turn(answered[index])
            ratings.rate(ledger, answered[index], args.verdict, "rating", time.time())
    except LedgerError as exc:
        return fail(str(exc))
    what = f"{turn.kind} turn" if turn.kind else "turn"
    print(f"rated {what} {index + 1} of {session_id} ({turn.backend} · {turn.model}): {args.verdict}")
    return 0
