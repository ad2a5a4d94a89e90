"""One streamed HTTP request read on a producer thread, so that a turn can be
cancelled within one poll whatever the network does (Claude and the inference
servers).

The SDKs' streams block in a socket read; the consumer waits on a queue instead,
looking at `cancel` every `POLL_SECONDS`, and `abort()` shuts the socket down
under the blocked read (httpx exposes it), so the producer thread ends too and
the connection is not left half-read in the pool.
"""

from __future__ import annotations

import queue
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

POLL_SECONDS = 0.05  # how often a waiting consumer looks at `cancel`
DRAIN_SECONDS = 1.0  # after the last event, for the body's terminating bytes


@dataclass(frozen=True, slots=True)
class Finished:
    """The producer read the whole HTTP body."""


@dataclass(frozen=True, slots=True)
class Failed:
    exc: BaseException


class StreamAttempt:
    """`open_stream()` (an SDK call returning an iterable stream with `.close()` and
    `.response`) and its events, read on a producer thread named `name`."""

    def __init__(self, open_stream: Callable[[], Iterable[Any]], name: str) -> None:
        self._open = open_stream
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._stream: Any = None
        self._aborted = threading.Event()
        self._thread = threading.Thread(target=self._produce, name=name, daemon=True)
        self._thread.start()

    def _produce(self) -> None:
        put = self._queue.put
        outcome: Finished | Failed = Finished()
        try:
            self._stream = self._open()
            if self._aborted.is_set():  # cancelled while connecting
                return
            for event in self._stream:
                if self._aborted.is_set():
                    return
                put(event)
        except BaseException as exc:  # everything reaches the consumer, which decides
            outcome = Failed(exc)
        finally:
            if self._stream is not None:
                try:
                    self._stream.close()  # before the outcome: the connection is back in the pool
                except Exception:  # already broken: nothing left to release
                    pass
            put(outcome)

    def next(self, cancel: threading.Event) -> Any:  # noqa: ANN401 - the SDK's event
        """The next event, `Finished`, `Failed`, or None once `cancel` is set."""
        get = self._queue.get
        while True:
            if cancel.is_set():
                self.abort()
                return None
            try:
                return get(timeout=POLL_SECONDS)
            except queue.Empty:
                continue

    def finish(self, timeout: float = DRAIN_SECONDS) -> None:
        """Wait for the producer to read the rest of a finished stream; abort it if it lingers."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                item = self._queue.get(timeout=left)
            except queue.Empty:
                break
            if isinstance(item, Finished | Failed):
                return
        self.abort()

    def abort(self) -> None:
        """Stop the producer: shut the socket down under a blocked read."""
        self._aborted.set()
        stream = self._stream
        if stream is None:
            return  # still connecting: the producer sees `_aborted` when it returns
        try:
            network = stream.response.extensions.get("network_stream")
            sock = network.get_extra_info("socket") if network is not None else None
            if sock is not None:
                sock.shutdown(socket.SHUT_RDWR)
        except Exception:  # already closed
            pass
