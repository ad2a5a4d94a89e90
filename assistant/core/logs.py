"""The log file, with secrets kept out of it.

Every record, exception text included, passes through `RedactingFormatter`,
which replaces the API keys in use and anything shaped like an Anthropic key.
The Anthropic SDK's and httpx's records go to the same file (warnings, or
everything with `general.debug_log`), redacted the same way, and never to the
terminal: the TUI owns it, and `ANTHROPIC_LOG=debug` would otherwise make the
SDK print records (tracebacks included) through the root logger onto it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

from assistant.core.paths import Paths

REDACTED = "[redacted]"
_KEY_SHAPE = re.compile(r"sk-ant-[A-Za-z0-9_\-]{8,}")
LIBRARY_LOGGERS = ("anthropic", "httpx2", "httpcore2", "httpx", "httpcore")


class RedactingFormatter(logging.Formatter):
    def __init__(self, fmt: str, secrets: Iterable[str | None] = ()) -> None:
        super().__init__(fmt)
        self.secrets = sorted({s for s in secrets if s and len(s) >= 8}, key=len, reverse=True)

    def format(self, record: logging.LogRecord) -> str:
        return self.redact(super().format(record))

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return _KEY_SHAPE.sub(REDACTED, text)


def setup_logging(paths: Paths, *, debug: bool = False, secrets: Iterable[str | None] = ()) -> None:
    try:
        paths.log_dir.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = logging.FileHandler(paths.log_file, encoding="utf-8")
    except OSError:
        handler = logging.NullHandler()  # an unwritable log dir must not stop the app
    handler.setFormatter(RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s", secrets))
    ours = logging.getLogger("assistant")
    ours.addHandler(handler)
    ours.setLevel(logging.DEBUG)
    ours.propagate = False
    for name in LIBRARY_LOGGERS:
        library = logging.getLogger(name)
        library.addHandler(handler)
        library.setLevel(logging.DEBUG if debug else logging.WARNING)
        library.propagate = False
