"""The database: the ledger's connection, migrations and public transaction/query API, and the
table families built on it (turns, bench runs, proposals, stored sessions, ratings, checkpoints and rewinds).

Other packages read these names from the package (`store.Ledger`): the modules
load when first used (see core/lazy.py)."""

from assistant.core.lazy import exports

__getattr__, __dir__ = exports(globals(), {
    "Ledger": "ledger", "LedgerError": "ledger", "new_session_id": "ledger",
    "TurnRecord": "records", "ProposalRecord": "records", "SessionRecord": "records", "undated": "records",
    "TaskRecord": "records", "ToolStepRecord": "records", "CheckpointRecord": "records", "RewindRecord": "records",
    "saved_sessions": "saved_sessions", "ratings": "ratings", "rewinds": "rewinds", "evals": "evals",
    "EvalSample": "records",
})  # fmt: skip
