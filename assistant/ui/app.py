"""The Textual app: a transcript, a prompt and a live status bar.

Blocking work (loading the model, generating, a refactor's steps) runs in
workers that call the headless core and post typed messages back (ui/messages.py);
the app only renders them. The answer that streams is `AnswerStream`'s
(ui/streaming.py), a task's steps and questions are ui/tasks.py's, loading is
ui/loading.py's, the slash commands act through `ChatHost` (ui/host.py), and
what they ask off the UI thread is ui/actions.py's and ui/refactoring.py's.

The first frame is drawn before the chat session is opened (`session`): the
session's modules, and those of the app that work on it, load after it.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from functools import partial
from typing import TYPE_CHECKING, Any

from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import ProgressBar, Static
from textual.worker import Worker, WorkerState

from assistant.core import session as session_mod
from assistant.core.config import Config
from assistant.core.events import Notice, Retrying, RouteDecided
from assistant.core.paths import Paths
from assistant.core.project import find_root
from assistant.core.text import error_line
from assistant.core.typed_secrets import ALLOW_SECRET
from assistant.core.words import AUTO, asks_for_task
from assistant.render import format as fmt
from assistant import ui
from assistant.ui import screens
from assistant.ui.host import Cancels
from assistant.ui.messages import (
    AnswerDelta,
    BackendsChecked,
    LoadFinished,
    LoadProgressed,
    Note,
    TurnFinished,
    TurnNotice,
)
from assistant.ui.refactoring import Refactoring
from assistant.ui.streaming import AnswerStream
from assistant.ui.tasks import Tasks
from assistant.ui.themes import load_themes
from assistant.ui.textual_compat import close_app_now, unhandled_error
from assistant.ui.widgets.markdown import warm_markdown
from assistant.ui.widgets.prompt import PromptInput, offered_line
from assistant.ui.widgets.rendered import Entry, History, use_code_theme
from assistant.ui.widgets.status import StatusBar, opening_view, status_view
from assistant.ui.widgets.transcript import AssistantMessage, Transcript, user_message

if TYPE_CHECKING:
    from textual.notifications import SeverityLevel

    from assistant.core.accounting.metrics import Clock
    from assistant.core.backends.protocol import Backend
    from assistant.core.results import TurnResult
    from assistant.core.session.chat import ChatSession
    from assistant.core.session.pool import BackendSource

log = logging.getLogger(__name__)

QUIT_WAIT_SECONDS = 10.0
GC_YOUNG_THRESHOLD = 10_000  # CPython's default is 700


@dataclass(frozen=True, slots=True)
class AppOptions:
    """How the app is made, besides its config: the CLI sets two of these, the
    tests and benchmarks the others."""

    backend: Backend | None = None  # every turn goes to it (default: the configured backend)
    config_error: str | None = None  # why the config file was not read (defaults are used): said once the app runs
    clock: Clock = time.monotonic  # what the turns' figures are timed with
    preload: bool = True  # load the backend, and ready the others, as the app starts
    ledger: bool = True  # record the turns and store the chat (for /cost, /report, resuming)
    # Makes the backend that answers when a remote one cannot (default: the configured local model).
    fallback: Callable[[], Backend] | None = None
    backends: Mapping[str, BackendSource] | None = None  # backends added or replaced by name (tests)
    resume: str | None = None  # a stored chat to continue: "last" (this folder's latest) or a session id
    named_by: str = ""  # how the command line named the backend ("named with --backend"), for the route's reason


class AssistantApp(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "assistant"
    COMMANDS = App.COMMANDS | {lambda: ui.SlashCommandProvider}  # loaded when the palette opens
    BINDINGS = [
        Binding("escape", "cancel", "Cancel answer", show=False),
        Binding("ctrl+q", "quit", "Quit", priority=True),
    ]

    def __init__(self, config: Config, options: AppOptions = AppOptions()) -> None:  # noqa: B008 - frozen
        super().__init__()
        self.config = config
        self.options = options
        #: One line when the app ended on an error nothing handled (see `_fatal_error`).
        self.fatal_error: str | None = None
        self._session: ChatSession | None = None  # opened after the first frame (`session`)
        self.project_root = find_root()  # the session's too: the one rule (core/project.py)
        # The status bar's: "loading 42%", "ready", "routing", "starting", "generating", "unavailable".
        self.state = "not loaded"
        self.cancels = Cancels()  # what Esc stops
        self._quitting = threading.Event()
        self.stream = AnswerStream(self, self._quitting)
        self.refactoring = Refactoring(self)
        self.tasks = Tasks(self, self.stream)  # `/task`, `@task`: a task's steps and questions
        self._turn_worker: Worker | None = None
        self._pending_backend: Backend | None = None  # loaded by /model, waiting for the turn to end
        self._gc_tuned: tuple[int, ...] | None = None  # the thresholds to restore
        self._ledger_error_shown: str | None = None
        self._register_themes(config.ui.theme)

    def _register_themes(self, chosen: str) -> None:
        """Register the shipped and the user's themes, then apply `chosen`;
        a skipped theme file or an unknown name is shown once the app runs."""
        themes, problems = load_themes(Paths.resolve().config_dir / "themes")
        for theme in themes:
            self.register_theme(theme)
        self.own_themes = [theme.name for theme in themes]  # shipped and the user's: /theme lists them first
        if chosen in self.available_themes:
            self.theme = chosen
        else:
            problems.append(f"ui.theme: no theme named {chosen!r} (see /theme)")
        if problems:
            self.notify("\n".join(problems), title="Theme problems", severity="warning", timeout=15, markup=False)
        use_code_theme(self.current_theme.dark)

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None:
        """A toast, shown literally by default: what it says comes from outside (an
        API's `[overloaded_error]`, a file named `app/[id]/page.tsx`), and read as
        markup it would vanish or raise `MarkupError`."""
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=markup)

    def _fatal_error(self) -> None:
        """Textual ends on an unhandled error by printing a traceback with its locals;
        a person gets one line instead (`fatal_error`, which `assistant` prints on
        exit), and the traceback goes to the log file.
        (A hook Textual calls by name: textual_compat.OVERRIDDEN; tests/ui/test_input_robustness.py
        checks that it is still called.)"""
        error = unhandled_error(self)
        log.error("unhandled error in the TUI", exc_info=error)
        what = error_line(error, 200, whole=True)
        self.bell()
        # Said by the CLI once the terminal is back (`fatal_error`), with a plain print:
        # Rich would fold or crop it to the terminal's width.
        self.fatal_error = f"internal error: {what} (the details are in {Paths.resolve().log_file})"
        close_app_now(self)

    @property
    def session(self) -> ChatSession:
        """The chat, opened on first use: once the first frame is drawn (`_after_first_frame`),
        which waits neither for the session's modules (a few dozen dataclasses, each
        made as its module loads) nor for the backend a fixed mode makes."""
        if self._session is None:
            options = self.options
            self._session = session_mod.open_session(  # as `assistant ask` opens its own: one route for one question
                self.config,
                backend=options.backend,
                named_by=options.named_by,
                ledger=options.ledger,
                persist=options.ledger,  # a TUI chat is stored, so that it can be resumed
                clock=options.clock,
                backends=options.backends,
                fallback=options.fallback,
                project_root=self.project_root,
            )
        return self._session

    # -- layout ---------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Transcript(id="transcript")
        yield Static("", id="hints", markup=False)
        yield PromptInput(commands=lambda: ui.command_names(), root=self.project_root, id="prompt")  # read at the first "/"
        yield StatusBar(id="status")

    def on_mount(self) -> None:
        self.call_after_refresh(self._after_first_frame)
        self.query_one("#hints").display = False
        self.query_one(PromptInput).focus()
        if self.options.config_error:
            self.notify(f"{self.options.config_error} — using defaults", severity="error", timeout=15)
        self.refresh_status()  # a placeholder: the session is opened once the first frame is drawn

    def on_unmount(self) -> None:
        # However the app ends, a worker blocked on the screen must not wait forever.
        self._quitting.set()
        self.cancels.cancel()
        if self._gc_tuned is not None:
            gc.unfreeze()
            gc.set_threshold(*self._gc_tuned)

    def _after_first_frame(self) -> None:
        session = self.session  # opened now, and the status bar shows it
        self.refresh_status()
        if self.options.preload:
            self.load_backend()
            self.run_worker(partial(ui.loading.warm, session, self.post_message), name="warm_backends",
                            group="warm", thread=True, exit_on_error=False)
        if self.options.resume:
            ui.actions.resume(self, self.options.resume)
        self._gc_tuned = _tune_gc()  # once the session's objects are alive: they are frozen too
        # Markdown's modules (~40 ms) off the UI thread, while the app waits for the
        # first key, not in the first answer's first paint, where they stall the model.
        self.run_worker(warm_markdown, thread=True, group="warm", exit_on_error=False)

    def action_cancel(self) -> None:
        """Esc: stop the answer, or the refactor (its model turn or its checks) that runs."""
        if self.busy or any(w.group == "turn" and w.is_running for w in self.workers):
            self.cancels.cancel()

    async def action_quit(self) -> None:
        """Cancel a running answer or load, wait for it to stop, then leave."""
        self._quitting.set()
        self.cancels.cancel()
        worker = self._turn_worker
        if worker is not None and worker.is_running:
            deadline = time.monotonic() + QUIT_WAIT_SECONDS
            while worker.is_running and time.monotonic() < deadline:
                await asyncio.sleep(0.02)
        self.exit()

    # -- status ---------------------------------------------------------------

    @property
    def busy(self) -> bool:
        return self._turn_worker is not None and self._turn_worker.is_running

    def refresh_status(self) -> None:
        if self._session is None:  # the first frame: the mode the session will have (as ChatSession reads it)
            mode = self.options.backend.name if self.options.backend is not None else self.config.general.backend
            self.query_one(StatusBar).view = opening_view(mode, self.state)
        else:
            self.query_one(StatusBar).view = status_view(self._session.status(), self.state)

    # -- loading --------------------------------------------------------------

    def load_backend(self, candidate: Backend | None = None) -> None:
        """Load the session's backend, or `candidate`, which replaces it only once loaded."""
        self.run_worker(partial(ui.loading.load, self.session, candidate, self.post_message, self._quitting),
                        name="load_backend", group="load", thread=True, exit_on_error=False)

    def on_load_progressed(self, message: LoadProgressed) -> None:
        found = self.query("#load-progress")
        if found:
            bar = found.first(ProgressBar)
        elif hints := self.query("#hints"):  # none once the screen is being torn down
            # Mounted with the first load, not in the first frame, which it would delay.
            bar = ProgressBar(id="load-progress", show_eta=False)
            self.mount(bar, before=hints.first())
        else:
            return
        bar.display = True
        bar.update(total=100, progress=message.fraction * 100)
        self.state = f"loading {message.fraction:.0%}"
        self.refresh_status()

    async def on_load_finished(self, message: LoadFinished) -> None:
        if not self.query("#hints"):  # a load that ends as the app exits has nothing left to show
            return
        for bar in self.query("#load-progress"):  # there when the load reported progress
            bar.display = False
        candidate = message.candidate
        if message.error:
            self.notify(message.error, title="Model not loaded", severity="error", timeout=15)
            if candidate is None:
                self.state = "unavailable"
                await self.add_note(f"Model not loaded: {message.error}", error=True)
            else:  # a failed switch keeps what was working
                self.state = "ready" if self.session.backend.loaded else "unavailable"
                current = self.session.backend
                await self.add_note(
                    f"Not switched: {message.error}\nStill on {current.name} · {current.model_name}",
                    error=True,
                )
        else:
            if candidate is not None:
                self._pending_backend = candidate
                self.apply_pending_backend()
            self.state = "ready"
            took = f" in {fmt.seconds(message.seconds)}" if message.seconds is not None else ""
            if not message.quiet:
                self.notify(f"{message.model_name} loaded{took}", timeout=3)
        self.refresh_status()

    def apply_pending_backend(self) -> None:
        """Switch to a newly loaded backend, but never under a running answer."""
        if self._pending_backend is None or self.busy:
            return
        new, self._pending_backend = self._pending_backend, None
        self.session.use(new)
        self.post_message(Note(f"Switched to {new.name} · {new.model_name}"))

    def on_backends_checked(self, message: BackendsChecked) -> None:
        """The welcome says which backends can answer; without it (a resumed chat), a
        note names those that cannot."""
        if (welcome := self.query_one(Transcript).welcome) is not None:
            welcome.backends_checked(message.checked, message.plan)
        elif message.some_missing and self.session.mode == AUTO:
            said = "; ".join(f"{name}: {why}" for name, _, why in message.checked if why)
            self.post_message(TurnNotice(Notice(f"Not available: {said}")))

    # -- transcript -----------------------------------------------------------

    async def add_note(self, text: str, *, error: bool = False) -> None:
        await self.query_one(Transcript).add_entry(Entry("error" if error else "note", text))

    async def on_note(self, message: Note) -> None:
        await self.add_note(message.text, error=message.error)

    # -- prompt ---------------------------------------------------------------

    @on(PromptInput.Changed)
    @on(PromptInput.Offered)
    def show_hints(self, event: PromptInput.Changed | PromptInput.Offered) -> None:
        hints = self.query_one("#hints", Static)
        matches = self.query_one(PromptInput).completions()
        hints.display = bool(matches)
        if matches and matches[0].startswith("@"):  # project paths a Tab offered
            hints.update(offered_line(matches))
        elif matches:
            usage = {c.name: c for c in ui.SLASH_COMMANDS}
            hints.update("   ".join(f"{usage[m].usage} — {usage[m].help}" for m in matches))

    @on(PromptInput.Submitted)
    async def submit(self, event: PromptInput.Submitted) -> None:
        text = event.text
        if text.startswith("/"):
            await ui.run_slash_command(self, text)
            return
        if self.busy:
            self.notify("An answer is still streaming: Esc cancels it.", severity="warning")
            return
        if asks_for_task(text):  # the privacy router keeps a task with a typed secret on this machine
            await self.start_turn(text)
            return
        hold = session_mod.secret_hold.secret_hold(self.session, text)
        if hold is not None:  # a key, to a cloud backend named: ask first
            self.push_screen(screens.SecretScreen(hold), partial(self.answer_hold, text))
            return
        await self.start_turn(text)

    async def answer_hold(self, text: str, send: bool) -> None:
        """Yes: `text` goes to the backend named, its secret let go (`ALLOW_SECRET`); no:
        it goes as typed, and the privacy router keeps it on this machine."""
        await self.start_turn(text, flags=frozenset({ALLOW_SECRET}) if send else frozenset())

    # -- a turn ---------------------------------------------------------------

    async def start_turn(self, text: str, *, retry_on: str | None = None, flags: frozenset[str] = frozenset()) -> None:
        """Send `text` with the user's `flags`; with `retry_on`, the last question again on that backend.
        A task (`@task` among its prefixes) runs the same way, in ui/tasks.py's worker."""
        transcript = self.query_one(Transcript)
        await transcript.drop_welcome()
        backend = self.session.backend
        answer = AssistantMessage(fmt.answer_label(backend.name, backend.model_name), "routing…")
        shown = f"↻ {text}  (again, on {retry_on})" if retry_on else text
        await transcript.mount_all([user_message(shown), answer])
        transcript.anchor()
        cancel = self.cancels.fresh()
        self.state = "routing"  # until a backend is chosen; then "starting", until it streams ("generating")
        self.refresh_status()
        self.stream.begin(answer, self.config.ui, backend.capabilities.local)
        if retry_on is None and asks_for_task(text):
            self.tasks.begin()
            work, name = partial(self.tasks.run, self.session, text, cancel), "run_task"
        else:
            work, name = partial(self.stream.run, self.session, text, cancel, retry_on, flags), "run_turn"
        self._turn_worker = self.run_worker(work, name=name, group="turn", thread=True, exit_on_error=False)

    def on_turn_notice(self, message: TurnNotice) -> None:
        event = message.event
        if isinstance(event, RouteDecided):
            backend = self.session.backend_named(event.decision.backend)
            self.stream.relabel(fmt.answer_label(backend.name, backend.model_name), fmt.route_badge(event.decision),
                                shares_cpu=backend.capabilities.local)
            self.state = "starting"
            self.refresh_status()
            return
        if isinstance(event, Notice):
            self.notify(event.text, severity="warning", timeout=10)
            return
        if isinstance(event, Retrying):
            self.state = f"retrying in {event.wait_seconds:.1f} s"
            self.notify(
                f"{event.reason}\nRetrying in {event.wait_seconds:.1f} s (retry {event.attempt}).",
                title="Claude request failed",
                severity="warning",
                timeout=max(event.wait_seconds, 3),
            )
        else:
            self.state = "generating"
            self.stream.relabel(fmt.answer_label(event.to_backend, event.to_model, event.from_backend),
                                shares_cpu=self.session.backend_named(event.to_backend).capabilities.local)
            self.notify(f"{event.reason}\nAnswering with {event.to_backend} instead.", severity="warning")
        self.refresh_status()

    async def on_answer_delta(self, _: AnswerDelta) -> None:
        await self.stream.paint()

    async def on_turn_finished(self, message: TurnFinished) -> None:
        result, task = message.result, message.task
        if task is not None:  # a task's footer: its steps, model time and tool time apart
            closed = await self._close_turn(fmt.task_summary(task), fmt.task_note(task), result)
        else:
            assert result is not None
            closed = await self._close_turn(fmt.turn_summary(result), fmt.turn_note(result), result)
        if not closed:
            return
        # A ledger that cannot be written is said once per distinct error; answers go on.
        error = self.session.ledger_error
        if error and error != self._ledger_error_shown:
            self.notify(f"{error}\nAnswers still work; their costs are not being saved.",
                        title="Cost ledger", severity="error", timeout=15)
        self._ledger_error_shown = error

    async def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A worker that raised (a bug here or in a plugin) ends what it was doing
        with one line, and the app stays usable; the traceback goes to the log file."""
        if event.state != WorkerState.ERROR:
            return
        error = event.worker.error
        log.error("worker %s failed", event.worker.name, exc_info=error)
        line = error_line(error)
        if event.worker is self._turn_worker and self.stream.answer is not None:
            await self._close_turn("", f"Error: {line}")
        else:
            await self.add_note(f"Error: {line}", error=True)
        self.notify(line, title="Something went wrong", severity="error", timeout=10)

    async def _close_turn(self, footer: str, note: str | None, turn: TurnResult | None = None) -> bool:
        """End the turn on screen; the prompt is free again. False when the app is
        quitting (nothing is shown then)."""
        await self.tasks.ended()  # a task's question left on screen goes
        if not await self.stream.end(footer, note, turn):
            return False
        self.state = "ready" if self.session.backend.loaded else "unavailable"
        self.apply_pending_backend()
        self.refresh_status()
        return True

    @on(History.Rated)
    def rate_selected(self, message: History.Rated) -> None:
        if message.entry.turn is None:
            self.post_message(Note("Not rated: this answer was not recorded (no ledger).", error=True))
            return
        ui.actions.rate(self, message.verdict, message.entry.turn)


def make_app(config: Config, options: AppOptions = AppOptions(), **changes: Any) -> AssistantApp:  # noqa: B008, ANN401
    """The one app factory, shared by the CLI, the tests and the benchmarks;
    `changes` replace fields of `options` (a test names only what it sets)."""
    return AssistantApp(config, replace(options, **changes))


def _tune_gc() -> tuple[int, ...]:
    """Fewer, cheaper garbage collections while answers stream; the thresholds
    they replace (to restore).

    Textual makes many short-lived objects per frame, and CPython's default
    thresholds run a collection every 700 allocations; full collections then
    scan every widget and module object alive. Objects alive once the app is
    up are frozen out of the scans, and young collections run less often.
    Measured by bench/ui_stream.py: 15-20% more tokens/sec absorbed.
    """
    before = gc.get_threshold()
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_YOUNG_THRESHOLD, *before[1:])
    return before

