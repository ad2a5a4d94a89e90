"""The Textual app: a transcript, a prompt and a live status bar.

Blocking work (loading the model, generating) runs in thread workers that call
the headless core and post typed messages back; the UI only renders them.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.theme import Theme
from textual.timer import Timer
from textual.widgets import ProgressBar, Static
from textual.worker import Worker, WorkerState

from assistant.core import edits, plugins, store, workflows
from assistant.core.accounting.metrics import Clock
from assistant.core.backends.protocol import Backend
from assistant.core.config import Config
from assistant.core.edits.types import EditError
from assistant.core.events import FallbackStarted, Notice, Retrying, RouteDecided, SessionEvent, StreamEvent, TextDelta
from assistant.core.paths import Paths
from assistant.core.project import find_root
from assistant.core.results import TurnResult
from assistant.core.session.chat import AUTO, ChatSession
from assistant.core.session.compaction import CompactionError
from assistant.core.session.pool import BackendSource
from assistant.core.session.turns import unavailable_reason
from assistant.core.text import error_line
from assistant.render import format as fmt
from assistant.ui import screens
from assistant.ui.commands import SlashCommandProvider
from assistant.ui.deltas import DeltaBuffer
from assistant.ui.frames import FramePacer
from assistant.ui.messages import (
    AnswerDelta,
    ChecksRan,
    LoadFinished,
    LoadProgressed,
    ProposalReady,
    SessionLoaded,
    TurnFinished,
    TurnNotice,
)
from assistant.ui.slash import SLASH_COMMANDS, run_slash_command
from assistant.ui.themes import load_themes
from assistant.ui.widgets.markdown import warm_markdown
from assistant.ui.widgets.prompt import PromptInput
from assistant.ui.widgets.rendered import Entry, History, use_code_theme
from assistant.ui.widgets.status import StatusBar, StatusView
from assistant.ui.widgets.transcript import AssistantMessage, Transcript, user_message

if TYPE_CHECKING:
    from textual.notifications import SeverityLevel

    from assistant.core.workflows.refactor import Proposal, Refactorer

log = logging.getLogger(__name__)

QUIT_WAIT_SECONDS = 10.0
GC_YOUNG_THRESHOLD = 10_000  # CPython's default is 700


class AssistantApp(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "assistant"
    COMMANDS = App.COMMANDS | {SlashCommandProvider}
    BINDINGS = [
        Binding("escape", "cancel", "Cancel answer", show=False),
        Binding("ctrl+q", "quit", "Quit", priority=True),
    ]

    def __init__(
        self,
        config: Config,
        *,
        backend: Backend | None = None,
        config_error: str | None = None,
        clock: Clock = time.monotonic,
        preload: bool = True,
        ledger: bool = True,
        fallback: Callable[[], Backend] | None = None,
        backends: Mapping[str, BackendSource] | None = None,
        resume: str | None = None,
    ) -> None:
        super().__init__()
        self.resume_id = resume  # "last" (this folder's latest) or a session id
        self.config = config
        self.config_error = config_error
        #: One line when the app ended on an error nothing handled (see `_fatal_error`).
        self.fatal_error: str | None = None
        self.preload = preload
        self.session = ChatSession(
            config,
            backend or (None if config.general.backend == AUTO else _create_backend(config)),
            clock=clock,
            ledger=_open_ledger if ledger else None,
            fallback=fallback or (lambda: _create_backend(config, "local")),
            backends=backends,
            project_root=find_root(),  # the one project root (core/project.py), as the CLI's
        )
        self.deltas = DeltaBuffer(on_full=lambda: self.post_message(AnswerDelta()))
        self._answer: AssistantMessage | None = None
        self._cancel = threading.Event()
        self._quitting = threading.Event()
        self._turn_worker: Worker | None = None
        self._pending_backend: Backend | None = None  # loaded by /model, waiting for the turn to end
        self._frame_timer: Timer | None = None  # while an answer streams (_start_stream_frames)
        self._pacer = FramePacer(1, 0)  # set for each answer (_start_stream_frames)
        self._frame_cpu = self._status_at = 0.0
        self._state = "not loaded"
        self._last_reported_percent = -1
        self._gc_tuned: tuple[int, ...] | None = None  # the thresholds to restore
        self._ledger_error_shown: str | None = None
        self._refactorer: Refactorer | None = None  # made on the first /refactor or /undo
        self.session.persist = ledger  # a TUI chat is stored, so that it can be resumed
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
        (Textual calls this from its exception handler, so `sys.exc_info()` holds the
        error; tests/ui/test_input_robustness.py checks that the hook is still called.)"""
        error = sys.exc_info()[1] or self._exception
        log.error("unhandled error in the TUI", exc_info=error)
        what = error_line(error, 200, whole=True)
        self.bell()
        # Said by the CLI once the terminal is back (`fatal_error`), with a plain print:
        # Rich would fold or crop it to the terminal's width.
        self.fatal_error = f"internal error: {what} (the details are in {Paths.resolve().log_file})"
        self._close_messages_no_wait()

    def _theme_changed(self, theme: Theme) -> None:
        use_code_theme(theme.dark)
        self.query_one(Transcript).render_again()

    # -- layout ---------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Transcript(id="transcript")
        yield ProgressBar(id="load-progress", show_eta=False)
        yield Static("", id="hints", markup=False)
        yield PromptInput(commands=[c.name for c in SLASH_COMMANDS], id="prompt")
        yield StatusBar(id="status")

    def on_mount(self) -> None:
        self.theme_changed_signal.subscribe(self, self._theme_changed)
        self.call_after_refresh(self._after_first_frame)
        self.query_one("#load-progress").display = False
        self.query_one("#hints").display = False
        self.query_one(PromptInput).focus()
        if self.config_error:
            self.notify(f"{self.config_error} — using defaults", severity="error", timeout=15)
        self.refresh_status()
        if self.preload:
            self.load_backend()
            self.warm_backends()
        if self.resume_id:
            self.load_session(self.resume_id)

    # -- status ---------------------------------------------------------------

    @property
    def busy(self) -> bool:
        return self._turn_worker is not None and self._turn_worker.is_running

    def status_view(self) -> StatusView:
        session = self.session
        backend = session.current_backend if session.current is not None else session.backend_if_created()
        if backend is None:  # before the first frame nothing is created; the load worker does it
            return StatusView(backend=session.mode, model="…", state=self._state)
        live = session.live()
        stats, turn_cost = live if live is not None else (None, None)
        caps = backend.capabilities
        if caps.local:
            note = f"local machine ${self.config.cost.local_machine_per_hour:g}/h"
        elif caps.machine_per_hour is not None:  # an inference server, priced by the hour
            note = f"{backend.name} ${caps.machine_per_hour:g}/h"
        else:
            note = self._price_note()
        generating = session.current is not None and not self._state.startswith("retrying")
        return StatusView(
            backend=f"auto → {backend.name}" if session.mode == AUTO else backend.name,
            model=backend.model_name,
            state="generating" if generating else self._state,
            stats=stats,
            context_fill=session.context_fill(stats),
            turn_cost=turn_cost,
            session_cost=session.totals.cost,
            session_cost_known=session.totals.cost_known,
            cost_note=note,
        )

    def _price_note(self) -> str:
        """Where a remote backend's prices come from."""
        prices = self.session.prices
        found = prices.lookup(self.session.backend.model_name)
        return f"prices of {prices.updated}" if found else "no price for this model: cost unknown"

    def refresh_status(self) -> None:
        self.query_one(StatusBar).view = self.status_view()

    # -- loading --------------------------------------------------------------

    @work(thread=True, group="load", exit_on_error=False)
    def load_backend(self, candidate: Backend | None = None) -> None:
        """Load the session's backend, or `candidate`, which replaces it only once loaded."""
        backend = candidate or self.session.backend  # created here, off the UI thread
        if backend.loaded:
            self.post_message(LoadFinished(backend.model_name, None, candidate=candidate, quiet=True))
            return

        def progress(fraction: float) -> bool:
            percent = int(fraction * 100)
            if percent != self._last_reported_percent:
                self._last_reported_percent = percent
                self.post_message(LoadProgressed(fraction))
            return not self._quitting.is_set()

        self._last_reported_percent = 0
        self.post_message(LoadProgressed(0.0))
        try:
            backend.load(progress)
        except Exception as exc:  # BackendUnavailable, or anything a plugin raises
            self.post_message(LoadFinished(backend.model_name, None, error=str(exc), candidate=candidate))
            return
        seconds = getattr(backend, "load_seconds", None)
        self.post_message(LoadFinished(backend.model_name, seconds, candidate=candidate))

    @work(thread=True, group="warm", exit_on_error=False)
    def warm_backends(self) -> None:
        """Make the other candidates ready (a remote client costs no network), and
        say what to configure when nothing at all can answer."""
        session = self.session
        edits.cleanup_pending(self.project_root)  # temp files of an edit a crash interrupted
        edits.cleanup_scratch(Paths.resolve())  # and the scratch copies of its checks
        self._settle_interrupted_edit()
        # The session's own backend is being loaded by load_backend() (with a progress
        # bar); asking it here waits for that load and hears how it went.
        reasons = {name: unavailable_reason(session.pool.get(name), load=True) for name in session.candidates()}
        checked = [(name, session.pool.get(name).model_name, why) for name, why in reasons.items()]
        missing = {n: r for n, r in reasons.items() if r}
        if missing and len(missing) == len(reasons):
            self.call_from_thread(self.run_worker, self.add_note(session.nothing_can_answer(), error=True))
        self.call_from_thread(self._backends_checked, checked, bool(missing) and len(missing) < len(reasons))
        try:
            session.warm_counters()  # or the first turn waits for the tokenizers
        except Exception:  # noqa: BLE001 - a plugin's counter: the turn will say what is wrong
            log.warning("could not ready the token counters", exc_info=True)

    def _settle_interrupted_edit(self) -> None:
        """An edit a killed run wrote but did not commit is finished (so /undo reaches
        it) or taken back now, not filed later as the user's own work."""
        try:
            settled = edits.Workspace(self.project_root).settle_interrupted()
        except EditError as exc:  # a rebase under way, a read-only repository: the next edit says so
            log.warning("an interrupted edit is left for later: %s", exc)
            return
        if settled:  # a note, not a toast: it says what became of the user's files
            self.call_from_thread(self.run_worker, self.add_note(settled))

    def _backends_checked(self, checked: list[tuple[str, str, str]], some_missing: bool) -> None:
        """The welcome says which backends can answer; without it (a resumed chat), a
        note names those that cannot."""
        if (welcome := self.query_one(Transcript).welcome) is not None:
            welcome.backends_checked(checked)
        elif some_missing and self.session.mode == AUTO:
            said = "; ".join(f"{name}: {why}" for name, _, why in checked if why)
            self.post_message(TurnNotice(Notice(f"Not available: {said}")))

    def _load_bar(self) -> ProgressBar | None:
        """The model-load bar; None once the screen is being torn down (a load that
        finishes as the app exits has nothing left to show)."""
        found = self.query("#load-progress")
        return found.first(ProgressBar) if found else None

    def on_load_progressed(self, message: LoadProgressed) -> None:
        if (bar := self._load_bar()) is None:
            return
        bar.display = True
        bar.update(total=100, progress=message.fraction * 100)
        self._state = f"loading {message.fraction:.0%}"
        self.refresh_status()

    async def on_load_finished(self, message: LoadFinished) -> None:
        if (bar := self._load_bar()) is None:
            return
        bar.display = False
        candidate = message.candidate
        if message.error:
            self.notify(message.error, title="Model not loaded", severity="error", timeout=15)
            if candidate is None:
                self._state = "unavailable"
                await self.add_note(f"Model not loaded: {message.error}", error=True)
            else:  # a failed switch keeps what was working
                self._state = "ready" if self.session.backend.loaded else "unavailable"
                current = self.session.backend
                await self.add_note(
                    f"Not switched: {message.error}\nStill on {current.name} · {current.model_name}",
                    error=True,
                )
        else:
            if candidate is not None:
                self._pending_backend = candidate
                self.apply_pending_backend()
            self._state = "ready"
            took = f" in {fmt.seconds(message.seconds)}" if message.seconds is not None else ""
            if not message.quiet:
                self.notify(f"{message.model_name} loaded{took}", timeout=3)
        self.refresh_status()

    def apply_pending_backend(self) -> None:
        """Switch to a newly loaded backend, but never under a running answer."""
        if self._pending_backend is None or self.busy:
            return
        new, self._pending_backend = self._pending_backend, None
        self.session.switch_backend(new)
        self.run_worker(self.add_note(f"Switched to {new.name} · {new.model_name}"))

    # -- transcript -----------------------------------------------------------

    async def add_note(self, text: str, *, error: bool = False) -> None:
        await self.query_one(Transcript).add_entry(Entry("error" if error else "note", text))

    # -- prompt ---------------------------------------------------------------

    @on(PromptInput.Changed)
    def show_hints(self, event: PromptInput.Changed) -> None:
        hints = self.query_one("#hints", Static)
        matches = self.query_one(PromptInput).completions()
        hints.display = bool(matches)
        if matches:
            usage = {c.name: c for c in SLASH_COMMANDS}
            hints.update("   ".join(f"{usage[m].usage} — {usage[m].help}" for m in matches))

    @on(PromptInput.Submitted)
    async def submit(self, event: PromptInput.Submitted) -> None:
        text = event.text
        if text.startswith("/"):
            await self.run_slash_command(text)
            return
        if self.busy:
            self.notify("An answer is still streaming: Esc cancels it.", severity="warning")
            return
        await self.start_turn(text)

    async def start_turn(self, text: str, *, retry_on: str | None = None) -> None:
        """Send `text`; with `retry_on`, the last question again on that backend."""
        transcript = self.query_one(Transcript)
        await transcript.drop_welcome()
        backend = self.session.backend
        self._answer = AssistantMessage(fmt.answer_label(backend.name, backend.model_name), "routing…")
        shown = f"↻ {text}  (again, on {retry_on})" if retry_on else text
        await transcript.mount_all([user_message(shown), self._answer])
        transcript.anchor()
        self._cancel = threading.Event()
        self._start_stream_frames()
        self._turn_worker = self.run_turn(text, self._cancel, retry_on)

    @work(thread=True, group="turn", exit_on_error=False)
    def run_turn(self, text: str, cancel: threading.Event, retry_on: str | None = None) -> None:
        deltas = self.deltas
        painted_first = False

        def on_event(event: StreamEvent | SessionEvent) -> None:
            nonlocal painted_first
            if isinstance(event, TextDelta):
                # The first text is painted at once (time to first token); the rest
                # waits for the next frame (`_stream_frame`).
                if event.text and deltas.push(event.text, cancel) and not painted_first:
                    painted_first = True
                    self.post_message(AnswerDelta())
            elif isinstance(event, Retrying | FallbackStarted | RouteDecided | Notice):
                self.post_message(TurnNotice(event))

        if retry_on is not None:
            result = self.session.retry_other(cancel, on_event)
        else:
            result = self.session.run_turn(text, cancel, on_event)
        if result is not None:
            self.post_message(TurnFinished(result))

    def on_turn_notice(self, message: TurnNotice) -> None:
        event = message.event
        if isinstance(event, RouteDecided):
            decision = event.decision
            backend = self.session.pool.get(decision.backend)
            self._pacer.shares_cpu = self._shares_cpu(backend)
            if self._answer is not None:
                self._answer.relabel(fmt.answer_label(backend.name, backend.model_name), fmt.route_badge(decision))
            self.refresh_status()
            return
        if isinstance(event, Notice):
            self.notify(event.text, severity="warning", timeout=10)
            return
        if isinstance(event, Retrying):
            self._state = f"retrying in {event.wait_seconds:.1f} s"
            self.notify(
                f"{event.reason}\nRetrying in {event.wait_seconds:.1f} s (retry {event.attempt}).",
                title="Claude request failed",
                severity="warning",
                timeout=max(event.wait_seconds, 3),
            )
        else:
            self._state = "generating"
            self._pacer.shares_cpu = self._shares_cpu(self.session.pool.get(event.to_backend))
            if self._answer is not None:
                self._answer.relabel(fmt.answer_label(event.to_backend, event.to_model, event.from_backend))
            self.notify(f"{event.reason}\nAnswering with {event.to_backend} instead.", severity="warning")
        self.refresh_status()

    # -- frames while an answer streams -----------------------------------------
    # On a small machine every screen update takes CPU from the model's threads, and
    # the model slows by as much time as the screen takes (bench/tui_local.py). So
    # while an answer streams, one timer paints it at a frame rate (not per token),
    # paced by what the frames cost when the model runs on this machine (frames.py),
    # and refreshes the status bar on some of the same frames; the prompt's cursor
    # holds still instead of blinking (a blink is a screen update of its own).

    def _start_stream_frames(self) -> None:
        ui = self.config.ui
        self._pacer = FramePacer(ui.answer_refresh_hz, ui.frame_cpu_share, self._shares_cpu(self.session.backend))
        self._frame_cpu = time.thread_time()
        self._status_at = time.monotonic()
        self.query_one(PromptInput).cursor_blink = False
        self._frame_timer = self.set_timer(1 / ui.answer_refresh_hz, self._stream_frame)

    def _stop_stream_frames(self) -> None:
        if self._frame_timer is not None:
            self._frame_timer.stop()
            self._frame_timer = None
        self.query_one(PromptInput).cursor_blink = True

    @staticmethod
    def _shares_cpu(backend: Backend) -> bool:
        """Whether `backend`'s model runs on this machine (its frames are then paced)."""
        return backend.capabilities.local

    async def _stream_frame(self) -> None:
        timer = self._frame_timer
        if self.deltas.waiting:
            await self.on_answer_delta(None)
        now = time.monotonic()
        if now - self._status_at >= 1 / self.config.ui.status_refresh_hz:
            self._status_at = now
            self.refresh_status()
        cpu = time.thread_time()
        spent, self._frame_cpu = cpu - self._frame_cpu, cpu
        if self._frame_timer is timer:  # not stopped (or another answer's frames begun) meanwhile
            self._frame_timer = self.set_timer(self._pacer.delay(spent), self._stream_frame)

    async def on_answer_delta(self, _: AnswerDelta | None) -> None:
        text = self.deltas.drain()
        if text and self._answer is not None:
            await self._answer.write(text)
        # Only once painted does the text stop counting against the producer.
        self.call_after_refresh(self.deltas.shown, text)

    async def on_turn_finished(self, message: TurnFinished) -> None:
        result = message.result
        if await self._close_turn(fmt.turn_summary(result), self.turn_note(result), result):
            self.report_ledger_error()

    @on(History.Rated)
    def rate_selected(self, message: History.Rated) -> None:
        if message.entry.turn is None:
            self.run_worker(self.add_note("Not rated: this answer was not recorded (no ledger).", error=True))
            return
        self.rate_answer(message.verdict, message.entry.turn)

    async def _close_turn(self, footer: str, note: str | None, turn: TurnResult | None = None) -> bool:
        """End the turn on screen: its last text, its footer and note; the prompt is
        free again. False when the app is quitting (nothing is shown then)."""
        self._stop_stream_frames()
        answer, self._answer = self._answer, None
        if self._quitting.is_set():
            return False  # the screen is going away; nothing to show
        if answer is not None:
            rest = self.deltas.drain()
            await answer.write(rest)
            self.call_after_refresh(self.deltas.shown, rest)
            answer.finish(footer, note, turn)
            # Paint the last tokens first; folding the turn into the history can wait a frame.
            self.call_after_refresh(self._settle_transcript)
        self._state = "ready" if self.session.backend.loaded else "unavailable"
        self.apply_pending_backend()
        self.refresh_status()
        return True

    async def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A worker that raised (a bug here or in a plugin) ends what it was doing
        with one line, and the app stays usable; the traceback goes to the log file."""
        if event.state != WorkerState.ERROR:
            return
        error = event.worker.error
        log.error("worker %s failed", event.worker.name, exc_info=error)
        line = error_line(error)
        if event.worker is self._turn_worker and self._answer is not None:
            self.session.current = None  # its live figures end with it
            await self._close_turn("", f"Error: {line}")
        else:
            await self.add_note(f"Error: {line}", error=True)
        self.notify(line, title="Something went wrong", severity="error", timeout=10)

    def report_ledger_error(self) -> None:
        """A ledger that cannot be written is said once per distinct error; answers go on."""
        error = self.session.ledger_error
        if error and error != self._ledger_error_shown:
            self.notify(f"{error}\nAnswers still work; their costs are not being saved.",
                        title="Cost ledger", severity="error", timeout=15)
        self._ledger_error_shown = error

    async def _settle_transcript(self) -> None:
        if not self._quitting.is_set():
            await self.query_one(Transcript).settle()

    @staticmethod
    def turn_note(result: TurnResult) -> str | None:
        lines = []
        if result.fallback_from:
            lines.append(f"{result.fallback_from} could not answer: {result.fallback_reason}")
        if result.outcome == "interrupted" and result.error is not None:
            lines.append(f"{result.error.message} The partial answer is kept; send it again to retry.")
        elif result.error is not None:
            lines.append(f"Error: {result.error.message}")
        elif result.outcome == "cancelled":
            lines.append("Cancelled.")
        return "\n".join(lines) or None

    # -- commands -------------------------------------------------------------

    async def run_slash_command(self, line: str) -> None:
        await run_slash_command(self, line)

    @property
    def state(self) -> str:
        return self._state

    @work(thread=True, group="session", exit_on_error=False)
    def load_session(self, which: str) -> None:
        """Read a stored session (off the UI thread); the UI then shows it."""
        ledger = self.session.ledger()
        if ledger is None:
            self.post_message(SessionLoaded(None, f"cannot resume: {self.session.ledger_error}"))
            return
        try:
            session_id = store.saved_sessions.last_session_in(ledger, os.getcwd()) if which == "last" else which
            if session_id is None:
                self.post_message(SessionLoaded(None, "no earlier session in this folder to resume"))
                return
            self.post_message(SessionLoaded(store.saved_sessions.load(ledger, session_id)))
        except store.LedgerError as exc:
            self.post_message(SessionLoaded(None, f"cannot resume: {exc}"))

    async def on_session_loaded(self, message: SessionLoaded) -> None:
        if message.stored is None:
            await self.add_note(message.error or "nothing to resume", error=True)
            return
        if self.busy:
            self.notify("Wait for the answer or cancel it (Esc) first.", severity="warning")
            return
        stored = message.stored
        self.session.resume(stored)
        transcript = self.query_one(Transcript)
        await transcript.drop_welcome()
        await transcript.clear()
        for item in stored.exchanges:
            transcript.history.add(Entry("user", item.exchange.user.content))
            if item.exchange.answer is not None:
                label, badge, footer = fmt.stored_answer(item)
                transcript.history.add(Entry("answer", item.exchange.answer.content, label, footer, None, badge, item.result))
        title = f" “{stored.title}”" if stored.title else ""
        await self.add_note(f"Resumed session {stored.id}{title}: {len(stored.exchanges)} exchange(s).")
        self.refresh_status()

    @property
    def project_root(self) -> Path:
        return self.session.project_root

    def refactorer(self) -> Refactorer:
        if self._refactorer is None:
            self._refactorer = workflows.Refactorer(self.session, self.project_root)
        return self._refactorer

    @work(thread=True, group="turn", exit_on_error=False)
    def propose_refactor(self, path: str, instruction: str) -> None:
        cancel = self._cancel = threading.Event()
        try:  # a repository that cannot take the commit is refused before any model is paid
            for note in edits.Workspace(self.project_root).ready([path]):
                self._say(note)
        except EditError as exc:
            self._say(f"Refactor of {path}: not asked: {exc}", error=True)
            return
        proposal = self.refactorer().propose(path, instruction, cancel, named=self.session.pinned_files())
        self.post_message(ProposalReady(proposal))
        self.call_from_thread(self.refresh_status)  # the session's cost includes the proposal

    async def on_proposal_ready(self, message: ProposalReady) -> None:
        proposal = message.proposal
        if not proposal.ok:
            await self.add_note(f"Refactor of {proposal.path}: nothing applied: {proposal.error}", error=True)
            return

        def reviewed(chosen: dict[str, frozenset[int]] | None) -> None:
            if chosen:
                self.check_refactor(proposal, chosen)
            else:
                self.refactorer().record_outcome(proposal, "rejected")
                self.run_worker(self.add_note(f"Refactor of {proposal.path}: rejected; nothing was written."))

        self.push_screen(screens.ReviewScreen(proposal, self.refactorer().shown), reviewed)

    @work(thread=True, group="turn", exit_on_error=False)
    def check_refactor(self, proposal: Proposal, chosen: dict[str, frozenset[int]]) -> None:
        """After the yes: the checks the proposal left for it (Esc stops them)."""
        cancel = self._cancel = threading.Event()
        if proposal.pending:
            self._say(f"Running {', '.join(proposal.pending)} on a scratch copy of the edit you accepted…")
        try:
            checked = self.refactorer().check_accepted(proposal, chosen, cancel)
        except EditError as exc:
            self._say(f"Not applied: {exc}", error=True)
            return
        self.post_message(ChecksRan(checked, chosen))

    async def on_checks_ran(self, message: ChecksRan) -> None:
        checked, chosen = message.checked, message.chosen
        proposal = checked.proposal
        if checked.verdict == "cancelled":
            await self.add_note(f"Refactor of {proposal.path}: cancelled while its checks ran; nothing was written.")
            return
        if checked.verdict == "apply":
            self.apply_refactor(proposal, chosen)
            return

        def answered(anyway: bool | None) -> None:
            if anyway:
                self.apply_refactor(proposal, chosen)
            else:
                self.refactorer().record_outcome(proposal, "rejected")
                self.run_worker(self.add_note(f"Refactor of {proposal.path}: its checks do not pass; "
                                              "nothing was written."))  # fmt: skip

        self.push_screen(screens.ChecksFailedScreen(proposal), answered)

    @work(thread=True, group="turn", exit_on_error=False)
    def apply_refactor(self, proposal: Proposal, chosen: dict[str, frozenset[int]]) -> None:
        paths = list(chosen)
        try:
            committed = self.refactorer().apply(proposal, chosen)
        except EditError as exc:
            self.call_from_thread(self.run_worker, self.add_note(f"Not applied: {exc}", error=True))
            return
        where = f"commit {committed.commit[:10]}" if committed.commit else f"backup {committed.backup_id}"
        last = proposal.result
        who = f"{last.backend} · {last.model} · {fmt.cost(proposal.cost)}" if last else ""
        text = f"Applied to {', '.join(paths)} · {where} ({who}). /undo takes it back."
        self.call_from_thread(self.run_worker, self.add_note(text))

    @work(thread=True, group="turn", exit_on_error=False)
    def undo_edit(self) -> None:
        try:
            said = self.refactorer().undo()
        except EditError as exc:
            self.call_from_thread(self.run_worker, self.add_note(f"Nothing undone: {exc}", error=True))
            return
        self.call_from_thread(self.run_worker, self.add_note(said))

    # -- ratings: what the quality router learns from ------------------------------

    def _say(self, text: str, *, error: bool = False) -> None:
        """A note in the transcript, from a worker thread."""
        self.call_from_thread(self.run_worker, self.add_note(text, error=error))

    @work(thread=True, group="rating", exit_on_error=False)
    def rate_answer(self, verdict: str, result: TurnResult | None = None) -> None:
        """`/good`, `/bad` (or a key on a focused answer): the answer's rating, into the ledger."""
        try:
            rated = self.session.rate(verdict, result)  # type: ignore[arg-type]
        except (ValueError, store.LedgerError) as exc:
            self._say(f"Not rated: {exc}", error=True)
            return
        kind = rated.decision.kind if rated.decision is not None and rated.decision.kind else "this kind of"
        self._say(f"Rated {verdict}: the answer of {fmt.answer_label(rated.backend, rated.model)}; "
                  f"the quality router counts it for {kind} turns from the next one.")  # fmt: skip

    @work(thread=True, group="turn", exit_on_error=False)
    def keep_first_answer(self) -> None:
        """`/keep` after `/retry other`: the first answer is the conversation's again."""
        try:
            first = self.session.keep_first()
        except (ValueError, store.LedgerError) as exc:
            self._say(f"Nothing kept: {exc}", error=True)
            return
        self._say(f"Kept the first answer ({fmt.answer_label(first.backend, first.model)}): the conversation "
                  "goes on from it, rated good, and the other answer is rated bad.")  # fmt: skip

    @work(thread=True, group="turn", exit_on_error=False)
    def compact_history(self) -> None:
        cancel = self._cancel = threading.Event()
        try:
            text = self.session.compact(cancel)
        except CompactionError as exc:
            self.call_from_thread(self.notify, str(exc), severity="error")
            return
        self.call_from_thread(self.run_worker, self.add_note(text))

    def on_unmount(self) -> None:
        # However the app ends, a worker blocked on the screen must not wait forever.
        self._quitting.set()
        self._cancel.set()
        if self._gc_tuned is not None:
            gc.unfreeze()
            gc.set_threshold(*self._gc_tuned)

    def _after_first_frame(self) -> None:
        self._tune_gc()
        # Markdown's modules (~40 ms) off the UI thread, while the app waits for the
        # first key, not in the first answer's first paint, where they stall the model.
        self.run_worker(warm_markdown, thread=True, group="warm", exit_on_error=False)

    def _tune_gc(self) -> None:
        """Fewer, cheaper garbage collections while answers stream.

        Textual makes many short-lived objects per frame, and CPython's default
        thresholds run a collection every 700 allocations; full collections then
        scan every widget and module object alive. Objects alive once the app is
        up are frozen out of the scans, and young collections run less often.
        Measured by bench/ui_stream.py: 15-20% more tokens/sec absorbed.
        """
        self._gc_tuned = gc.get_threshold()
        gc.collect()
        gc.freeze()
        gc.set_threshold(GC_YOUNG_THRESHOLD, *self._gc_tuned[1:])

    def action_cancel(self) -> None:
        """Esc: stop the answer, or the refactor (its model turn or its checks) that runs."""
        if self.busy or any(w.group == "turn" and w.is_running for w in self.workers):
            self._cancel.set()

    async def action_quit(self) -> None:
        """Cancel a running answer or load, wait for it to stop, then leave."""
        self._quitting.set()
        self._cancel.set()
        worker = self._turn_worker
        if worker is not None and worker.is_running:
            deadline = time.monotonic() + QUIT_WAIT_SECONDS
            while worker.is_running and time.monotonic() < deadline:
                await asyncio.sleep(0.02)
        self.exit()


def make_app(
    config: Config,
    *,
    backend: Backend | None = None,
    config_error: str | None = None,
    clock: Clock = time.monotonic,
    preload: bool = True,
    ledger: bool = True,
    fallback: Callable[[], Backend] | None = None,
    backends: Mapping[str, BackendSource] | None = None,
    resume: str | None = None,
) -> AssistantApp:
    """The one app factory, shared by the CLI, the tests and the benchmarks.

    `fallback` makes the backend that answers when a remote one cannot
    (default: the configured local model); `backends` adds or replaces backends
    by name (tests)."""
    return AssistantApp(
        config,
        backend=backend,
        config_error=config_error,
        clock=clock,
        preload=preload,
        ledger=ledger,
        fallback=fallback,
        backends=backends,
        resume=resume,
    )


def _create_backend(config: Config, name: str | None = None) -> Backend:
    return plugins.create_backend(config, name)  # entry points are read when first asked for


def _open_ledger() -> store.Ledger:
    return store.Ledger.open()  # sqlite3 loads with the first turn, not before the first frame
