"""How every `assistant` command ends: its exit codes, and the one line it says."""

from __future__ import annotations

import signal
import sys

from assistant.core.text import one_line

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 128 + signal.SIGINT  # 130: Ctrl+C; see `exit_interrupted`
# Said when a command that reads measurements finds none: not an error (exit 0).
HOW_TO_MEASURE = "chat with `assistant` or `assistant ask` (each turn is recorded), or measure with `assistant bench`"


def fail(message: str, code: int = EXIT_ERROR) -> int:
    """One line on stderr, named `assistant:`; the exit code to return."""
    print(f"assistant: {one_line(message)}", file=sys.stderr)
    return code


def exit_interrupted(signum: int = signal.SIGINT) -> int:
    """The exit code of a command a stop signal ended (cli/interrupt.py): 128 + its
    number, as a shell reports a process that signal killed (130 for Ctrl+C, 143
    for SIGTERM, 129 for SIGHUP), though the command ended on its own terms."""
    return 128 + signum


def nothing_recorded(what: str) -> int:
    """Nothing to read yet: said on stdout, with what records it; exit 0."""
    print(f"{what}: {HOW_TO_MEASURE}.")
    return EXIT_OK
