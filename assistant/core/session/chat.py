"""A chat session: the conversation, the backends it is routed to, and what every turn cost.

Shared by the TUI (which runs `run_turn` in a thread worker) and by `assistant
ask`, so both route, fit the context, measure, cost and record turns the same
way. A turn goes:

1. its `@` prefixes are read (`@claude`, `@quality`, …) and the files it names found;
2. each candidate backend fits the conversation into its own sliding window
   (counted in its own tokens) — the router sees those sizes;
3. the router chain (privacy, budget, rules by default) decides, with a reason
   and an estimate for every candidate (`RouteDecided`);
4. the chosen backend streams the answer; when it cannot start (no key, not
   loaded, rate-limited, overloaded) before any text, the next allowed candidate
   takes it (`FallbackStarted`);
5. every attempt is written to the ledger with the decision.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.core.backends.protocol import Backend
from assistant.core.backends.pool import BackendPool, BackendSource, window_budget
from assistant.core.config import Config
from assistant.core.conversation import Exchange, Message
from assistant.core.events import (
    BackendError,
    FallbackStarted,
    Notice,
    RouteDecided,
    SessionEvent,
    StreamEvent,
    TextDelta,
    TurnDone,
    Usage,
)
from assistant.core.accounting.metrics import Clock, SessionTotals, TurnMetrics, TurnStats
from assistant.core.project import find_root
from assistant.core.session.persistence import PersistenceMixin
from assistant.core.session.turns import TurnResult, events, turn_record, unavailable_reason

if TYPE_CHECKING:  # imported when the first turn needs them, not at start-up
    from assistant.core.store.ledger import Ledger, TurnRecord
    from assistant.core.accounting.pricing import PriceTable
    from assistant.core.routing.protocol import RouteDecision, Router, TurnKind, TurnRequest
    from assistant.core.window.sliding import Assembly, ContextTooLarge, SlidingWindow

log = logging.getLogger(__name__)

AUTO = "auto"
# Failures another backend cannot do better on.
NO_FALLBACK_KINDS = {"context"}
# Failures that mean a backend is not set up (no key, no model file).
SETUP_KINDS = {"unavailable", "model_file", "load"}
OnEvent = Callable[[StreamEvent | SessionEvent], None]


class ChatSession(PersistenceMixin):
    def __init__(
        self,
        config: Config,
        backend: Backend | None = None,
        clock: Clock = time.monotonic,
        *,
        ledger: Callable[[], Ledger] | None = None,
        backends: Mapping[str, BackendSource] | None = None,
        fallback: BackendSource | None = None,
        router: Router | None = None,
        session_id: str | None = None,
        wall_clock: Callable[[], float] = time.time,
        project_root: Path | None = None,
        installed: bool | None = None,
    ) -> None:
        """`backend` fixes the session on it (else `general.backend`: a name, or "auto"
        for the router); `backends` adds or replaces backends by name (tests);
        `fallback` is the backend named "local" (what a remote backend falls back to)."""
        self.config = config
        self.clock = clock
        self.wall_clock = wall_clock
        preset: dict[str, BackendSource] = dict(backends or {})
        if fallback is not None:
            preset.setdefault("local", fallback)
        if backend is not None:
            preset[backend.name] = backend
        # A session handed its backends (tests, benchmarks) does not go looking for others.
        look = installed if installed is not None else backend is None or config.general.backend == AUTO
        self.pool = BackendPool(config, preset, installed=look)
        self.mode: str = backend.name if backend is not None else config.general.backend
        self.project_root = project_root or find_root()  # the one rule (core/project.py)
        self.system_prompt = config.general.system_prompt
        self.pinned: list[Message] = []
        self.exchanges: list[Exchange] = []
        self.windows: dict[str, SlidingWindow] = {}
        self._window_exact: dict[str, bool] = {}
        self.assemblies: dict[str, Assembly] = {}  # each backend's last window, for /context
        self.totals = SessionTotals()
        self._prices: PriceTable | None = None
        self._router = router
        self._router_problems: list[str] = []  # plugins that failed to load or raised
        self._router_problems_said = 0
        #: The turn in progress, for live figures; read from other threads.
        self.current: TurnMetrics | None = None
        self.current_backend: Backend | None = None
        self.last: TurnResult | None = None
        self.last_backend: str | None = None  # pool name of the backend that answered last
        self._session_id = session_id
        self.started_at = wall_clock()
        self._ledger_factory = ledger
        self._ledger: Ledger | None = None
        self._ledger_lock = threading.Lock()  # the turn's worker and the /cost screen both open it
        self._session_written = False
        #: Why the last ledger write failed (None when it worked); the UI says it once.
        self.ledger_error: str | None = None
        self._measured: dict[tuple[str, str], list[TurnRecord]] = {}
        #: Store exchanges and window state so the session can be resumed (TUI chats).
        self.persist = False
        self._stored_items: list = []
        self._resume_starts: dict[str, int] = {}
        self._title_hint = ""  # the first question: the session's title
        # Batch refactors run turns from several threads: totals and loads are guarded,
        # and `limiter(name)` bounds how many turns a backend serves at once.
        self._state_lock = threading.RLock()
        self.limiter: Callable[[str], contextlib.AbstractContextManager[object]] = lambda name: contextlib.nullcontext()
        self._day_spent: float | None = None

    @property
    def session_id(self) -> str:
        if self._session_id is None:
            from assistant.core.store.ledger import new_session_id

            self._session_id = new_session_id()
        return self._session_id

    # -- backends ----------------------------------------------------------------

    @property
    def backend(self) -> Backend:
        """The backend in charge: the fixed one, or in auto mode the one that answered
        last (before any turn: the local model)."""
        if self.mode != AUTO:
            return self.pool.get(self.mode)
        names = self.pool.names()
        name = self.last_backend or ("local" if "local" in names else names[0])
        return self.pool.get(name)

    def backend_if_created(self) -> Backend | None:
        """The backend in charge, if it exists yet: creating one imports its module and
        reads package metadata, which the first frame should not wait for."""
        if self.mode != AUTO:
            return self.pool.made(self.mode)
        return self.pool.made(self.last_backend or "local")

    def switch_backend(self, backend: Backend) -> None:
        """Use `backend` for every turn (`/model NAME`, `/model PATH.gguf`)."""
        old = self.pool.put(backend)
        self.mode = backend.name
        if old is not None:
            old.close()
            self.windows.pop(backend.name, None)

    def set_mode(self, mode: str) -> None:
        """`auto` (the router decides) or a backend's name."""
        self.mode = mode

    def candidates(self, forced: str | None = None) -> list[str]:
        """The backends this turn may go to."""
        names = self.pool.names()
        if self.mode == AUTO:
            chosen = names
        else:
            chosen = [self.mode]
            if self.config.claude.fallback_to_local and "local" in names and not self.pool.get(self.mode).capabilities.local:
                chosen.append("local")
        if forced and forced in names and forced not in chosen:
            chosen.insert(0, forced)
        return chosen

    def close(self) -> None:
        self.pool.close()
        if self._ledger is not None:
            self._ledger.close()

    def clear(self) -> None:
        self.exchanges.clear()
        for window in self.windows.values():
            window.reset()
        self.assemblies.clear()
        self.persist_history()

    # -- figures -----------------------------------------------------------------

    @property
    def prices(self) -> PriceTable:
        if self._prices is None:
            from assistant.core.accounting.pricing import price_table

            self._prices = price_table(self.config.prices)
        return self._prices

    def costs(
        self, backend: Backend, usage: Usage | None, elapsed: float, billed: bool
    ) -> tuple[float | None, float | None]:
        """(cost, counterfactual cost on the reference Claude model) of a turn."""
        from assistant.core.accounting.pricing import turn_costs

        return turn_costs(
            self.prices,
            local=backend.capabilities.local,
            model=(usage.model if usage and usage.model else backend.model_name),
            usage=usage,
            billed=billed,
            elapsed=elapsed,
            machine_per_hour=self.config.cost.local_machine_per_hour,
            reference_model=self.config.cost.reference_model,
        )

    def live(self) -> tuple[TurnStats, float | None] | None:
        """The turn in progress (or else the last one): its figures and its cost so far."""
        current, backend = self.current, self.current_backend
        if current is not None and backend is not None:
            stats = current.snapshot()
            cost, _ = self.costs(backend, current.usage, stats.elapsed, billed=True)
            return stats, cost
        if self.last is not None:
            return self.last.stats, self.last.cost
        return None

    def context_fill(self, stats: TurnStats | None = None) -> float | None:
        """How full the window of the backend in charge is: the prompt's tokens
        (the turn in progress's, else the last one's) over its budget."""
        if stats is None:
            live = self.live()
            stats = live[0] if live else None
        name = self.last_backend if self.current is None else self._current_name
        assembly = self.assemblies.get(name or "")
        if stats is None or stats.tokens_in is None or assembly is None:
            return None
        return stats.tokens_in / assembly.budget

    # -- the window --------------------------------------------------------------

    def window(self, name: str) -> SlidingWindow:
        """The backend's sliding window; rebuilt (same start) when its counter
        changes kind (a local model that was not loaded is now)."""
        from assistant.core.window.counters import window_counter
        from assistant.core.window.sliding import SlidingWindow

        backend = self.pool.get(name)
        exact = backend.loaded or not backend.capabilities.local
        window = self.windows.get(name)
        if window is None or self._window_exact.get(name) != exact:
            fresh = SlidingWindow(
                window_counter(backend),
                window_budget(self.config, backend),
                slide_fraction=self.config.window.slide_fraction,
                name=name,
            )
            if window is not None:
                fresh.reset(window.start)
            elif name in self._resume_starts:
                fresh.reset(self._resume_starts.pop(name))
            self.windows[name], self._window_exact[name] = fresh, exact
            window = fresh
        return window

    def warm_counters(self) -> None:
        """Ready every candidate's token counter now: the first turn counts its prompt
        for each (to route it and price it), and loading tiktoken's tables alone took
        0.4 s of that turn's time to first token."""
        from assistant.core.window.counters import window_counter

        probe = Message("user", "")
        for name in self.candidates():  # the counters, not the windows: a turn may be making those
            window_counter(self.pool.get(name)).message_tokens(probe)

    def _system(self) -> Message | None:
        return Message("system", self.system_prompt) if self.system_prompt else None

    def assemble(self, name: str, current: Message) -> Assembly | ContextTooLarge:
        from assistant.core.window.sliding import ContextTooLarge

        try:
            assembly = self.window(name).assemble(self._system(), self.pinned, self.exchanges, current)
        except ContextTooLarge as exc:
            return exc
        self.assemblies[name] = assembly
        return assembly

    # -- routing -----------------------------------------------------------------

    def router(self) -> Router:
        if self._router is None:
            from assistant.core.routing.chain import build_chain

            self._router, problems = build_chain(self.config, self.project_root)
            self._router_problems = list(problems)
        return self._router

    def _new_router_problems(self) -> list[str]:
        problems = self._router_problems + list(getattr(self._router, "errors", []))
        fresh = problems[self._router_problems_said :]
        self._router_problems_said = len(problems)
        return fresh

    def _measured_figures(self, name: str, backend: Backend):  # noqa: ANN202 - Measured, imported lazily
        from assistant.core.routing.profiles import measured

        key = (backend.name, backend.model_name)
        if key not in self._measured:
            ledger = self.ledger()
            records: list[TurnRecord] = []
            if ledger is not None:
                from assistant.core.store.ledger import LedgerError

                try:
                    records = ledger.recent(*key, limit=self.config.router.measured_turns)
                except LedgerError as exc:
                    self.ledger_error = str(exc)
            self._measured[key] = records
        return measured(self._measured[key])

    def _budget(self):  # noqa: ANN202 - BudgetState, imported lazily
        from assistant.core.routing.profiles import budget_state, local_midnight

        if self._day_spent is None:
            self._day_spent = 0.0
            ledger = self.ledger()
            if ledger is not None:
                from assistant.core.store.ledger import LedgerError

                try:
                    self._day_spent = ledger.spent_since(local_midnight(self.wall_clock()))
                except LedgerError as exc:
                    self.ledger_error = str(exc)
        return budget_state(self.config, self.totals.cost, self._day_spent)

    def route(
        self,
        request: TurnRequest,
        current: Message,
        fit: Callable[[str], Assembly | ContextTooLarge] | None = None,
    ) -> tuple[RouteDecision, dict[str, Assembly | ContextTooLarge]]:
        """Fit the turn into every candidate's window (or `fit` it: a one-off task)
        and ask the router."""
        from assistant.core.routing.profiles import profile
        from assistant.core.routing.protocol import RouteContext
        from assistant.core.routing.chain import default_router

        windows: dict[str, Assembly | ContextTooLarge] = {}
        profiles = []
        for name in self.candidates(request.forced):
            backend = self.pool.get(name)
            windows[name] = window = fit(name) if fit is not None else self.assemble(name, current)
            unavailable = unavailable_reason(backend)
            profiles.append(
                replace(
                    profile(backend, window, self._measured_figures(name, backend), self.prices, self.config,
                            unavailable=unavailable),
                    name=name,
                )
            )
        context = RouteContext(tuple(profiles), self._budget())
        if self.mode != AUTO and request.forced is None:
            request = replace(request, forced=self.mode, forced_by=f"/model {self.mode}")
        try:
            decision = self.router().route(request, context)
        except Exception as exc:  # a plugin router must not take the turn down
            log.exception("router failed")
            self._router_problems.append(f"router failed: {type(exc).__name__}: {exc}")
            decision = None
        if decision is None:
            decision = default_router(self.config, self.project_root).route(request, context)
            decision = replace(decision, decided_by=decision.decided_by or "rules")
        return decision, windows

    # -- turns -------------------------------------------------------------------

    def run_turn(
        self,
        text: str,
        cancel: threading.Event,
        on_event: OnEvent | None = None,
        *,
        kind: TurnKind | None = None,
        flags: frozenset[str] = frozenset(),
        forced: str | None = None,
        forced_by: str = "",
    ) -> TurnResult:
        """Send `text`, stream the answer through `on_event`, and record the turn.

        A backend that must be loaded first is loaded in this call (the UI and
        `ask` load ahead, so that the load is not counted in the turn's time).
        """
        from assistant.core.routing.protocol import TurnRequest
        from assistant.core.session.user_input import mentioned_files, parse_turn

        parsed = parse_turn(text, self.pool.names())
        files = tuple(dict.fromkeys([*self.pinned_files(), *mentioned_files(parsed.text, self.project_root)]))
        request = TurnRequest(
            parsed.text,
            kind or parsed.kind,
            files,
            flags | parsed.flags,
            forced or parsed.forced,
            forced_by=forced_by or (f"@{parsed.forced}" if parsed.forced else ""),
        )
        if parsed.auto and self.mode != AUTO:
            request = replace(request, forced=None)
        current = Message("user", parsed.text)
        self._title_hint = self._title_hint or parsed.text
        decision, windows = self.route(request, current)
        emit = on_event or (lambda event: None)
        for problem in self._new_router_problems():
            emit(Notice(problem))
        emit(RouteDecided(decision))
        result = self._serve(decision, windows, current, cancel, emit)
        result = replace(result, decision=decision, question=parsed.text)
        if result.text or result.outcome == "ok":
            self.exchanges.append(Exchange(current, Message("assistant", result.text) if result.text else None))
            self._persist_exchange(result)
        self.last = result
        return result

    def run_task(
        self,
        messages: Sequence[Message] | Callable[[str], Sequence[Message]],
        cancel: threading.Event,
        on_event: OnEvent | None = None,
        *,
        kind: TurnKind = "refactor",
        files: tuple[str, ...] = (),
        forced: str | None = None,
        forced_by: str = "",
    ) -> TurnResult:
        """One routed, measured and recorded turn on `messages`, outside the chat:
        the conversation and its windows are left alone (a refactor prompt).
        `messages` may depend on the backend (a callable of its name): a prompt
        format some models handle better. The whole prompt must fit the backend's
        context minus its answer's reserve."""
        from assistant.core.routing.protocol import TurnRequest

        build = messages if callable(messages) else (lambda name: messages)
        last = build(self.candidates(forced)[0])[-1]
        request = TurnRequest(last.content, kind, files, frozenset(), forced, forced_by=forced_by)
        decision, windows = self.route(request, last, fit=lambda name: self._fit_task(name, build(name)))
        emit = on_event or (lambda event: None)
        for problem in self._new_router_problems():
            emit(Notice(problem))
        emit(RouteDecided(decision))
        result = self._serve(decision, windows, last, cancel, emit)
        return replace(result, decision=decision, question=last.content)

    def _fit_task(self, name: str, messages: Sequence[Message]) -> Assembly | ContextTooLarge:
        from assistant.core.window.counters import window_counter
        from assistant.core.window.sliding import Assembly, ContextTooLarge

        backend = self.pool.get(name)
        count = window_counter(backend).prompt_tokens(messages)
        reserved = self.config.local.max_tokens if backend.capabilities.local else self.config.claude.max_tokens
        budget = max(backend.capabilities.context_size - reserved, 1)
        if count.tokens > budget:
            return ContextTooLarge(count.tokens, budget, name)
        return Assembly(tuple(messages), count.tokens, count.estimated, budget, 0, 0, False, ())

    def _order(self, decision: RouteDecision, windows: Mapping[str, object]) -> list[str]:
        order = [decision.backend, *decision.fallbacks]
        if decision.allow_any_fallback:
            order += [name for name in windows if name not in order]
        return list(dict.fromkeys(order))

    def _serve(
        self,
        decision: RouteDecision,
        windows: Mapping[str, Assembly | ContextTooLarge],
        current: Message,
        cancel: threading.Event,
        emit: OnEvent,
    ) -> TurnResult:
        """The decided backend answers; when it fails before any text, the next
        allowed candidate does. Every attempt is recorded."""
        from assistant.core.window.sliding import ContextTooLarge
        first: TurnResult | None = None
        result: TurnResult | None = None
        for name in self._order(decision, windows):
            backend = self.pool.get(name)
            window = windows.get(name)
            if window is None:
                continue  # not a candidate of this turn
            if first is not None:
                if isinstance(window, ContextTooLarge) or unavailable_reason(backend) or not self._may_fall_back(backend):
                    continue
                emit(FallbackStarted(first.backend, backend.name, backend.model_name, first.error.message if first.error else ""))
            started = self.wall_clock()
            if isinstance(window, ContextTooLarge):
                result = self._refused(backend, BackendError(str(window), kind="context"))
            else:
                result = self._attempt(name, backend, window.messages, cancel, emit)
            if first is None:
                self._record(result, started, decision.reason, decision.decided_by, decision.estimate_for(name))
                first = result
            else:
                why = f"fallback from {first.backend}: {first.error.kind if first.error else 'error'}"
                self._record(result, started, why, "fallback", decision.estimate_for(name))
                result = replace(result, fallback_from=first.backend, fallback_reason=first.error.message if first.error else None)
            if not self._should_fall_back(result, cancel):
                return result
        assert result is not None  # the decided backend always gets its attempt
        if result.error is not None and result.error.kind in SETUP_KINDS and self.mode == AUTO:
            return replace(result, error=BackendError(self.nothing_can_answer(windows), kind=result.error.kind))
        return result

    def _should_fall_back(self, result: TurnResult, cancel: threading.Event) -> bool:
        if result.outcome != "error" or result.text or cancel.is_set():
            return False
        if result.error is not None and result.error.kind in NO_FALLBACK_KINDS:
            return False
        return self.mode == AUTO or self.config.claude.fallback_to_local

    def nothing_can_answer(self, names: Iterable[str] | None = None) -> str:
        """One line: why each backend cannot answer, and what to configure."""
        reasons = []
        for name in names if names is not None else self.candidates():
            backend = self.pool.get(name)
            reason = unavailable_reason(backend, load=True)
            if reason:
                reasons.append(f"{name}: {reason.rstrip('.')}")
        said = "; ".join(reasons) or "every backend failed"
        return (
            f"No backend can answer ({said}). Set ANTHROPIC_API_KEY for Claude, "
            "or local.model_path to a GGUF file (`assistant config --init` writes a config to edit)."
        )

    def _may_fall_back(self, backend: Backend) -> bool:
        try:
            backend.load()
        except Exception as exc:  # noqa: BLE001 - any plugin failure: not a fallback
            log.info("no fallback to %s: %s", backend.name, exc)
            return False
        return True

    def _refused(self, backend: Backend, error: BackendError) -> TurnResult:
        stats = TurnMetrics(self.clock)
        stats.observe(error)
        return TurnResult("", stats.snapshot(), 0.0, "error", None, error, backend=backend.name,
                          model=backend.model_name, counterfactual_cost=0.0)

    def _attempt(
        self,
        name: str,
        backend: Backend,
        messages: Sequence[Message],
        cancel: threading.Event,
        emit: OnEvent,
    ) -> TurnResult:
        if not backend.loaded:  # before the turn's clock starts: loading is not answering
            from assistant.core.backends.protocol import load_failure

            with self._state_lock:  # two batch workers must not load one model twice
                load_failure(backend)  # a failure is said again by the backend's own stream
        parts: list[str] = []
        error: BackendError | None = None
        stop_reason: str | None = None
        with self.limiter(name):  # a batch's per-backend limits; the turn's clock starts once admitted
            metrics = TurnMetrics(self.clock)
            self.current_backend, self._current_name = backend, name
            self.current = metrics
            for event in events(backend, messages, cancel):
                metrics.observe(event)
                if isinstance(event, TextDelta):
                    if event.text:
                        parts.append(event.text)
                elif isinstance(event, TurnDone):
                    stop_reason = event.stop_reason
                elif isinstance(event, BackendError):
                    error = event
                emit(event)
        if metrics.end is None:  # a backend that ended without saying so
            error = BackendError("the backend ended the turn without finishing it")
            metrics.observe(error)
        answer = "".join(parts)
        stats = metrics.snapshot()
        outcome = metrics.outcome or "error"
        if outcome == "error" and answer:
            outcome = "interrupted"
        # A request that failed before the API reported any usage was not billed.
        billed = not (outcome == "error" and metrics.usage is not None and metrics.usage.estimated)
        cost, counterfactual = self.costs(backend, metrics.usage, stats.elapsed, billed)
        with self._state_lock:
            self.totals.add(stats, cost)
            if self._day_spent is not None and cost:
                self._day_spent += cost
        self.current = None
        if outcome in ("ok", "interrupted", "cancelled"):
            self.last_backend = name
        return TurnResult(
            answer,
            stats,
            cost,
            outcome,
            stop_reason,
            error,
            backend=backend.name,
            model=(metrics.usage.model if metrics.usage and metrics.usage.model else backend.model_name),
            usage=metrics.usage if billed else None,
            counterfactual_cost=counterfactual,
            routed_to=name,
        )

    def pinned_files(self) -> list[str]:
        """Paths of the pinned files (`/add`)."""
        from assistant.core.session.pinned import path_of

        return [path for m in self.pinned if (path := path_of(m)) is not None]

    def pin(self, path: str, message: Message) -> None:
        """Pin a file (again: its new content replaces the old)."""
        self.unpin(path)
        self.pinned.append(message)
        self.persist_history()

    def unpin(self, path: str) -> bool:
        from assistant.core.session.pinned import path_of

        kept = [m for m in self.pinned if path_of(m) != path]
        found = len(kept) != len(self.pinned)
        self.pinned = kept
        if found:
            self.persist_history()
        return found

    # -- /retry other, /compact --------------------------------------------------

    def other_backend(self) -> str | None:
        """The backend that did not answer the last turn, if one can."""
        if self.last is None:
            return None
        for name in self.pool.names():
            if name != self.last.routed_to and not unavailable_reason(self.pool.get(name), load=True):
                return name
        return None

    def retry_other(self, cancel: threading.Event, on_event: OnEvent | None = None) -> TurnResult | None:
        """Ask the last question again on the other backend; its answer replaces the
        first one in the conversation (both stay in the transcript and the ledger)."""
        last, other = self.last, self.other_backend()
        if last is None or other is None or not last.question:
            return None
        if self.exchanges and self.exchanges[-1].user.content == last.question:
            self.exchanges.pop()
            self.persist_history()
        return self.run_turn(last.question, cancel, on_event, forced=other, forced_by="/retry other")

    def compact(self, cancel: threading.Event, summarizer: str = "local") -> str:
        """Summarise the turns the window dropped into one pinned message."""
        from assistant.core.session.compaction import summarize_exchanges

        name = self.last_backend or self.backend.name
        window = self.windows.get(name)
        dropped = window.start if window else 0
        if dropped == 0:
            return "Nothing to compact: every turn still fits the window."
        backend = self.pool.get(summarizer)
        summary = summarize_exchanges(backend, self.exchanges[:dropped], cancel, self.config)
        self.pinned = [m for m in self.pinned if not m.content.startswith(SUMMARY_HEADER)]
        self.pinned.append(Message("system", f"{SUMMARY_HEADER}\n{summary}"))
        del self.exchanges[:dropped]
        for w in self.windows.values():
            w.reset()
        self.persist_history()
        return f"Compacted {dropped} turn{'s' if dropped != 1 else ''} into a pinned summary of {len(summary):,} characters."

    # -- the ledger --------------------------------------------------------------

    def ledger(self) -> Ledger | None:
        """The ledger, opened on first use (off the UI thread); None when it cannot be."""
        with self._ledger_lock:
            if self._ledger is None and self._ledger_factory is not None:
                from assistant.core.store.ledger import LedgerError

                try:
                    self._ledger = self._ledger_factory()
                except LedgerError as exc:
                    self.ledger_error = str(exc)
                    self._ledger_factory = None  # said once; not tried again every turn
            return self._ledger

    def _record(self, result: TurnResult, started_at: float, route_reason: str, decided_by: str, estimate) -> None:  # noqa: ANN001
        ledger = self.ledger()
        record = turn_record(self.session_id, started_at, result, route_reason, self.config, decided_by, estimate)
        if result.outcome == "ok":
            key = (result.backend, result.model)
            kept = self._measured.setdefault(key, [])
            kept.insert(0, record)
            del kept[self.config.router.measured_turns :]
        if ledger is None:
            return
        from assistant.core.store.ledger import LedgerError

        try:
            self._ensure_session_row(result.question)
            ledger.record_turn(record)
            self.ledger_error = None
        except LedgerError as exc:
            log.warning("turn not recorded: %s", exc)
            self.ledger_error = str(exc)


SUMMARY_HEADER = "Summary of the earlier conversation:"
