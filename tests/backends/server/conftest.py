"""A real llama-server (built by .ci/build-llama-tools from the llama.cpp source of the
pinned llama-cpp-python) serving the embedded SmolLM2 on a loopback port, four slots.

Where the binary is not built, the tests that need it are skipped with the reason;
under CI (CI set) a missing binary fails them instead: CI must run them."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest

from assistant.backends.llama.backend import embedded_model_path
from tests.patience import PATIENCE

T = TypeVar("T")

SLOTS = 4
CONTEXT = 4096  # over all slots: 1,024 tokens each


def tools_folder() -> Path | None:
    """The folder .ci/build-llama-tools fills, under the same cache key as it uses."""
    if found := os.environ.get("ASSISTANT_LLAMA_TOOLS"):
        return Path(found)
    which = shutil.which("llama-server")
    if which:
        return Path(which).parent
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "assistant-ci"
    found = sorted(cache.glob("llama-tools-*/llama-server"))
    return found[-1].parent if found else None


def llama_server_binary() -> Path:
    folder = tools_folder()
    binary = folder / "llama-server" if folder else None
    if binary is None or not binary.is_file():
        reason = "llama-server is not built here (.ci/build-llama-tools builds it)"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}: CI must run the server tests")
        pytest.skip(reason)
    return binary


def on_four_threads(count: int, work: Callable[[int], T]) -> tuple[list[T], float]:
    """`work(i)` for each i below `count`, spread over four threads as a server's four
    slots take requests; the results in order, and the seconds it all took."""
    results: list[T | None] = [None] * count

    def worker(first: int) -> None:
        for i in range(first, count, 4):
            results[i] = work(i)

    started = time.monotonic()
    threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(r is not None for r in results), "a worker failed: see its traceback above"
    return results, time.monotonic() - started  # type: ignore[return-value]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LlamaServer:
    def __init__(self, binary: Path, port: int, *extra: str, threads: int = 1) -> None:
        """`threads`: one by default, so the suite's other tests keep a core (the
        benches ask for more)."""
        model = embedded_model_path()
        assert model is not None, "the embedded SmolLM2 is part of the install"
        self.port = port
        self.base_url = f"http://127.0.0.1:{port}/v1"
        args = [str(binary), "-m", str(model), "--host", "127.0.0.1", "--port", str(port), "--parallel", str(SLOTS),
                "-c", str(CONTEXT), "-t", str(threads), "--no-webui", *extra]  # fmt: skip
        # Its log goes to a file, never a pipe: a pipe nobody drains fills after a few
        # hundred requests, and the server then blocks writing to it, mid-answer.
        self.log = tempfile.TemporaryFile()
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=self.log, start_new_session=True)

    def wait_ready(self, timeout: float = PATIENCE) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"llama-server exited: {self.log_tail()}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health", timeout=1) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.1)
        raise TimeoutError("llama-server did not become ready")

    def log_tail(self, size: int = 2000) -> str:
        self.log.seek(0, os.SEEK_END)
        self.log.seek(max(self.log.tell() - size, 0))
        return self.log.read().decode(errors="replace")

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=PATIENCE)
        self.log.close()


@pytest.fixture(scope="session")
def llama_server() -> Iterator[LlamaServer]:
    server = LlamaServer(llama_server_binary(), free_port())
    try:
        server.wait_ready()
        yield server
    finally:
        server.kill()


@pytest.fixture
def start_server():  # noqa: ANN201 - a factory of servers, each killed afterwards
    started: list[LlamaServer] = []

    def start(port: int | None = None, *extra: str) -> LlamaServer:
        server = LlamaServer(llama_server_binary(), port or free_port(), *extra)
        started.append(server)
        return server

    yield start
    for server in started:
        server.kill()

