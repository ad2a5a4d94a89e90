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

Callers use the session's verbs and read its `status()`; its collaborators (the
backend pool, the windows, the router, the runner, the recorder, the stored
chat) stay inside `core/session/`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.core import routing, store
from assistant.core.accounting.metrics import Clock
from assistant.core.backends.limits import BackendLimits
from assistant.core.backends.protocol import Backend
from assistant.core.config import Config
from assistant.core.conversation import Exchange, Message
from assistant.core.decisions import RouteDecision, TurnRequest
from assistant.core.events import Notice, RouteDecided
from assistant.core.project import find_root
from assistant.core.results import TaskResult, TurnResult
from assistant.core.routing.protocol import Router
from assistant.core.session.attached import NOTHING, Attached, attach, said
from assistant.core.session.compaction import summarize_exchanges
from assistant.core.session.persistence import ChatPersistence, ChatState
from assistant.core.session.pinned import path_of
from assistant.core.session.pool import BackendPool, BackendSource
from assistant.core.session.recorder import TurnRecorder
from assistant.core.session.rewind import Rewinder, reloaded
from assistant.core.session.route import Fit, SessionRouter
from assistant.core.session.runner import AUTO, OnEvent, Turn, TurnRunner, forward
from assistant.core.session.status import SessionStatus
from assistant.core.session.acting import Acting, TaskOrder
from assistant.core.session.task import task_system_prompt
from assistant.core.tools.approval import Approve, refuse_unwatched
from assistant.core.tools.catalog import TOOL_SPECS
from assistant.core.tools.permissions import Permissions
from assistant.core.tools.project_rules import saved_rules
from assistant.core.session.turns import unavailable_reason
from assistant.core.session.user_input import parse_turn
from assistant.core.session.windows import SessionWindows, route_with_files
from assistant.core.typed_secrets import mask_secrets
from assistant.core.window.sliding import Assembly, ContextTooLarge
from assistant.core.words import TurnKind

if TYPE_CHECKING:
    from assistant.core.store.records import Verdict
    from assistant.core.store.saved_sessions import StoredSession

__all__ = ["AUTO", "SUMMARY_HEADER", "ChatSession", "OnEvent", "SessionStatus", "TurnResult"]


def _ignore(event: object) -> None:
    """Where the events of a turn nobody watches go."""


class ChatSession:
    """The conversation and its collaborators: the backend pool, each backend's
    window (`SessionWindows`), the router (`SessionRouter`), the turn runner
    (`TurnRunner`: attempt, fall back, cost), the ledger (`TurnRecorder`) and the
    stored chat (`ChatPersistence`).

    Callers read `mode`, `exchanges`, `pinned` and `last` (the last answer) and
    change them only through the verbs below."""

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
        project_root: Path | None = None,
        installed: bool | None = None,
        batch: bool = False,
        persist: bool = False,
        named_by: str = "",
    ) -> None:
        """`backend` fixes the session on it (else `general.backend`: a name, or "auto"
        for the router); `backends` adds or replaces backends by name (tests);
        `fallback` is the backend named "local" (what a remote backend falls back to).
        `batch`: turns run from several threads at once (a batch refactor), each
        backend serving as many as its capabilities say (`BackendLimits`).
        `persist`: the chat is stored, so that it can be resumed (the TUI's).
        `named_by`: how the user named the fixed backend ("named with --backend"), for
        the route's reason (core/session/opening.py makes sessions for the commands)."""
        self.config = config
        preset: dict[str, BackendSource] = dict(backends or {})
        if fallback is not None:
            preset.setdefault("local", fallback)
        if backend is not None:
            preset[backend.name] = backend
        # A session handed its backends (tests, benchmarks) does not go looking for others.
        look = installed if installed is not None else backend is None or config.general.backend == AUTO
        self._pool = BackendPool(config, preset, installed=look)
        self.mode: str = backend.name if backend is not None else config.general.backend
        self.project_root = project_root or find_root()  # the one rule (core/project.py)
        self.system_prompt = config.general.system_prompt
        self.pinned: list[Message] = []
        self.exchanges: list[Exchange] = []
        self.last: TurnResult | None = None
        # The last `/retry other`: the first answer, its exchange, and the other answer (for /keep).
        self._retried: tuple[TurnResult, Exchange | None, TurnResult] | None = None
        self._session_id: str | None = None
        self._earlier_ids: list[str] = []  # the chats this session stored before a /clear or a resume
        self._context = SessionWindows(config, self._pool)
        self._recorder = TurnRecorder(config, ledger, time.time)
        limits = BackendLimits(lambda name: self._pool.get(name).capabilities) if batch else None
        self._runner = TurnRunner(config, self._pool, self._recorder, clock, limits=limits)
        self._routing = SessionRouter(config, self._pool, self._recorder, self._runner, self.project_root, router,
                                      named=(self.mode, named_by))  # fmt: skip
        self._acting = Acting(config, self._runner, self._recorder, self.project_root)
        self._persistence = ChatPersistence(self._recorder, lambda: self.session_id, time.time(), enabled=persist)
        self._recorder.before_first_record = lambda question: self._persistence.ensure_session_row(question, self.exchanges)
        # After a rewind or redo changed this chat's stored exchanges: the conversation is what is stored.
        self._rewinds = Rewinder(self.project_root, config, self._recorder.ledger, reload=lambda sid: (
            self.resume(reloaded(self._recorder.ledger(), sid)) if sid == self._session_id and self._persistence.enabled
            else None))  # fmt: skip

    @property
    def rewinds(self) -> Rewinder:
        """Checkpoints around the turns that change files; /rewind, /redo and undo."""
        return self._rewinds

    @property
    def session_id(self) -> str:
        """Made when first asked for (a new id reads the store's module, which the
        first frame does not wait for)."""
        if self._session_id is None:
            self._session_id = store.new_session_id()
        return self._session_id

    def status(self) -> SessionStatus:
        """What the session is doing now, in one value; safe from any thread."""
        runner = self._runner
        answering = runner.current is not None
        if answering:
            backend = runner.current_backend
        else:  # only a backend that exists: creating one is not the status bar's work
            backend = self._pool.made(self.mode if self.mode != AUTO else runner.last_backend or "local")
        ids = (*self._earlier_ids, *([self._session_id] if self._session_id is not None else []))
        if backend is None:
            return SessionStatus(self.mode, None, last_backend=runner.last_backend, session_ids=ids)
        live = runner.live()  # the turn in progress, or else the last one
        if live is None and self.last is not None:
            live = self.last.stats, self.last.cost
        stats, turn_cost = live if live is not None else (None, None)
        per_hour = runner.hourly(backend)
        prices = runner.prices if per_hour is None else None
        return SessionStatus(
            self.mode,
            backend.name,
            backend.model_name,
            last_backend=runner.last_backend,
            local=backend.capabilities.local,
            answering=answering,
            stats=stats,
            turn_cost=turn_cost,
            context_fill=self._context.fill(runner.current_name if answering else runner.last_backend, stats),
            turns=runner.totals.turns,
            session_cost=runner.totals.cost,
            session_cost_known=runner.totals.cost_known,
            per_hour=per_hour,
            prices_of=prices.updated if prices is not None and prices.lookup(backend.model_name) else None,
            session_ids=ids,
        )

    # -- the ledger (core/store), opened on first use --------------------------------

    def ledger(self) -> store.Ledger | None:
        """The ledger, opened on first use (off the UI thread); None when it cannot be."""
        return self._recorder.ledger()

    @property
    def ledger_error(self) -> str | None:
        """Why the last ledger write failed (None when it worked); the UI says it once."""
        return self._recorder.error

    def ledger_used(self, error: str | None = None) -> None:
        """Someone besides a turn used the ledger (a proposal read or recorded, an edit
        undone): what the router reads from it is read again on the next turn, and
        `error` (why that use failed) is said as a turn's failure would be."""
        if error is not None:
            self._recorder.error = error
        self._recorder.ratings_changed()

    # -- backends ----------------------------------------------------------------

    @property
    def backend(self) -> Backend:
        """The backend in charge: the fixed one, or in auto mode the one that answered
        last (before any turn: the local model)."""
        if self.mode != AUTO:
            return self._pool.get(self.mode)
        names = self._pool.names()
        name = self._runner.last_backend or ("local" if "local" in names else names[0])
        return self._pool.get(name)

    def backend_names(self) -> list[str]:
        """Every backend a turn could go to."""
        return self._pool.names()

    def backend_named(self, name: str) -> Backend:
        """The backend `name`, made on first use (not loaded: loading is the caller's)."""
        return self._pool.get(name)

    def use(self, target: Backend | str) -> None:
        """Send every turn from now on to `target`: `auto` (the router decides), a
        backend's name, or a backend (a loaded `/model NAME` or `/model PATH.gguf`)
        that takes the place of the one of its name."""
        if isinstance(target, str):
            self.mode = target
            return
        old = self._pool.put(target)
        self.mode = target.name
        if old is not None:
            old.close()
            self._context.forget(target.name)

    def candidates(self, forced: str | None = None) -> list[str]:
        """The backends this turn may go to."""
        names = self._pool.names()
        if self.mode == AUTO:
            chosen = names
        else:
            chosen = [self.mode]
            if not self._pool.get(self.mode).capabilities.local:  # one off this machine may fail: `[router] fallback`
                chosen += [n for n in self.config.router.fallback if n in names and n != self.mode]
        if forced and forced in names and forced not in chosen:
            chosen.insert(0, forced)
        return chosen

    def check_backends(self) -> list[tuple[str, str, str]]:
        """(name, model, why it cannot answer: "" when it can) of each candidate. A
        remote one is loaded to tell (no network); a local model that is loading
        elsewhere is waited for."""
        checked = []
        for name in self.candidates():
            backend = self._pool.get(name)
            why = unavailable_reason(backend, load=True)
            checked.append((name, backend.model_name, why))
        return checked

    def warm_counters(self) -> None:
        """Ready every candidate's token counter now (see `SessionWindows.warm`)."""
        self._context.warm(self.candidates())

    def close(self) -> None:
        self._pool.close()
        self._recorder.close()

    # -- the conversation ----------------------------------------------------------

    def clear(self) -> None:
        """A new conversation, stored as a new chat under a new id: the one before
        keeps its exchanges and title, and can be resumed."""
        self.exchanges.clear()
        self._context.reset()
        self._context.assemblies.clear()
        if self._session_id is not None:  # what it spent stays this session's (`status().session_ids`)
            self._earlier_ids.append(self._session_id)
        self._session_id = None
        self._persistence.restart(time.time())

    def window(self, name: str) -> Assembly | None:
        """The last prompt the backend `name` was sent, as its window cut it (/context);
        None before any."""
        return self._context.assemblies.get(name)

    def pinned_files(self) -> list[str]:
        """Paths of the pinned files (`/add`)."""
        return [path for m in self.pinned if (path := path_of(m)) is not None]

    def pin(self, path: str, message: Message) -> None:
        """Pin a file (again: its new content replaces the old)."""
        self.unpin(path)
        self.pinned.append(message)
        self._save()

    def unpin(self, path: str) -> bool:
        kept = [m for m in self.pinned if path_of(m) != path]
        found = len(kept) != len(self.pinned)
        self.pinned = kept
        if found:
            self._save()
        return found

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
        parsed = parse_turn(text, self._pool.names())
        emit = on_event or _ignore
        if parsed.other and forced is None:
            if not parsed.text.strip() and self.last is not None:  # `@other` alone: the last question again
                result = self.retry_other(cancel, on_event)
                if result is not None:
                    return result
            # `@other` on a new question: the backend that did not answer the last turn
            # takes it, and the last answer is rated bad (it sent the user elsewhere).
            if (other := self.other_backend()) is not None and self.last is not None:
                self._recorder.rate_quietly(self.last, "bad", "retry")
                forced, forced_by = other, "@other"
            else:
                emit(Notice("@other: no other backend can answer; the router decides."))
        attached = attach(parsed.text, self.project_root, pinned=self.pinned_files(),
                          max_bytes=self.config.edits.max_file_bytes)  # fmt: skip
        files = tuple(dict.fromkeys([*self.pinned_files(), *attached.named]))
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
        self._persistence.title_hint = self._persistence.title_hint or parsed.text
        result = self._serve(request, cancel, emit, attached=attached)
        if result.text or result.outcome == "ok":
            # Kept with typed secrets masked: the history goes with every later turn, which
            # the router may send to the cloud, and into the stored chat (core/typed_secrets.py).
            answer = Message("assistant", mask_secrets(result.text)) if result.text else None
            self.exchanges.append(Exchange(Message("user", mask_secrets(parsed.text)), answer))
            self._save(result)
        else:  # shown with its note on resume, never sent again
            self._save(result, answered=False)
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
        request = TurnRequest(build(self.candidates(forced)[0])[-1].content, kind, files, frozenset(), forced,
                              forced_by=forced_by)  # fmt: skip
        return self._serve(request, cancel, on_event or _ignore, lambda name: self._context.fit_task(name, build(name)))

    def act(
        self,
        text: str,
        cancel: threading.Event,
        on_event: OnEvent | None = None,
        *,
        approve: Approve = refuse_unwatched,
        allow: Sequence[str] = (),
        mode: str | None = None,
        flags: frozenset[str] = frozenset(),
    ) -> TaskResult:
        """Run `text` as a task: the model reads, searches, edits and runs in the project
        with tools, step by step, until it answers (core/session/task.py). Each step
        that the permission rules (`[tools]`, then `allow`, then this session's
        "always" answers; `mode` overrides `[tools] mode`) do not settle is asked
        through `approve`; `flags` are the user's, as a turn's (`ALLOW_SECRET`). The
        files it changed are committed once at its end; the exchange (the task and its
        answer) joins the conversation."""
        parsed = parse_turn(text, self._pool.names())
        emit = on_event or _ignore
        attached = attach(parsed.text, self.project_root, pinned=self.pinned_files(),
                          max_bytes=self.config.edits.max_file_bytes)  # fmt: skip
        files = tuple(dict.fromkeys([*self.pinned_files(), *attached.named]))
        request = TurnRequest(parsed.text, "task", files, parsed.flags | flags, parsed.forced,
                              forced_by=f"@{parsed.forced}" if parsed.forced else "")  # fmt: skip
        settings = self.config.tools if mode is None else replace(self.config.tools, mode=mode)
        permissions = Permissions.from_config(settings, (*allow, *self._acting.allowed, *saved_rules(self.project_root)))
        system = task_system_prompt(self.system_prompt, self.project_root, TOOL_SPECS)
        decision, windows = self.route(request, attached=attached, system=system)
        for problem in self._routing.new_problems():
            emit(Notice(problem))
        emit(RouteDecided(decision))
        self._persistence.title_hint = self._persistence.title_hint or parsed.text
        order = TaskOrder(self.session_id, self.mode, parsed.text, decision, windows, settings, permissions,
                          # Routed again on the windows already fitted: only the files read are new.
                          lambda read: self.route(replace(request, files=(*request.files, *read)), windows.__getitem__))
        checkpoint = self._rewinds.before_turn(self.session_id, "task", parsed.text)
        if checkpoint is None and self._rewinds.problem:
            emit(Notice(f"no checkpoint before this task, so /rewind cannot take it back: {self._rewinds.problem}"))
        result = self._acting.run(order, approve, cancel, emit)
        if checkpoint is not None:
            checkpoint.end(edited=result.changed, turn_id=result.last.turn_id if result.last else None,
                           change_id=result.commit or "")  # fmt: skip
        if result.last is not None:
            last = replace(result.last, question=parsed.text)
            if result.text or result.end == "answered":
                answer = Message("assistant", mask_secrets(result.text)) if result.text else None
                self.exchanges.append(Exchange(Message("user", mask_secrets(parsed.text)), answer))
                self._save(last)
            else:
                self._save(last, answered=False)
            self.last = last
            result = replace(result, last=last)
        return result

    def route(
        self, request: TurnRequest, fit: Fit | None = None, attached: Attached = NOTHING, system: str | None = None
    ) -> tuple[RouteDecision, dict[str, Assembly | ContextTooLarge]]:
        """Where `request` goes now, and the prompt each candidate gets, as `fit` makes
        it (by default the chat's window, with the request's text as the new message,
        the files it names (`attached`) ahead of it: each window slides as it would for
        that turn). Nothing is sent: a turn starts here, and a benchmark or a test can
        look at where it would go."""
        candidates = self.candidates(request.forced)
        if fit is None:
            prompt = self.system_prompt if system is None else system
            turn = partial(self._context.assemble_turn, system=Message("system", prompt) if prompt else None,
                           pinned=self.pinned, exchanges=self.exchanges,
                           question=request.text, files=attached.files)
            if attached.files:
                return route_with_files(partial(self._routing.route, request, candidates, self.mode), turn)
            fit = partial(turn, whole=True)
        return self._routing.route(request, candidates, self.mode, fit)

    def _serve(
        self, request: TurnRequest, cancel: threading.Event, emit: OnEvent, fit: Fit | None = None,
        attached: Attached = NOTHING,
    ) -> TurnResult:
        """Route the turn (see `route`) and run what was decided; its events go to `emit`,
        and each backend that answers first says which of the files named it holds."""
        decision, windows = self.route(request, fit, attached)
        for problem in self._routing.new_problems():
            emit(Notice(problem))
        emit(RouteDecided(decision))
        notes = {name: said(attached, self._context.fits.get(name))
                 for name, window in windows.items() if attached and isinstance(window, Assembly)}  # fmt: skip
        result = forward(self._runner.run(Turn(self.session_id, self.mode, decision, windows, notes), cancel), emit)
        return replace(result, decision=decision, question=request.text)

    # -- /retry other, /keep, ratings, /compact --------------------------------------

    def other_backend(self) -> str | None:
        """The backend that did not answer the last turn, if one can."""
        if self.last is None:
            return None
        for name in self._pool.names():
            if name != self.last.routed_to and not unavailable_reason(self._pool.get(name), load=True):
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
        if self.exchanges and self.exchanges[-1].user.content == mask_secrets(last.question):
            replaced = self.exchanges.pop()
            self._save()
        self._recorder.rate_quietly(last, "bad", "retry")
        result = self.run_turn(last.question, cancel, on_event, forced=other, forced_by="/retry other")
        self._retried = (last, replaced, result)
        return result

    def keep_first(self) -> TurnResult:
        """After `/retry other`: the first answer goes back into the conversation,
        rated good, and the other one is rated bad. ValueError when nothing was retried."""
        if self._retried is None or self.last is not self._retried[2]:
            raise ValueError("there is no retried answer to choose from: /keep follows /retry other")
        first, replaced, other = self._retried
        if replaced is not None and self.exchanges and self.exchanges[-1].user.content == mask_secrets(first.question):
            self.exchanges[-1] = replaced
            self._save()
        if first.turn_id is not None:
            self._recorder.rate(first.turn_id, "good", "keep")
        if other.turn_id is not None:
            self._recorder.rate(other.turn_id, "bad", "keep")
        self._retried = None
        self.last = first
        return first

    def rate(self, verdict: Verdict, result: TurnResult | None = None) -> TurnResult:
        """Rate an answer (the last one by default): `good`, `bad`, or `none` to take a
        rating back (core/store/ratings.py). Raises ValueError when there is no
        recorded answer to rate, and LedgerError when the ledger cannot record it."""
        result = result if result is not None else self.last
        if result is None or result.turn_id is None:
            raise ValueError("there is no recorded answer to rate yet")
        self._recorder.rate(result.turn_id, verdict, "rating")
        return result

    def compact(self, cancel: threading.Event, summarizer: str = "local") -> str:
        """Summarise the turns the window dropped into one pinned message."""
        name = self._runner.last_backend or self.backend.name
        dropped = self._context.dropped(name)
        if dropped == 0:
            return "Nothing to compact: every turn still fits the window."
        backend = self._pool.get(summarizer)
        summary = summarize_exchanges(backend, self.exchanges[:dropped], cancel)
        self.pinned = [m for m in self.pinned if not m.content.startswith(SUMMARY_HEADER)]
        self.pinned.append(Message("system", f"{SUMMARY_HEADER}\n{summary}"))
        del self.exchanges[:dropped]
        self._context.reset()
        self._save()
        return f"Compacted {dropped} turn{'s' if dropped != 1 else ''} into a pinned summary of {len(summary):,} characters."

    # -- the stored chat -----------------------------------------------------------

    def resume(self, stored: StoredSession) -> None:
        """Continue a stored session: the same history, pins and window starts, so the
        next prompt is the one it would have been."""
        if self._session_id is not None and self._session_id != stored.id:
            self._earlier_ids.append(self._session_id)
        self._session_id = stored.id
        self._persistence.resumed(stored)
        self.system_prompt = stored.system_prompt or self.system_prompt
        self.pinned = list(stored.pinned)
        self.exchanges = stored.conversation
        # The last answer is the last one again: /good, /bad and /retry other act on it.
        self.last = stored.last_result
        self._context.resume(stored.window_starts)
        if stored.mode:
            self.mode = stored.mode

    def _save(self, turn: TurnResult | None = None, *, answered: bool = True) -> None:
        """Store the chat after a change: the exchange `turn` just ended (or, not
        `answered`, the turn that ended with no answer: shown on resume, never sent
        again), or else the whole history again (after /compact, /retry, /keep, a pin)."""
        state = ChatState(self.mode, self.system_prompt, tuple(self.pinned), self._context.starts())
        if turn is None:
            self._persistence.save_history(self.exchanges, state)
        elif answered:
            self._persistence.save_exchange(self.exchanges, turn, state)
        else:
            self._persistence.save_unanswered(turn, state)


SUMMARY_HEADER = "Summary of the earlier conversation:"
