"""An exclusive advisory lock on a file, held longer than one write: the one way two
assistants take turns on what they share (an edit's commit, a project's checkpoints)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no advisory locks
    fcntl = None  # type: ignore[assignment]

POLL_S = 0.05


@contextmanager
def locked_file(path: Path, wait_s: float) -> Iterator[bool]:
    """Lock the file `path` (created if missing, 0o600), waiting at most `wait_s`;
    yields whether it is held. OSError when the file cannot be opened."""
    if fcntl is None:  # pragma: no cover
        yield True
        return
    flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    with flocked(os.open(path, flags, 0o600), wait_s) as held:
        yield held


@contextmanager
def flocked(fd: int, wait_s: float) -> Iterator[bool]:
    """flock the open `fd` exclusively (released when the process dies), polling until
    `wait_s` has passed; yields whether it is held, and closes `fd` after."""
    try:
        if fcntl is None:  # pragma: no cover
            yield True
            return
        deadline = time.monotonic() + wait_s
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    yield False
                    return
                time.sleep(POLL_S)
        yield True
    finally:
        os.close(fd)
