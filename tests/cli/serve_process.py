"""`assistant serve` started for real by a test: the URL it printed (with its token),
once that URL answers; the server is stopped when the block ends."""

from __future__ import annotations

import os
import queue
import re
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.backends.server.conftest import free_port
from tests.patience import PATIENCE, wait_until

PRINTED_URL = re.compile(r"open (http://\S+) in a browser")


def printed_url(serve: subprocess.Popen[str]) -> str:
    """The URL `serve` printed on stderr; stderr is drained from then on, so the server never blocks on it."""
    lines: queue.Queue[str] = queue.Queue()

    def drain() -> None:
        for line in serve.stderr:  # type: ignore[union-attr]
            lines.put(line)
        lines.put("")

    threading.Thread(target=drain, daemon=True).start()
    said = []
    while line := lines.get(timeout=PATIENCE):
        said.append(line)
        if found := PRINTED_URL.search(line):
            return found.group(1)
    raise AssertionError(f"assistant serve printed no URL: {''.join(said)!r}")


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as reply:
            return reply.status == 200
    except OSError:  # refused while it starts (HTTPError is one too)
        return False


@contextmanager
def serving(home: Path, *app_args: str) -> Iterator[str]:
    """`assistant serve` on a free loopback port, each app it starts run with `app_args`."""
    serve = subprocess.Popen(
        [sys.executable, "-m", "assistant", "serve", "--port", str(free_port()), "--", *app_args],
        env={**os.environ, "ASSISTANT_HOME": str(home)},
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )
    try:
        url = printed_url(serve)
        wait_until(lambda: answers(url), "assistant serve never answered its printed URL", poll=0.1)
        yield url
    finally:
        serve.terminate()
        serve.wait(timeout=PATIENCE)
