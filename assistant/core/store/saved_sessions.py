"""Chats that survive the app: every session's exchanges, pinned items and window
state, stored in the ledger's database next to its turns.

What is stored is what a resumed session needs to send the very same prompt as
before the exit: the system prompt, the pinned messages, every exchange (with
the raw figures of the turn that answered it, which the UI renders as it renders
a live one), and each backend's window start. The ledger's `sessions` table
(start, title, cwd) is the index.

Every answer the transcript showed is kept, also those the conversation no
longer holds (`in_conversation` false): the first answer after `/retry other`,
the turns `/compact` summarised, a turn cancelled or failed before any text. A
resumed chat and an export show them; the prompt never holds them.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from assistant.core.conversation import Exchange, Message
from assistant.core.decisions import Estimate, Quality, RouteDecision
from assistant.core.events import BackendError, Usage
from assistant.core.results import TurnResult, TurnStats
from assistant.core.store.ledger import Ledger, LedgerError, SessionRecord, Writer, typed_values
from assistant.core.text import clean_text, shown
from assistant.core.typed_secrets import mask_secrets


@dataclass(frozen=True, slots=True)
class ShownAnswer:
    """An answer's heading, route badge and figures line as a version before
    ledger migration 6 rendered and stored them; its figures were not kept."""

    label: str = ""
    badge: str = ""
    footer: str = ""


@dataclass(frozen=True, slots=True)
class StoredExchange:
    exchange: Exchange  # its answer None: the turn ended before any text
    result: TurnResult | None = None  # the turn that answered, its figures raw
    shown: ShownAnswer | None = None  # stored before raw figures were (migration 6)
    # False: shown (on resume, in the export) but no longer sent: an answer `/retry
    # other` replaced, a turn `/compact` summarised, one that left no answer.
    in_conversation: bool = True


@dataclass(frozen=True, slots=True)
class StoredSession:
    id: str
    title: str
    cwd: str
    started_at: float
    mode: str
    system_prompt: str
    pinned: tuple[Message, ...]
    exchanges: tuple[StoredExchange, ...]  # every one shown, in order
    window_starts: dict[str, int] = field(default_factory=dict)

    @property
    def conversation(self) -> list[Exchange]:
        """The exchanges the next prompt is built from, in order."""
        return [item.exchange for item in self.exchanges if item.in_conversation]

    @property
    def last_result(self) -> TurnResult | None:
        """The answer /good, /bad and /retry other act on, as before the exit: the last
        turn's, passing over an answer taken out of the conversation (so after /keep,
        the one kept); None when no turn's figures were stored."""
        shown = (item for item in reversed(self.exchanges) if item.in_conversation or item.exchange.answer is None)
        return next((item.result for item in shown if item.result is not None), None)


# -- the figures column: a turn's raw figures as JSON -----------------------------

_RESULT_FIGURES = ("backend", "model", "routed_to", "outcome", "stop_reason", "cost", "counterfactual_cost",
                   "fallback_from", "fallback_reason")
_FIGURES = {"cost", "counterfactual_cost"}  # dollars, or None: unknown
_MAYBE_TEXT = {"stop_reason", "fallback_from", "fallback_reason"}


def figures_json(item: StoredExchange) -> str | None:
    """What the `figures` column holds for `item` (None: an exchange without figures)."""
    if item.result is not None:
        r = item.result
        turn: dict[str, Any] = {name: getattr(r, name) for name in _RESULT_FIGURES}
        turn["stats"] = asdict(r.stats)
        turn["usage"] = asdict(r.usage) if r.usage is not None else None
        turn["decision"] = asdict(r.decision) if r.decision is not None else None
        turn["turn_id"] = r.turn_id
        turn["error"] = asdict(r.error) if r.error is not None else None  # what the note under it said
        return json.dumps({"turn": turn})
    if item.shown is not None:
        return json.dumps({"shown": asdict(item.shown)})
    return None


def _from_figures(exchange: Exchange, text: object) -> StoredExchange:
    """The stored exchange from its `figures` column; damage raises (TypeError, ValueError, …)."""
    if text is None:
        return StoredExchange(exchange)
    if not isinstance(text, str):
        raise TypeError("figures")
    data = _cleaned(json.loads(text))
    if "shown" in data:
        return StoredExchange(exchange, shown=_record(ShownAnswer, data["shown"]))
    turn = dict(data["turn"])
    stats = _record(TurnStats, turn.pop("stats"))
    usage = turn.pop("usage", None)
    usage = _record(Usage, usage) if usage is not None else None
    decision = turn.pop("decision")
    if decision is not None:
        decision = dict(decision)
        estimates = tuple(_estimate(e) for e in decision.pop("estimates", ()))
        fallbacks = tuple(decision.pop("fallbacks", ()))
        if not all(isinstance(name, str) for name in fallbacks):
            raise TypeError("fallbacks")
        decision = _record(RouteDecision, {**decision, "estimates": estimates, "fallbacks": fallbacks})
    for name in _RESULT_FIGURES:
        value = turn.get(name)
        kinds = (float, int, type(None)) if name in _FIGURES else (str, type(None)) if name in _MAYBE_TEXT else (str,)
        if not isinstance(value, kinds) or isinstance(value, bool):
            raise TypeError(name)
    answer = exchange.answer.content if exchange.answer is not None else ""
    error = turn.get("error")  # stored since answers that failed are kept
    result = TurnResult(
        answer, stats, turn["cost"], turn["outcome"], turn["stop_reason"],
        _record(BackendError, error) if error is not None else None,
        backend=turn["backend"], model=turn["model"], usage=usage, counterfactual_cost=turn["counterfactual_cost"],
        fallback_from=turn["fallback_from"], fallback_reason=turn["fallback_reason"], decision=decision,
        routed_to=turn["routed_to"], question=exchange.user.content, turn_id=_turn_id(turn.get("turn_id")),
    )
    return StoredExchange(exchange, result)


def _turn_id(value: object) -> int | None:
    """The answer's ledger row, as stored (None before it was stored)."""
    if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
        raise TypeError("turn_id")
    return value


def _estimate(values: object) -> Estimate:
    """An estimate as stored; its quality figure (stored since migration 8) a record of its own."""
    if not isinstance(values, dict):
        raise TypeError("estimate")
    quality = values.get("quality")
    return _record(Estimate, {**values, "quality": _record(Quality, quality) if quality is not None else Quality()})


def _cleaned(value: Any) -> Any:  # noqa: ANN401 - JSON
    """JSON as read, its strings made safe: JSON keeps a lone surrogate as an escape."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, list):
        return [_cleaned(v) for v in value]
    if isinstance(value, dict):
        return {k: _cleaned(v) for k, v in value.items()}
    return value


def _record(cls: type, values: object) -> Any:  # noqa: ANN401 - an instance of `cls`
    if not isinstance(values, dict):
        raise TypeError(cls.__name__)
    known = {f.name for f in fields(cls)}
    return cls(**typed_values(cls, {k: v for k, v in values.items() if k in known}))


def save_state(
    ledger: Ledger,
    session_id: str,
    *,
    mode: str,
    system_prompt: str,
    pinned: Sequence[Message],
    window_starts: dict[str, int],
) -> None:
    # Cleaned here, not only by the ledger: JSON would keep a lone surrogate as an
    # escape, which comes back as one when the session is resumed.
    state = json.dumps(
        {
            "mode": clean_text(mode),
            "system_prompt": clean_text(system_prompt),
            "pinned": [[m.role, clean_text(m.content)] for m in pinned],
            "window_starts": window_starts,
        }
    )

    def write(conn: Writer) -> None:
        conn.execute(
            "INSERT INTO session_state (session_id, state, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT(session_id) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at",
            (session_id, state, time.time()),
        )

    ledger.transaction("cannot save the session", write)


def _insert(conn: Writer, session_id: str, seq: int, item: StoredExchange) -> None:
    # Masked, as all of the ledger's file that may quote a message (core/store/ledger.py);
    # a mask never breaks the JSON of the figures (core/typed_secrets.py).
    answer = item.exchange.answer.content if item.exchange.answer is not None else None
    figures = figures_json(item)
    conn.execute(
        "INSERT INTO session_exchanges (session_id, seq, question, answer, figures, in_conversation, at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (session_id, seq, mask_secrets(item.exchange.user.content), answer and mask_secrets(answer),
         figures and mask_secrets(figures), item.in_conversation, time.time()),
    )  # fmt: skip


def append_exchange(ledger: Ledger, session_id: str, item: StoredExchange) -> None:
    def write(conn: Writer) -> None:
        seq = conn.execute(
            "SELECT COALESCE(MAX(seq), -1) + 1 FROM session_exchanges WHERE session_id = ?", (session_id,)
        ).fetchone()[0]
        _insert(conn, session_id, seq, item)

    ledger.transaction("cannot save the session", write)


def replace_exchanges(ledger: Ledger, session_id: str, items: Sequence[StoredExchange]) -> None:
    """After /compact, /retry, /keep: the stored history becomes `items`."""

    def write(conn: Writer) -> None:
        conn.execute("DELETE FROM session_exchanges WHERE session_id = ?", (session_id,))
        for seq, item in enumerate(items):
            _insert(conn, session_id, seq, item)

    ledger.transaction("cannot save the session", write)


class NoSuchSession(LedgerError):
    """What a person typed names no session, or more than one."""


def find(ledger: Ledger, session_id: str) -> SessionRecord:
    """The session `session_id` names (its whole id, or a unique prefix); `NoSuchSession`
    when it names none or several, LedgerError when the ledger cannot be read."""
    exact = [s for s in ledger.sessions() if s.id == session_id]
    found = exact or [s for s in ledger.sessions() if s.id.startswith(session_id)]
    if not found:
        raise NoSuchSession(f"no session {shown(session_id)}: `assistant sessions` lists them")
    if len(found) > 1:
        raise NoSuchSession(f"{shown(session_id)} names {len(found)} sessions: give more of the id")
    return found[0]


LAST = "last"  # what a person types for the session used last


def named(ledger: Ledger, wanted: str, *, chat: bool = False) -> str | None:
    """The id of the session `wanted` names, as every command reads it: `last` is the
    session used last (the one with the latest turn; with `chat`, the stored chat
    changed last), anything else its id or a unique prefix (`NoSuchSession` when it
    names none or several). None: `last` when there is no such session yet."""
    if wanted != LAST:
        return find(ledger, wanted).id
    return last_session_in(ledger) if chat else ledger.last_session_id()


def load(ledger: Ledger, session_id: str) -> StoredSession:
    """The stored session; LedgerError when there is no such session."""
    record = find(ledger, session_id)
    rows = ledger.query(
        "cannot read the session",
        "SELECT question, answer, figures, in_conversation FROM session_exchanges WHERE session_id = ? ORDER BY seq",
        [record.id],
    )
    state_rows = ledger.query(
        "cannot read the session", "SELECT state FROM session_state WHERE session_id = ?", [record.id]
    )
    if not rows and not state_rows:
        raise LedgerError(f"session {record.id} has no stored conversation (deleted, or not a chat)")
    try:
        return _stored(record, rows, state_rows[0][0] if state_rows else "{}")
    except (TypeError, ValueError, AttributeError, KeyError, OverflowError, RecursionError) as exc:
        raise LedgerError(
            f"cost ledger {ledger.path}: session {record.id} is damaged ({type(exc).__name__}); it cannot be resumed"
        ) from None


def _stored(record: SessionRecord, rows: list[tuple], state_text: object) -> StoredSession:
    """The session from its rows and state; any damage raises (TypeError, ValueError, …)."""
    if not isinstance(state_text, str):
        raise TypeError("state")
    state = json.loads(state_text)
    texts = (str,)
    exchanges = []
    for q, a, figures, in_conversation in rows:
        if not isinstance(q, texts) or not isinstance(a, str | None) or in_conversation not in (0, 1):
            raise TypeError("exchange")
        answer = Message("assistant", clean_text(a)) if a is not None else None
        item = _from_figures(Exchange(Message("user", clean_text(q)), answer), figures)
        exchanges.append(replace(item, in_conversation=bool(in_conversation)))
    mode, system_prompt = state.get("mode", "auto"), state.get("system_prompt", "")
    pinned = [(role, content) for role, content in state.get("pinned", [])]
    if not all(isinstance(v, str) for v in (mode, system_prompt, *(x for pair in pinned for x in pair))):
        raise TypeError("state")
    if any(role not in ("system", "user", "assistant") for role, _ in pinned):
        raise ValueError("pinned role")
    return StoredSession(
        id=record.id,
        title=record.title,
        cwd=record.cwd,
        started_at=record.started_at,
        mode=mode,
        system_prompt=clean_text(system_prompt),
        pinned=tuple(Message(role, clean_text(content)) for role, content in pinned),
        exchanges=tuple(exchanges),
        window_starts={str(k): int(v) for k, v in state.get("window_starts", {}).items()},
    )


def last_session_in(ledger: Ledger, cwd: str | None = None) -> str | None:
    """The stored chat changed last (of those started in `cwd`, when given)."""
    where = "WHERE s.cwd = ? " if cwd is not None else ""
    rows = ledger.query(
        "cannot read sessions",
        "SELECT s.id FROM sessions s JOIN session_exchanges e ON e.session_id = s.id "
        f"{where}GROUP BY s.id ORDER BY MAX(e.at) DESC LIMIT 1",
        [cwd] if cwd is not None else [],
    )
    return rows[0][0] if rows else None


def rename(ledger: Ledger, session_id: str, title: str) -> None:
    ledger.set_title(session_id, title)


def delete(ledger: Ledger, session_id: str) -> None:
    """Forget a session's conversation. Its turns stay in the ledger: what was spent was spent."""

    def write(conn: Writer) -> None:
        conn.execute("DELETE FROM session_exchanges WHERE session_id = ?", (session_id,))
        conn.execute("DELETE FROM session_state WHERE session_id = ?", (session_id,))
        conn.execute("UPDATE sessions SET title = '(deleted)' WHERE id = ?", (session_id,))

    ledger.transaction("cannot delete the session", write)


def listing(ledger: Ledger, search: str = "") -> list[tuple[SessionRecord, int]]:
    """Sessions with a stored conversation (newest first) and how many exchanges each
    holds; `search` matches the title or any question or answer."""
    rows = ledger.query(
        "cannot read sessions",
        "SELECT session_id, COUNT(*) FROM session_exchanges GROUP BY session_id",
        [],
    )
    counts = dict(rows)
    matching: set[str] | None = None
    if search:
        like = f"%{search}%"
        hits = ledger.query(
            "cannot search sessions",
            "SELECT DISTINCT session_id FROM session_exchanges WHERE question LIKE ? OR answer LIKE ?",
            [like, like],
        )
        matching = {h[0] for h in hits}
    found = []
    for record in ledger.sessions():
        if record.id not in counts:
            continue
        if matching is not None and record.id not in matching and search.lower() not in record.title.lower():
            continue
        found.append((record, counts[record.id]))
    return found
