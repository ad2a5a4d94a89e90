"""The app's side of `assistant serve`: textual's web driver, made to end.

Each tab's app talks to `serve` over its stdin and stdout (textual-serve's packets).
Textual's driver leaves three ways out unguarded, and an app that took one of them
ran on after its tab and its server were gone, and took no notice of SIGTERM:

- the tab closes: `serve` sends "quit", which textual turns into an immediate exit
  that records nothing of a running answer;
- `serve` goes away: stdin ends, which only stops the driver's input thread, and the
  next write to stdout fails with EPIPE inside Textual's own error handling (whose
  bell writes again), which wedges the app's shutdown;
- SIGTERM: the driver takes it for that same immediate exit, in place of the
  handler cli/tui.py set.

Here each of them quits as Ctrl+Q does (`action_quit`: the answer cancelled and
recorded, then exit), SIGTERM through cli/tui.py's own handler (exit 143, and out
at once when the app is too busy to quit), and once the server is gone, what the
app would still draw is dropped."""

from __future__ import annotations

import asyncio
import os
import signal
from typing import Any

from textual.app import App
from textual.drivers.web_driver import WebDriver

# What textual-serve's AppService names in TEXTUAL_DRIVER for each app it starts.
SERVED_DRIVER = f"{__name__}:ServedDriver"


class ServedDriver(WebDriver):
    """textual's WebDriver that quits as Ctrl+Q does when its tab or its server goes."""

    def __init__(self, app: App[Any], *, debug: bool = False, mouse: bool = True,
                 size: tuple[int, int] | None = None) -> None:  # fmt: skip
        super().__init__(app, debug=debug, mouse=mouse, size=size)
        self._write = self._to_server
        self._loop: asyncio.AbstractEventLoop | None = None
        self._leaving = False
        self._server_gone = False

    def start_application_mode(self) -> None:
        command_handler = signal.getsignal(signal.SIGTERM)
        self._loop = asyncio.get_running_loop()
        super().start_application_mode()  # takes SIGINT and SIGTERM for its immediate exit
        if callable(command_handler):  # cli/tui.py's: quit as Ctrl+Q does, exit 128 + 15
            # A handler of Python's own, as it was: it runs between any two bytecodes of
            # the main thread, where the loop's would wait for a busy loop to come round.
            self._loop.remove_signal_handler(signal.SIGTERM)
            signal.signal(signal.SIGTERM, command_handler)

    def on_meta(self, packet_type: str, payload: dict[str, object]) -> None:
        if packet_type == "quit":  # the tab closed
            self._leave()
        else:
            super().on_meta(packet_type, payload)

    def run_input_thread(self) -> None:
        super().run_input_thread()
        if not self.exit_event.is_set():  # stdin ended before the app did: the server has gone
            self._leave()

    def _to_server(self, data: bytes) -> None:
        if self._server_gone:
            return
        try:
            os.write(self.fileno, data)
        except BrokenPipeError:
            self._server_gone = True
            self._leave()

    def _leave(self) -> None:
        """Quit as Ctrl+Q does, once, from any thread."""
        if self._leaving or self._loop is None:
            return
        self._leaving = True
        try:  # threadsafe: it wakes the loop, which may be waiting in select()
            self._loop.call_soon_threadsafe(self._app.call_next, self._app.action_quit)
        except RuntimeError:  # the loop has closed: the app has ended
            pass
