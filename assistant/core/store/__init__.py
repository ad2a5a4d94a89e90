"""The database: the ledger's connection, migrations and public transaction/query API, and the
table families built on it (turns, bench runs, proposals, stored sessions)."""
