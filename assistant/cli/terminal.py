"""The terminal as the TUI found it, given back when the app cannot give it back itself.

Textual restores the terminal as the app ends: raw mode undone, the alternate
screen left. A stop signal ends the app through its own event loop, and while that
loop is busy (keys pasted without bracketed paste, thousands of them, each re-wraps
the prompt) or wedged, the app does not end; whoever sent SIGTERM sends SIGKILL
next, and the shell is left raw, on the alternate screen, with the mouse reported.
`Terminal.give_back` undoes what Textual's LinuxDriver turned on, from outside the
loop, just before the process leaves at once."""

from __future__ import annotations

import contextlib
import os
import sys
import termios
from dataclasses import dataclass
from typing import Any

# What Textual's LinuxDriver turns on, turned off as its stop_application_mode does:
# mouse reports, bracketed paste, no line wrap, in-band resize, the kitty keyboard
# protocol, focus reports; then the alternate screen left and the cursor shown.
LEAVE = (
    "\x1b[?1000l\x1b[?1003l\x1b[?1015l\x1b[?1006l\x1b[?2004l\x1b[?7h\x1b[?2048l\x1b[<u"
    "\x1b[?1049l\x1b[?25h\x1b[?1004l"
)


@dataclass(frozen=True, slots=True)
class Terminal:
    """Where Textual draws (stderr) and reads keys (stdin), each None when it is not a terminal."""

    screen: int | None
    keyboard: int | None
    settings: list[Any] | None  # termios's, of the keyboard, before the app made it raw

    @classmethod
    def found(cls) -> Terminal:
        """The terminal now, before the app takes it."""
        screen, keyboard = _tty(sys.__stderr__), _tty(sys.__stdin__)
        settings = None
        if keyboard is not None:
            with contextlib.suppress(termios.error):
                settings = termios.tcgetattr(keyboard)
        return cls(screen, keyboard, settings)

    def give_back(self) -> None:
        """The terminal as it was found; what cannot be done (a hung-up terminal) is skipped."""
        if self.screen is not None:
            with contextlib.suppress(OSError):
                os.write(self.screen, LEAVE.encode())
        if self.keyboard is not None and self.settings is not None:
            with contextlib.suppress(OSError, termios.error):
                termios.tcsetattr(self.keyboard, termios.TCSANOW, self.settings)


def _tty(stream: Any) -> int | None:  # noqa: ANN401 - sys.__stdin__ / __stderr__, maybe None or closed
    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):
        return None
    return fd if os.isatty(fd) else None
