"""What became of each answer, as the quality router reads it (migration 8).

A turn's answer is rated by what the user and the checks did, never guessed:

- `ratings` rows, one per signal, append-only, the newest one deciding:
  `/good` and `/bad` (or the keys on a focused answer, or `assistant rate`),
  `retry` when the user asked the other backend (`/retry other`, `@other`) and
  so found the answer wanting, and `keep` when they kept the first answer after
  all (that one good, the other's bad). A `none` verdict takes a rating back.
- a refactor proposal's outcome, for its turn when no rating row says otherwise:
  applied and kept with its checks passing = good; rejected, failed to parse,
  failed its checks after the repair round, or undone = bad
  (`ProposalRecord.good`). Proposals recorded before migration 8 name no turn:
  they count on their own, as edits.

A turn with no signal counts for nothing: it is not "good" by default.
"""

from __future__ import annotations

from dataclasses import dataclass

from assistant.core.store.ledger import Ledger, LedgerError, Writer
from assistant.core.store.records import VERDICTS, Source, Verdict
HISTORY_TURNS = 200  # the routed turns of a kind the exploration share is taken over


@dataclass(frozen=True, slots=True)
class Rated:
    """One rated answer: who gave it, on which kind of turn, and whether it was good."""

    backend: str
    model: str
    kind: str
    good: bool


def rate(ledger: Ledger, turn_id: int, verdict: Verdict, source: Source, at: float) -> None:
    """Append one signal on the turn `turn_id` (LedgerError when there is no such turn)."""
    if verdict not in VERDICTS:
        raise ValueError(f"verdict must be one of {', '.join(VERDICTS)}, got {verdict!r}")

    def write(conn: Writer) -> None:
        if conn.execute("SELECT 1 FROM turns WHERE id = ?", (turn_id,)).fetchone() is None:
            raise LookupError(turn_id)
        conn.execute(
            "INSERT INTO ratings (turn_id, at, verdict, source) VALUES (?, ?, ?, ?)", (turn_id, at, verdict, source)
        )

    try:
        ledger.transaction("cannot record the rating", write)
    except LookupError:
        raise LedgerError(f"cost ledger {ledger.path}: no turn {turn_id} to rate") from None


_LATEST_RATINGS = """
SELECT t.id, t.backend, t.model, t.kind, r.verdict
FROM ratings r JOIN turns t ON t.id = r.turn_id
WHERE r.id = (SELECT MAX(id) FROM ratings WHERE turn_id = r.turn_id) AND t.kind != ''
"""


def rated(ledger: Ledger, *, since: float | None = None) -> list[Rated]:
    """Every rated answer (of turns started since `since`): the newest rating of a
    turn, else its proposal's outcome; proposals that name no turn count as edits."""
    args: list[object] = []
    sql = _LATEST_RATINGS
    if since is not None:
        sql += " AND t.started_at >= ?"
        args.append(since)
    rows = ledger.query("cannot read the ratings", sql, args)
    decided = {turn_id for turn_id, *_ in rows}
    found = [Rated(backend, model, kind, verdict == "good") for _, backend, model, kind, verdict in rows if verdict != "none"]
    for proposal in ledger.proposals(since=since):
        if proposal.turn_id is None or proposal.turn_id not in decided:
            found.append(Rated(proposal.backend, proposal.model, proposal.kind or "edit", proposal.good))
    return found


def history(ledger: Ledger, kind: str, *, limit: int = HISTORY_TURNS) -> tuple[int, int]:
    """(routed turns, explored turns) among the latest `limit` turns of `kind`; a
    fallback's attempt is not a routed turn."""
    sql = (
        "SELECT COUNT(*), TOTAL(explored) FROM (SELECT explored FROM turns"
        " WHERE kind = ? AND decided_by != 'fallback' ORDER BY started_at DESC, id DESC LIMIT ?)"
    )
    [(turns, explored)] = ledger.query("cannot read turns", sql, [kind, limit])
    return int(turns), int(explored)


def answered_turns(ledger: Ledger, session_id: str) -> list[int]:
    """The row ids of a session's answered turns, oldest first: what `assistant rate
    SESSION N` numbers from 1 (a failed attempt answered nothing to rate)."""
    sql = "SELECT id FROM turns WHERE session_id = ? AND outcome != 'error' ORDER BY started_at, id"
    return [row_id for (row_id,) in ledger.query("cannot read turns", sql, [session_id])]

