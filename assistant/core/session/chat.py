"""A chat session: the conversation, the backends it is routed to, and what every turn cost.

Shared by the TUI (which runs `run_turn` in a thread worker) and by `assistant
ask`, so both route, fit the context, measure, cost and record turns the same
way. A turn goes:

1. its `@` prefixes are read (`@claude`, `@quality`, …) and the files it names found;
2. each candidate backend fits the conversation into its own sliding window
   (counted in its own tokens) — the router sees those sizes;
3. the router chain (privacy, budget, quality, rules by default) decides, with a reason
   and an estimate for every candidate (`RouteDecided`);
4. the chosen backend streams the answer; when it cannot start (no key, not
   loaded, rate-limited, overloaded) before any text, the next allowed candidate
   takes it (`FallbackStarted`);
5. every attempt is written to the ledger with the decision.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.core import routing, store
from assistant.core.accounting.metrics import Clock, SessionTotals, TurnMetrics
from assistant.core.backends.protocol import Backend
from assistant.core.config import Config
from assistant.core.conversation import Exchange, Message
from assistant.core.decisions import RouteDecision, TurnRequest
from assistant.core.events import Notice, RouteDecided
from assistant.core.project import find_root
from assistant.core.results import TurnResult, TurnStats
from assistant.core.routing.protocol import Router
from assistant.core.session.compaction import summarize_exchanges
from assistant.core.session.persistence import ChatPersistence, ChatState
from assistant.core.session.pinned import path_of
from assistant.core.session.pool import BackendPool, BackendSource
from assistant.core.session.recorder import TurnRecorder
from assistant.core.session.route import SessionRouter
from assistant.core.session.runner import AUTO, OnEvent, TurnRunner
from assistant.core.session.turns import unavailable_reason
from assistant.core.session.user_input import mentioned_files, parse_turn
from assistant.core.session.windows import SessionWindows
from assistant.core.window.sliding import Assembly, ContextTooLarge, SlidingWindow
from assistant.core.words import TurnKind

if TYPE_CHECKING:
    from assistant.core.accounting.pricing import PriceTable
    from assistant.core.store.records import Source, Verdict
    from assistant.core.store.saved_sessions import StoredSession

__all__ = ["AUTO", "SUMMARY_HEADER", "ChatSession", "OnEvent", "TurnResult"]


class ChatSession:
    """The conversation and its collaborators: the backend pool, the router
    (`SessionRouter`), the turn runner (`TurnRunner`: attempt, fall back, cost),
    the ledger (`TurnRecorder`) and the stored chat (`ChatPersistence`)."""

    def __init__(
        self,
        config: Config,
        backend: Backend | None = None,
        clock: Clock = time.monotonic,
        *,
        ledger: Callable[[], store.Ledger] | None = None,
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
        self.context = SessionWindows(config, self.pool)
        self.last: TurnResult | None = None
        # The last `/retry other`: the first answer, its exchange, and the other answer (for /keep).
        self._retried: tuple[TurnResult, Exchange | None, TurnResult] | None = None
        self._session_id = session_id
        self.recorder = TurnRecorder(config, ledger, wall_clock)
        self.runner = TurnRunner(config, self.pool, self.recorder, lambda: self.session_id, lambda: self.mode,
                                 clock, wall_clock)
        self.routing = SessionRouter(config, self.pool, self.recorder, self.runner, self.project_root, router)
        self.persistence = ChatPersistence(self.recorder, lambda: self.session_id, wall_clock())
        self.recorder.before_first_record = lambda question: self.persistence.ensure_session_row(question, self.exchanges)

    @property
    def session_id(self) -> str:
        if self._session_id is None:
            self._session_id = store.new_session_id()
        return self._session_id

    # -- what the UI and the CLI read (each collaborator owns its part) ----------------

    @property
    def started_at(self) -> float:
        return self.persistence.started_at

    @property
    def persist(self) -> bool:
        return self.persistence.enabled

    @persist.setter
    def persist(self, value: bool) -> None:
        self.persistence.enabled = value

    @property
    def ledger_error(self) -> str | None:
        """Why the last ledger write failed (None when it worked); the UI says it once."""
        return self.recorder.error

    @ledger_error.setter
    def ledger_error(self, value: str | None) -> None:
        self.recorder.error = value

    def ledger(self) -> store.Ledger | None:
        """The ledger, opened on first use (off the UI thread); None when it cannot be."""
        return self.recorder.ledger()

    @property
    def totals(self) -> SessionTotals:
        return self.runner.totals

    @property
    def prices(self) -> PriceTable:
        return self.runner.prices

    @property
    def current(self) -> TurnMetrics | None:
        """The turn in progress, for live figures; read from other threads."""
        return self.runner.current

    @current.setter
    def current(self, value: TurnMetrics | None) -> None:
        self.runner.current = value

    @property
    def current_backend(self) -> Backend | None:
        return self.runner.current_backend

    @property
    def last_backend(self) -> str | None:
        """Pool name of the backend that answered last."""
        return self.runner.last_backend

    @property
    def limiter(self) -> Callable[[str], object]:
        return self.runner.limiter

    @limiter.setter
    def limiter(self, value) -> None:  # noqa: ANN001 - a callable of a backend's name giving a context manager
        """How many turns each backend serves at once (a batch's `BackendLimits`)."""
        self.runner.limiter = value

    def router(self) -> Router:
        return self.routing.router()

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
            self.context.forget(backend.name)

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
        self.recorder.close()

    def clear(self) -> None:
        self.exchanges.clear()
        self.context.reset()
        self.assemblies.clear()
        self.persist_history()

    # -- figures -----------------------------------------------------------------

    def live(self) -> tuple[TurnStats, float | None] | None:
        """The turn in progress (or else the last one): its figures and its cost so far."""
        live = self.runner.live()
        if live is not None:
            return live
        if self.last is not None:
            return self.last.stats, self.last.cost
        return None

    def context_fill(self, stats: TurnStats | None = None) -> float | None:
        """How full the window of the backend in charge is: the prompt's tokens
        (the turn in progress's, else the last one's) over its budget."""
        if stats is None:
            live = self.live()
            stats = live[0] if live else None
        name = self.last_backend if self.current is None else self.runner.current_name
        return self.context.fill(name, stats)

    # -- the window --------------------------------------------------------------

    @property
    def windows(self) -> dict[str, SlidingWindow]:
        return self.context.windows

    @property
    def assemblies(self) -> dict[str, Assembly]:
        """Each backend's last window, for /context."""
        return self.context.assemblies

    def window(self, name: str) -> SlidingWindow:
        return self.context.window(name)

    def warm_counters(self) -> None:
        """Ready every candidate's token counter now (see `SessionWindows.warm`)."""
        self.context.warm(self.candidates())

    def assemble(self, name: str, current: Message) -> Assembly | ContextTooLarge:
        system = Message("system", self.system_prompt) if self.system_prompt else None
        return self.context.assemble(name, system, self.pinned, self.exchanges, current)

    # -- routing -----------------------------------------------------------------

    def route(
        self,
        request: TurnRequest,
        current: Message,
        fit: Callable[[str], Assembly | ContextTooLarge] | None = None,
    ) -> tuple[RouteDecision, dict[str, Assembly | ContextTooLarge]]:
        """Fit the turn into every candidate's window (or `fit` it: a one-off task)
        and ask the router."""
        fit = fit or (lambda name: self.assemble(name, current))
        return self.routing.route(request, self.candidates(request.forced), self.mode, fit)

    def _said_router_problems(self, emit: OnEvent) -> None:
        for problem in self.routing.new_problems():
            emit(Notice(problem))

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
        parsed = parse_turn(text, self.pool.names())
        emit = on_event or (lambda event: None)
        if parsed.other and forced is None:
            if not parsed.text.strip() and self.last is not None:  # `@other` alone: the last question again
                result = self.retry_other(cancel, on_event)
                if result is not None:
                    return result
            forced, forced_by = self._other_for(emit)
        files = tuple(dict.fromkeys([*self.pinned_files(), *mentioned_files(parsed.text, self.project_root)]))
        request = TurnRequest(
            parsed.text,
            kind or parsed.kind or routing.classify(parsed.text, files),
            files,
            flags | parsed.flags,
            forced or parsed.forced,
            forced_by=forced_by or (f"@{parsed.forced}" if parsed.forced else ""),
        )
        if parsed.auto and self.mode != AUTO:
            request = replace(request, forced=None)
        current = Message("user", parsed.text)
        self.persistence.title_hint = self.persistence.title_hint or parsed.text
        decision, windows = self.route(request, current)
        self._said_router_problems(emit)
        emit(RouteDecided(decision))
        result = self.runner.serve(decision, windows, cancel, emit)
        result = replace(result, decision=decision, question=parsed.text)
        if result.text or result.outcome == "ok":
            self.exchanges.append(Exchange(current, Message("assistant", result.text) if result.text else None))
            self.persistence.save_exchange(self.exchanges, result, self._state())
        self.last = result
        return result

    def run_task(
        self,
        messages: Sequence[Message] | Callable[[str], Sequence[Message]],
        cancel: threading.Event,
        on_event: OnEvent | None = None,
        *,
        kind: TurnKind = "edit",
        files: tuple[str, ...] = (),
        forced: str | None = None,
        forced_by: str = "",
    ) -> TurnResult:
        """One routed, measured and recorded turn on `messages`, outside the chat:
        the conversation and its windows are left alone (a refactor prompt).
        `messages` may depend on the backend (a callable of its name): a prompt
        format some models handle better. The whole prompt must fit the backend's
        context minus its answer's reserve."""
        build = messages if callable(messages) else (lambda name: messages)
        last = build(self.candidates(forced)[0])[-1]
        request = TurnRequest(last.content, kind, files, frozenset(), forced, forced_by=forced_by)
        decision, windows = self.route(request, last, fit=lambda name: self.context.fit_task(name, build(name)))
        emit = on_event or (lambda event: None)
        self._said_router_problems(emit)
        emit(RouteDecided(decision))
        result = self.runner.serve(decision, windows, cancel, emit)
        return replace(result, decision=decision, question=last.content)

    def nothing_can_answer(self, names: Iterable[str] | None = None) -> str:
        """One line: why each backend cannot answer, and what to configure."""
        return self.runner.nothing_can_answer(names if names is not None else self.candidates())

    def pinned_files(self) -> list[str]:
        """Paths of the pinned files (`/add`)."""
        return [path for m in self.pinned if (path := path_of(m)) is not None]

    def pin(self, path: str, message: Message) -> None:
        """Pin a file (again: its new content replaces the old)."""
        self.unpin(path)
        self.pinned.append(message)
        self.persist_history()

    def unpin(self, path: str) -> bool:
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
        first one in the conversation (both stay in the transcript and the ledger).
        Asking again says the first answer was wanting: it is rated bad, unless the
        user keeps it after all (`keep_first`)."""
        last, other = self.last, self.other_backend()
        if last is None or other is None or not last.question:
            return None
        replaced = None
        if self.exchanges and self.exchanges[-1].user.content == last.question:
            replaced = self.exchanges.pop()
            self.persist_history()
        self._rate_quietly(last, "bad", "retry")
        result = self.run_turn(last.question, cancel, on_event, forced=other, forced_by="/retry other")
        self._retried = (last, replaced, result)
        return result

    def _other_for(self, emit: OnEvent) -> tuple[str | None, str]:
        """`@other` on a new question: the backend that did not answer the last turn
        takes it, and the last answer is rated bad (it sent the user elsewhere)."""
        other = self.other_backend()
        if other is None or self.last is None:
            emit(Notice("@other: no other backend can answer; the router decides."))
            return None, ""
        self._rate_quietly(self.last, "bad", "retry")
        return other, "@other"

    # -- ratings: what an answer was worth (core/store/ratings.py) ----------------------

    def rate(self, verdict: Verdict, result: TurnResult | None = None) -> TurnResult:
        """Rate an answer (the last one by default): `good`, `bad`, or `none` to take a
        rating back. Raises ValueError when there is no recorded answer to rate, and
        LedgerError when the ledger cannot record it."""
        result = result if result is not None else self.last
        if result is None or result.turn_id is None:
            raise ValueError("there is no recorded answer to rate yet")
        self.recorder.rate(result.turn_id, verdict, "rating")
        return result

    def keep_first(self) -> TurnResult:
        """After `/retry other`: the first answer goes back into the conversation,
        rated good, and the other one is rated bad. ValueError when nothing was retried."""
        if self._retried is None or self.last is not self._retried[2]:
            raise ValueError("there is no retried answer to choose from: /keep follows /retry other")
        first, replaced, other = self._retried
        if replaced is not None and self.exchanges and self.exchanges[-1].user.content == first.question:
            self.exchanges[-1] = replaced
            self.persist_history()
        if first.turn_id is not None:
            self.recorder.rate(first.turn_id, "good", "keep")
        if other.turn_id is not None:
            self.recorder.rate(other.turn_id, "bad", "keep")
        self._retried = None
        self.last = first
        return first

    def _rate_quietly(self, result: TurnResult, verdict: Verdict, source: Source) -> None:
        """A signal the user gave by what they did: not worth stopping the turn for."""
        if result.turn_id is None:
            return
        try:
            self.recorder.rate(result.turn_id, verdict, source)
        except store.LedgerError as exc:
            self.recorder.error = str(exc)

    def compact(self, cancel: threading.Event, summarizer: str = "local") -> str:
        """Summarise the turns the window dropped into one pinned message."""
        name = self.last_backend or self.backend.name
        dropped = self.context.dropped(name)
        if dropped == 0:
            return "Nothing to compact: every turn still fits the window."
        backend = self.pool.get(summarizer)
        summary = summarize_exchanges(backend, self.exchanges[:dropped], cancel, self.config)
        self.pinned = [m for m in self.pinned if not m.content.startswith(SUMMARY_HEADER)]
        self.pinned.append(Message("system", f"{SUMMARY_HEADER}\n{summary}"))
        del self.exchanges[:dropped]
        self.context.reset()
        self.persist_history()
        return f"Compacted {dropped} turn{'s' if dropped != 1 else ''} into a pinned summary of {len(summary):,} characters."

    # -- the stored chat -----------------------------------------------------------

    def _state(self) -> ChatState:
        return ChatState(self.mode, self.system_prompt, tuple(self.pinned),
                         self.context.starts())

    def persist_history(self) -> None:
        """Store the whole history again (after /clear, /compact, /retry, a pin)."""
        self.persistence.save_history(self.exchanges, self._state())

    def resume(self, stored: StoredSession) -> None:
        """Continue a stored session: the same history, pins and window starts, so the
        next prompt is the one it would have been."""
        self._session_id = stored.id
        self.persistence.resumed(stored)
        self.system_prompt = stored.system_prompt or self.system_prompt
        self.pinned = list(stored.pinned)
        self.exchanges = [item.exchange for item in stored.exchanges]
        # The last answer is the last one again: /good, /bad and /retry other act on it.
        self.last = next((item.result for item in reversed(stored.exchanges) if item.result is not None), None)
        self.context.resume(stored.window_starts)
        if stored.mode:
            self.mode = stored.mode


SUMMARY_HEADER = "Summary of the earlier conversation:"
