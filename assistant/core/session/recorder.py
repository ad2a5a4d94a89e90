"""The session's side of the ledger: the database opened on first use, every
attempt recorded, and the figures the router reads back from it (each model's
recent measured turns, what was spent today)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from assistant.core import accounting, routing, store
from assistant.core.config import Config
from assistant.core.decisions import KindHistory, Quality
from assistant.core.results import BenchResult, TurnResult
from assistant.core.session.turns import turn_record

if TYPE_CHECKING:
    from assistant.core.backends.protocol import Backend
    from assistant.core.decisions import Estimate, Measured
    from assistant.core.store.records import Source, Verdict

log = logging.getLogger(__name__)


class TurnRecorder:
    def __init__(self, config: Config, factory: Callable[[], store.Ledger] | None, wall_clock: Callable[[], float]) -> None:
        self.config = config
        self.wall_clock = wall_clock
        self._factory = factory
        self._ledger: store.Ledger | None = None
        self._lock = threading.Lock()  # the turn's worker and the /cost screen both open it
        #: Why the last ledger write failed (None when it worked); the UI says it once.
        self.error: str | None = None
        self._measured: dict[tuple[str, str], list[store.TurnRecord]] = {}
        self._benched: dict[tuple[str, str], list[BenchResult]] = {}
        self._day_spent: float | None = None
        self._rated: dict[tuple[str, str, str], tuple[int, int]] | None = None  # (backend, model, kind) → good, bad
        self._evaluated: dict[tuple[str, str, str], tuple[int, int]] = {}  # the same key → eval passed, failed
        self._history: dict[str, tuple[int, int]] = {}  # kind → routed turns, explored
        #: Called before a turn is first recorded (the session's row must exist).
        self.before_first_record: Callable[[str], None] = lambda question: None

    def ledger(self) -> store.Ledger | None:
        """The ledger, opened on first use (off the UI thread); None when it cannot be."""
        with self._lock:
            if self._ledger is None and self._factory is not None:
                try:
                    self._ledger = self._factory()
                except store.LedgerError as exc:
                    self.error = str(exc)
                    self._factory = None  # said once; not tried again every turn
            return self._ledger

    def close(self) -> None:
        if self._ledger is not None:
            self._ledger.close()

    def record(
        self,
        session_id: str,
        result: TurnResult,
        started_at: float,
        route_reason: str,
        decided_by: str,
        estimate: Estimate | None,
        *,
        kind: str = "",
        explored: bool = False,
        task_id: str = "",
        step: int = 0,
    ) -> int | None:
        """One attempt's ledger row, and its id (None when it could not be written);
        a measured one also feeds the router's figures."""
        record = turn_record(session_id, started_at, result, route_reason, self.config, decided_by, estimate,
                             kind=kind, explored=explored)  # fmt: skip
        if task_id:
            record = replace(record, task_id=task_id, step=step)
        if result.outcome == "ok" and (kept := self._measured.get((result.backend, store.undated(result.model)))) is not None:
            kept.insert(0, record)  # once read from the ledger, kept up to date here
            del kept[self.config.router.measured_turns :]
        if kind and decided_by != "fallback" and (seen := self._history.get(kind)) is not None:
            self._history[kind] = (seen[0] + 1, seen[1] + explored)
        ledger = self.ledger()
        if ledger is None:
            return None
        try:
            self.before_first_record(result.question)
            turn_id = ledger.record_turn(record)
            self.error = None
        except store.LedgerError as exc:
            log.warning("turn not recorded: %s", exc)
            self.error = str(exc)
            return None
        return turn_id

    def write(self, doing: str, write: Callable[[store.Ledger], None]) -> None:
        """A task's row (a tool step, the task itself): a ledger that fails only says so
        (`error`), as a turn's record does; the task goes on."""
        ledger = self.ledger()
        if ledger is None:
            return
        try:
            write(ledger)
            self.error = None
        except store.LedgerError as exc:
            log.warning("%s not recorded: %s", doing, exc)
            self.error = str(exc)

    # -- quality: what the answers were worth --------------------------------------

    def rate(self, turn_id: int, verdict: Verdict, source: Source) -> None:
        """Record a signal on one of this session's turns (LedgerError when it cannot be)."""
        ledger = self.ledger()
        if ledger is None:
            raise store.LedgerError(self.error or "the cost ledger is off: nothing can be rated")
        store.ratings.rate(ledger, turn_id, verdict, source, self.wall_clock())
        self.ratings_changed()

    def rate_quietly(self, result: TurnResult, verdict: Verdict, source: Source) -> None:
        """A signal the user gave by what they did (asking again elsewhere): not worth
        stopping the turn for, so a ledger that fails only says so."""
        if result.turn_id is None:
            return
        try:
            self.rate(result.turn_id, verdict, source)
        except store.LedgerError as exc:
            self.error = str(exc)

    def ratings_changed(self) -> None:
        """A rating or a proposal's outcome was written: the figures are read again on the next turn."""
        self._rated = None

    def quality(self, backend: Backend, kind: str) -> Quality:
        """The measured quality of the backend's model on `kind`, from every rated answer
        (read from the ledger again after a rating: one grouped query)."""
        if self._rated is None:
            self._rated, self._evaluated = {}, {}
            ledger = self.ledger()
            if ledger is not None:
                try:
                    self._rated = store.ratings.counts(ledger)
                    self._evaluated = store.evals.evidence(ledger)
                except store.LedgerError as exc:
                    self.error = str(exc)
        key = (backend.name, store.undated(backend.model_name), kind)
        good, bad = self._rated.get(key, (0, 0))
        passed, failed = self._evaluated.get(key, (0, 0))
        weight = self.config.router.eval_weight
        quality = accounting.quality.estimate(good + round(passed * weight), bad + round(failed * weight))
        return replace(quality, evaluated=passed + failed, eval_passed=passed) if passed + failed else quality

    def history(self, kind: str) -> KindHistory:
        """The recent routed turns of `kind`, and how many explored."""
        if kind not in self._history:
            seen = (0, 0)
            ledger = self.ledger()
            if ledger is not None:
                try:
                    seen = store.ratings.history(ledger, kind)
                except store.LedgerError as exc:
                    self.error = str(exc)
            self._history[kind] = seen
        turns, explored = self._history[kind]
        return KindHistory(turns, explored)

    def measured(self, backend: Backend) -> Measured:
        """The backend's model's recent measured turns and its bench runs on this
        machine (`assistant bench`), read from the ledger once."""
        key = (backend.name, store.undated(backend.model_name))  # a dated id's figures are its alias's
        if key not in self._measured:
            ledger = self.ledger()
            records: list[store.TurnRecord] = []
            benched: list[BenchResult] = []
            if ledger is not None:
                limit = self.config.router.measured_turns
                try:
                    records = ledger.recent(*key, limit=limit)
                    benched = ledger.bench_results(backend=key[0], model=key[1], limit=limit)
                except store.LedgerError as exc:
                    self.error = str(exc)
            self._measured[key], self._benched[key] = records, benched
        return routing.measured(self._measured[key], self._benched.get(key, ()))

    def day_spent(self) -> float:
        """Dollars spent since local midnight: read from the ledger once, then kept up."""
        if self._day_spent is None:
            self._day_spent = 0.0
            ledger = self.ledger()
            if ledger is not None:
                try:
                    self._day_spent = ledger.spent_since(routing.local_midnight(self.wall_clock()))
                except store.LedgerError as exc:
                    self.error = str(exc)
        return self._day_spent

    def spent(self, cost: float | None) -> None:
        if self._day_spent is not None and cost:
            self._day_spent += cost
