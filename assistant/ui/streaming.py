"""The answer on screen while its turn streams, and the turn's worker that feeds it.

The worker (a thread) runs the session's turn and posts what the app shows:
the text goes into a delta buffer (`AnswerDelta` says some waits), the route,
retries and fallbacks as `TurnNotice`, the end as `TurnFinished`.

On a small machine every screen update takes CPU from the model's threads, and
the model slows by as much time as the screen takes (bench/tui_local.py). So
while an answer streams, one timer paints it at a frame rate (not per token),
paced by what the frames cost when the model runs on this machine (frames.py),
and refreshes the status bar on some of the same frames; the prompt's cursor
holds still instead of blinking (a blink is a screen update of its own).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from assistant.core.events import FallbackStarted, Notice, Retrying, RouteDecided, SessionEvent, StreamEvent, TextDelta
from assistant.ui.deltas import DeltaBuffer
from assistant.ui.frames import FramePacer
from assistant.ui.messages import AnswerDelta, TurnFinished, TurnNotice
from assistant.ui.widgets.prompt import PromptInput
from assistant.ui.widgets.transcript import AssistantMessage, Transcript

if TYPE_CHECKING:
    from textual.timer import Timer

    from assistant.core.config import UiConfig
    from assistant.core.results import TurnResult
    from assistant.core.session.chat import ChatSession
    from assistant.ui.host import ChatHost


class AnswerStream:
    def __init__(self, host: ChatHost, quitting: threading.Event) -> None:
        self.host = host
        self.quitting = quitting
        self.deltas = DeltaBuffer(on_full=lambda: host.post_message(AnswerDelta()))
        self.answer: AssistantMessage | None = None  # the answer streaming now
        self._timer: Timer | None = None
        self._pacer = FramePacer(1, 0)  # set for each answer (`begin`)
        self._status_every = 1.0
        self._frame_cpu = self._status_at = 0.0

    def run(
        self, session: ChatSession, text: str, cancel: threading.Event, retry_on: str | None = None,
        flags: frozenset[str] = frozenset(),
    ) -> None:
        """The turn, in a thread worker, with the user's `flags`; with `retry_on`, the
        last question again on another backend."""
        on_event = self.listener(cancel)
        if retry_on is not None:
            result = session.retry_other(cancel, on_event)
        else:
            result = session.run_turn(text, cancel, on_event, flags=flags)
        if result is not None:
            self.host.post_message(TurnFinished(result))

    def listener(self, cancel: threading.Event) -> Callable[[StreamEvent | SessionEvent], bool]:
        """What a worker does with its turn's events (a task's too): the text goes into
        the delta buffer, the route, retries, fallbacks and notices to the app as
        `TurnNotice`. False for an event it leaves to the caller (a task's steps)."""
        deltas, post = self.deltas, self.host.post_message
        painted_first = False

        def on_event(event: StreamEvent | SessionEvent) -> bool:
            nonlocal painted_first
            if isinstance(event, TextDelta):
                # The first text is painted at once (time to first token); the rest
                # waits for the next frame (`frame`).
                if event.text and deltas.push(event.text, cancel) and not painted_first:
                    painted_first = True
                    post(AnswerDelta())
            elif isinstance(event, Retrying | FallbackStarted | RouteDecided | Notice):
                post(TurnNotice(event))
            else:
                return False
            return True

        return on_event

    def begin(self, answer: AssistantMessage, ui: UiConfig, shares_cpu: bool) -> None:
        """`answer` streams from now on, painted by frames; `shares_cpu`: its model
        runs on this machine (its frames are then paced)."""
        self.answer = answer
        self._pacer = FramePacer(ui.answer_refresh_hz, ui.frame_cpu_share, shares_cpu)
        self._status_every = 1 / ui.status_refresh_hz
        self._frame_cpu = time.thread_time()
        self._status_at = time.monotonic()
        self.host.query_one(PromptInput).cursor_blink = False
        self._timer = self.host.set_timer(1 / ui.answer_refresh_hz, self.frame)

    def relabel(self, label: str, badge: str | None = None, *, shares_cpu: bool) -> None:
        """The turn went to a backend (routed there, or fallen back to it)."""
        self._pacer.shares_cpu = shares_cpu
        if self.answer is not None:
            self.answer.relabel(label, badge)

    async def paint(self) -> None:
        """What the worker pushed since the last paint."""
        text = self.deltas.drain()
        if text and self.answer is not None:
            await self.answer.write(text)
        # Only once painted does the text stop counting against the producer.
        self.host.call_after_refresh(self.deltas.shown, text)

    def restart(self) -> str:
        """A task's model step called tools: its text leaves the answer, and what still
        waits in the buffer with it; that text is given back (what the model said
        before its calls, or the calls themselves, written as text)."""
        pending = self.deltas.drain()
        self.deltas.shown(pending)
        said = ""
        if self.answer is not None:
            said = self.answer.text + pending
            self.answer.restart()
        return said

    async def frame(self) -> None:
        timer = self._timer
        if self.deltas.waiting:
            await self.paint()
        now = time.monotonic()
        if now - self._status_at >= self._status_every:
            self._status_at = now
            self.host.refresh_status()
        cpu = time.thread_time()
        spent, self._frame_cpu = cpu - self._frame_cpu, cpu
        if self._timer is timer:  # not stopped (or another answer's frames begun) meanwhile
            self._timer = self.host.set_timer(self._pacer.delay(spent), self.frame)

    async def end(self, footer: str, note: str | None, turn: TurnResult | None = None) -> bool:
        """End the answer on screen: its last text, its footer and note. False when
        the app is quitting (nothing is shown then)."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        self.host.query_one(PromptInput).cursor_blink = True
        answer, self.answer = self.answer, None
        if self.quitting.is_set():
            return False  # the screen is going away; nothing to show
        if answer is not None:
            rest = self.deltas.drain()
            await answer.write(rest)
            self.host.call_after_refresh(self.deltas.shown, rest)
            answer.finish(footer, note, turn)
            # Paint the last tokens first; folding the turn into the history can wait a frame.
            self.host.call_after_refresh(self._settle)
        return True

    async def _settle(self) -> None:
        if not self.quitting.is_set():
            await self.host.query_one(Transcript).settle()
