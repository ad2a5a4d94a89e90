"""`assistant rewind` and `assistant redo`: a session's points, what going back to
before one would do, doing it, and taking the last rewind back (core/session/rewind.py).

Without TURN the session's points are listed. With it, the preview is printed, then
asked about on a terminal (`--yes` does it unasked; with no terminal and no `--yes`
nothing is done). The session is the one named, or the one of this project that
changed files or chatted last."""

from __future__ import annotations

import argparse

from assistant.cli.context import confirm, start
from assistant.cli.exits import EXIT_OK, EXIT_USAGE, fail
from assistant.core import store
from assistant.core.config import Config
from assistant.core.paths import Paths
from assistant.core.project import find_root
from assistant.core.session.rewind import Rewinder, RewindError, What
from assistant.core.store import saved_sessions
from assistant.core.store.ledger import Ledger, LedgerError
from assistant.render.rewind import points_lines, preview_lines, rewound_line


def cmd_rewind(paths: Paths, args: argparse.Namespace) -> int:
    config = start(paths, args)
    what: What = "files" if args.files else "chat" if args.chat else "both"
    try:
        rewinder, session_id = _opened(config, args.session)
        if session_id is None and args.turn is not None:
            return fail("no session in this project has a turn to rewind to yet")
        if session_id is None:
            print("No session in this project has a turn to rewind to yet.")
            return EXIT_OK
        if args.turn is None:
            print(f"Session {session_id}:")
            print("\n".join(points_lines(rewinder.points(session_id))))
            return EXIT_OK
        preview = rewinder.preview(session_id, args.turn, what, keep_mine=not args.discard_mine)
        print("\n".join(preview_lines(preview)))
        if args.dry_run:
            return EXIT_OK
        if preview.empty:
            print("Nothing to do.")
            return EXIT_OK
        answer = True if args.yes else confirm("Rewind? [y/N] ")
        if answer is None:
            return fail("not rewound: there is no terminal to ask on; pass --yes to rewind", EXIT_USAGE)
        if not answer:
            print("Not rewound.")
            return EXIT_OK
        print(rewound_line(rewinder.rewind(preview)))
    except (RewindError, LedgerError) as exc:
        return fail(str(exc))
    return EXIT_OK


def cmd_redo(paths: Paths, args: argparse.Namespace) -> int:
    config = start(paths, args)
    try:
        rewinder, session_id = _opened(config, args.session)
        if session_id is None:
            return fail("there is no rewind to redo in this project")
        print(rewound_line(rewinder.redo(session_id), redo=True))
    except (RewindError, LedgerError) as exc:
        return fail(str(exc))
    return EXIT_OK


def _opened(config: Config, wanted: str) -> tuple[Rewinder, str | None]:
    """The project's rewinder (an interrupted rewind finished first, and said) and the session meant."""
    ledger = Ledger.open()
    root = find_root()
    rewinder = Rewinder(root, config, lambda: ledger)
    if said := rewinder.finish_interrupted():
        print(said)
    if wanted != saved_sessions.LAST:
        return rewinder, saved_sessions.find(ledger, wanted).id
    return rewinder, _last_here(ledger, str(rewinder.root))


def _last_here(ledger: Ledger, project: str) -> str | None:
    """The session of this project that changed files last, or else its stored chat changed last."""
    checkpoints = store.rewinds.checkpoints(ledger, project=project, live=False)
    rewinds = store.rewinds.rewinds(ledger, project=project)
    latest = max([*((c.at, c.session_id) for c in checkpoints), *((r.at, r.session_id) for r in rewinds)], default=None)
    return latest[1] if latest else saved_sessions.last_session_in(ledger, project)
