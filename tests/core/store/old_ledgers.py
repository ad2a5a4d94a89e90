"""Ledgers as an older version of the app left them, for migration tests."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from assistant.core.store.ledger import MIGRATIONS


def ledger_at(path: Path, version: int, *statements: str) -> Path:
    """A ledger file at schema `version`, with `statements` run on it (its rows)."""
    with sqlite3.connect(path) as conn:
        for migration in MIGRATIONS[:version]:
            migration(conn)
        conn.execute(f"PRAGMA user_version = {version}")
        for statement in statements:
            conn.execute(statement)
    conn.close()
    return path
