"""The log file, with secrets kept out of it.

Every record, exception text included, passes through `RedactingFormatter`,
which replaces the API keys in use, anything shaped like an Anthropic key, the
credentials of any URL (a server's `http://user:PW@host`, `?api_key=…`), and any
secret a person typed into a message (core/typed_secrets.py: `sk_live_***`), which
the SDK's debug records repeat with the request they log.
The Anthropic SDK's and httpx's records go to the same file (warnings, or
everything with `general.debug_log`), redacted the same way, and never to the
terminal: the TUI owns it, and `ANTHROPIC_LOG=debug` would otherwise make the
SDK print records (tracebacks included) through the root logger onto it.
"""

from __future__ import annotations

import contextlib
import logging
import re
import sys
from collections.abc import Iterable
from pathlib import Path

from assistant.core.paths import Paths
from assistant.core.secrets import redact as redact_urls
from assistant.core.text import one_line
from assistant.core.typed_secrets import mask_secrets

REDACTED = "[redacted]"
_KEY_SHAPE = re.compile(r"sk-ant-[A-Za-z0-9_\-]{8,}")
LIBRARY_LOGGERS = ("anthropic", "openai", "httpx2", "httpcore2", "httpx", "httpcore")


class RedactingFormatter(logging.Formatter):
    def __init__(self, fmt: str, secrets: Iterable[str | None] = ()) -> None:
        super().__init__(fmt)
        self.secrets = sorted({s for s in secrets if s and len(s) >= 8}, key=len, reverse=True)

    def format(self, record: logging.LogRecord) -> str:
        return self.redact(super().format(record))

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return mask_secrets(_KEY_SHAPE.sub(REDACTED, redact_urls(text)))


class QuietFileHandler(logging.FileHandler):
    """The log file, whose own failures (a full disk, a folder gone read-only)
    never reach the person as the traceback logging prints by default: the first
    failure is said once, as one line on stderr, and logging stops there, so a
    full disk costs one line per run instead of a traceback per record."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, encoding="utf-8")
        self.failure: str | None = None

    def emit(self, record: logging.LogRecord) -> None:
        if self.failure is not None:
            return
        try:
            super().emit(record)  # reopening a closed stream can raise outside its own guard
        except Exception:  # noqa: BLE001 - every failure of the log is handleError's
            self.handleError(record)

    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802 - logging's name
        if self.failure is not None:
            return
        exc = sys.exc_info()[1]
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
        self.failure = f"log file {self.baseFilename} not written: {reason}; logging is off for this run"
        with contextlib.suppress(Exception):
            stream, self.stream = self.stream, None
            if stream is not None:
                stream.close()
        with contextlib.suppress(Exception):  # stderr may be gone too: then nothing is said
            print(f"assistant: {one_line(self.failure)}", file=sys.stderr)


_installed: list[logging.Handler] = []  # this process's handler, replaced by a later setup


def setup_logging(paths: Paths, *, debug: bool = False, secrets: Iterable[str | None] = ()) -> None:
    handler: logging.Handler
    try:
        paths.log_dir.mkdir(parents=True, exist_ok=True)
        handler = QuietFileHandler(paths.log_file)
    except OSError:
        handler = logging.NullHandler()  # an unwritable log dir must not stop the app
    handler.setFormatter(RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s", secrets))
    for old in _installed:  # a second setup (tests, a re-run of main) replaces the first
        for name in ("assistant", *LIBRARY_LOGGERS):
            logging.getLogger(name).removeHandler(old)
        old.close()
    _installed[:] = [handler]
    ours = logging.getLogger("assistant")
    ours.addHandler(handler)
    ours.setLevel(logging.DEBUG)
    ours.propagate = False
    for name in LIBRARY_LOGGERS:
        library = logging.getLogger(name)
        library.addHandler(handler)
        library.setLevel(logging.DEBUG if debug else logging.WARNING)
        library.propagate = False
