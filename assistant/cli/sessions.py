"""`assistant sessions` (the stored chats) and `assistant export` (one as Markdown:
its id, a unique prefix, or `last`, the chat changed last)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from assistant.cli.context import start
from assistant.cli.exits import fail
from assistant.core.atomic import write_atomic
from assistant.core.paths import Paths
from assistant.core.store import saved_sessions as session_store
from assistant.core.store.ledger import Ledger, LedgerError
from assistant.core.text import clean_text
from assistant.render.format import cost
from assistant.render.sessions import markdown


def _stored_sessions_ledger(paths: Paths):  # noqa: ANN202 - a Ledger, or None
    """The ledger for reading stored chats: read-only (see `Ledger.open_to_read`)."""
    path = paths.ledger_file
    return Ledger.open_to_read(path) if Ledger.recorded(path) else None


def cmd_sessions(paths: Paths, args: argparse.Namespace) -> int:
    start(paths, args)  # a broken config is said here as by every other command
    try:
        found = []
        if (ledger := _stored_sessions_ledger(paths)) is not None:
            with ledger:
                found = session_store.listing(ledger, clean_text(args.search))
    except LedgerError as exc:
        return fail(str(exc))
    if not found:
        print("no stored chats yet" + (f" matching {args.search!r}" if args.search else ""))
        return 0
    for record, count in found:
        started = time.strftime("%Y-%m-%d %H:%M", time.localtime(record.started_at))
        print(f"{record.id}  {started}  {count:>3} exchange{'s' if count != 1 else ' '}  {cost(record.cost):>9}  {record.title or '–'}  ({record.cwd})")
    return 0


def cmd_export(paths: Paths, args: argparse.Namespace) -> int:
    start(paths, args)
    try:
        ledger = _stored_sessions_ledger(paths)
        if ledger is None:
            return fail("no stored chats yet")
        with ledger:
            session_id = session_store.named(ledger, clean_text(args.session), chat=True)  # `last` as `rate` reads it
            if session_id is None:
                return fail("no stored chats yet")
            text = markdown(session_store.load(ledger, session_id))
    except LedgerError as exc:
        return fail(str(exc))
    if args.output:
        try:
            write_atomic(Path(args.output), text.encode("utf-8"))  # a full disk leaves the old file
        except OSError as exc:
            return fail(f"cannot write {args.output}: {exc.strerror}")
        print(f"wrote {args.output}")
    else:
        sys.stdout.write(text)
    return 0
