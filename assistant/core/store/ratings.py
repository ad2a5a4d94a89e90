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

from assistant.core.store.ledger import Ledger, LedgerError, Writer
from assistant.core.store.records import VERDICTS, Source, Verdict, undated

HISTORY_TURNS = 200  # the routed turns of a kind the exploration share is taken over
Key = tuple[str, str, str]  # (backend, model, kind)


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


# Per backend, model and kind: the turns whose newest rating is good, and bad.
_RATED = """
SELECT t.backend, undated(t.model), t.kind, TOTAL(r.verdict = 'good'), TOTAL(r.verdict = 'bad')
FROM ratings r JOIN turns t ON t.id = r.turn_id
WHERE r.id IN (SELECT MAX(id) FROM ratings GROUP BY turn_id) AND t.kind != '' {since}
GROUP BY t.backend, undated(t.model), t.kind
"""
# The proposals no rating overrides (their turn has none, or they name no turn).
_UNRATED_PROPOSALS = "turn_id IS NULL OR NOT EXISTS (SELECT 1 FROM ratings r WHERE r.turn_id = proposals.turn_id)"


def counts(ledger: Ledger, *, since: float | None = None) -> dict[Key, tuple[int, int]]:
    """(good, bad) answers per (backend, model, kind), of turns started since `since`
    (a model under its undated name: `records.undated`):
    each turn's newest rating, else its proposal's outcome; proposals that name no
    turn count as edits. Added up by SQLite: a large ledger is one grouped read."""
    args: list[object] = [] if since is None else [since]
    rows = ledger.query("cannot read the ratings", _RATED.format(since="" if since is None else "AND t.started_at >= ?"),
                        args)  # fmt: skip
    found: dict[Key, tuple[int, int]] = {}
    for backend, model, kind, good, bad in rows:
        if good or bad:
            found[(backend, model, kind)] = (int(good), int(bad))
    for proposal in ledger.proposals(since=since, where=_UNRATED_PROPOSALS):
        key = (proposal.backend, undated(proposal.model), proposal.kind or "edit")
        good, bad = found.get(key, (0, 0))
        found[key] = (good + proposal.good, bad + (not proposal.good))
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

