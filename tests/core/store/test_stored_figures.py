"""Stored chats keep raw figures: each answer's turn as numbers, which the UI and
the export render as they render a live answer; chats stored before (migration 6)
read as they did."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from assistant.core.conversation import Exchange, Message
from assistant.core.store import saved_sessions as sessions
from assistant.core.store.ledger import Ledger, LedgerError
from assistant.render import format as fmt
from assistant.render.sessions import markdown
from tests.core.store.old_ledgers import ledger_at
from tests.stored import answered_by

FIGURE = st.none() | st.floats(min_value=0, max_value=1e6, allow_nan=False)
NAME = st.text(max_size=20)


def _store_and_load(path: Path, items: list[sessions.StoredExchange]) -> sessions.StoredSession:
    with Ledger.open(path) as ledger:
        ledger.start_session("s1", started_at=1.0, cwd="/p", title="t")
        sessions.replace_exchanges(ledger, "s1", items)
        return sessions.load(ledger, "s1")


@given(backend=NAME, model=NAME, reason=NAME, cost=FIGURE, fallback=st.none() | NAME)
def test_an_answer_s_figures_come_back_as_they_were_stored(tmp_path_factory, backend, model, reason, cost, fallback) -> None:  # noqa: ANN001
    result = answered_by(backend=backend, model=model, reason=reason, cost=cost, fallback_from=fallback)
    exchange = Exchange(Message("user", result.question), Message("assistant", result.text))
    stored = _store_and_load(tmp_path_factory.mktemp("f") / "l.sqlite3", [sessions.StoredExchange(exchange, result)])
    [item] = stored.exchanges
    assert item.result == result
    assert fmt.stored_answer(item) == (
        fmt.answer_label(backend, model, fallback), fmt.route_badge(result.decision), fmt.turn_summary(result)
    )


def test_a_chat_stored_before_raw_figures_reads_as_it_did(tmp_path: Path) -> None:
    path = ledger_at(
        tmp_path / "ledger.sqlite3", 5,
        "INSERT INTO sessions (id, started_at, title, cwd) VALUES ('old', 1.0, 'an old chat', '/p')",
        "INSERT INTO session_exchanges (session_id, seq, question, answer, label, badge, footer, at) VALUES "
        "('old', 0, 'q1', 'a1', 'claude · claude-sonnet-5-5', 'rules: long prompt (est. $0.0100 · 1.50 s)', "
        "'48.5 tok/s · TTFT 250 ms · took 1.60 s', 2.0), ('old', 1, 'q2', NULL, '', '', '', 3.0)",
        "INSERT INTO session_state (session_id, state, updated_at) VALUES ('old', '{}', 3.0)",
    )
    with Ledger.open(path) as ledger:
        stored = sessions.load(ledger, "old")
    first, second = stored.exchanges
    assert fmt.stored_answer(first) == (
        "claude · claude-sonnet-5-5", "rules: long prompt (est. $0.0100 · 1.50 s)", "48.5 tok/s · TTFT 250 ms · took 1.60 s"
    )
    assert first.result is None and second.result is None and second.shown is None
    assert second.exchange.answer is None
    text = markdown(stored)
    assert "## claude · claude-sonnet-5-5" in text and "<sub>48.5 tok/s · TTFT 250 ms · took 1.60 s</sub>" in text
    with sqlite3.connect(path) as conn:
        columns = [row[1] for row in conn.execute("PRAGMA table_info(session_exchanges)")]
    assert "figures" in columns and not {"label", "badge", "footer"} & set(columns)  # nothing rendered is stored


@given(st.one_of(
    st.text(max_size=40),
    st.sampled_from(['{"turn": 3}', '{"turn": {"stats": []}}', '{"shown": "x"}', '[]', '{"turn": {}}', "null"]),
))
def test_damaged_figures_are_one_clear_error(tmp_path_factory, figures: str) -> None:  # noqa: ANN001
    path = tmp_path_factory.mktemp("d") / "l.sqlite3"
    result = answered_by()
    exchange = Exchange(Message("user", "q"), Message("assistant", "a"))
    _store_and_load(path, [sessions.StoredExchange(exchange, result)])
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE session_exchanges SET figures = ?", (figures,))
    with Ledger.open(path) as ledger:
        try:
            loaded = sessions.load(ledger, "s1")
        except LedgerError as exc:
            assert "damaged" in str(exc) and "\n" not in str(exc)
        else:  # what parses is read as it is: "null" is an exchange without figures
            assert loaded.exchanges[0].result is None


def test_a_fallback_answer_is_headed_by_who_answered_and_whom_it_stood_in_for(tmp_path: Path) -> None:
    result = replace(answered_by(backend="local", model="smol"), fallback_from="claude")
    exchange = Exchange(Message("user", "q"), Message("assistant", "a"))
    [item] = _store_and_load(tmp_path / "l.sqlite3", [sessions.StoredExchange(exchange, result)]).exchanges
    assert fmt.stored_answer(item)[0] == "local · smol (fallback from claude)"


def test_an_exchange_without_an_answer_s_figures_has_no_heading(tmp_path: Path) -> None:
    exchange = Exchange(Message("user", "q"), Message("assistant", "a"))
    [item] = _store_and_load(tmp_path / "l.sqlite3", [sessions.StoredExchange(exchange)]).exchanges
    assert fmt.stored_answer(item) == ("", "", "")
    with pytest.raises(LedgerError, match="no session"):
        with Ledger.open(tmp_path / "l.sqlite3") as ledger:
            sessions.load(ledger, "nope")
