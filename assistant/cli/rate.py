"""`assistant rate SESSION TURN good|bad|none`: say what an answer was worth.

The rating goes to the ledger as the TUI's `/good` and `/bad` do (core/store/ratings.py),
and the `quality` router and `assistant report` count it from the next turn on.
`TURN` numbers a session's answered turns from 1 (`last` is the latest); `none`
takes a rating back.

A SESSION or TURN that names nothing is a usage error (exit 2), whichever it is,
and is said back cut short and escaped: the argument may be anything at all.
A ledger with nothing in it, or one that cannot be read, is exit 1.
"""

from __future__ import annotations

import argparse
import re
import time

from assistant.cli.context import start
from assistant.cli.exits import EXIT_USAGE, fail
from assistant.core.paths import Paths
from assistant.core.store import ratings
from assistant.core.store import saved_sessions as session_store
from assistant.core.store.ledger import Ledger, LedgerError
from assistant.core.text import clean_text, shown

# ASCII digits only: `str.isdecimal` takes `١` (Arabic-Indic one) and `int` reads it
# as 1; and a few digits, as no session has a billion turns (and `int` refuses
# more than 4,300 digits with a ValueError).
_TURN_NUMBER = re.compile(r"[0-9]{1,9}")


def _number(text: str, count: int) -> int | None:
    """The 0-based index `TURN` names among `count` answered turns, or None."""
    if text == "last":
        return count - 1 if count else None
    if not _TURN_NUMBER.fullmatch(text) or not 1 <= int(text) <= count:
        return None
    return int(text) - 1


def cmd_rate(paths: Paths, args: argparse.Namespace) -> int:
    start(paths, args)
    if not Ledger.recorded(paths.ledger_file):
        return fail("no turns recorded yet: nothing to rate")
    try:
        with Ledger.open(paths.ledger_file) as ledger:
            wanted = clean_text(args.session)
            session_id = session_store.named(ledger, wanted)
            if session_id is None:
                return fail("no turns recorded yet: nothing to rate")
            answered = ratings.answered_turns(ledger, session_id)
            turn_text = clean_text(args.turn).strip()
            index = _number(turn_text, len(answered))
            if index is None:
                count = f"1 to {len(answered)}" if answered else "none"
                return fail(f"session {session_id} has no answered turn {shown(turn_text)} (its turns: {count}, or last)",
                            EXIT_USAGE)  # fmt: skip
            turn = ledger.turn(answered[index])
            ratings.rate(ledger, answered[index], args.verdict, "rating", time.time())
    except session_store.NoSuchSession as exc:
        return fail(str(exc), EXIT_USAGE)
    except LedgerError as exc:
        return fail(str(exc))
    what = f"{turn.kind} turn" if turn.kind else "turn"
    print(f"rated {what} {index + 1} of {session_id} ({turn.backend} · {turn.model}): {args.verdict}")
    return 0
