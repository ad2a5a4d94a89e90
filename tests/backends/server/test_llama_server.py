"""The server backend against a real llama-server serving SmolLM2 with four slots:
streaming with usage and the engine's timings, exact token counts, the prompt
cache reused, four streams at once, cancel, the server killed mid-stream, and a
server that starts after the app."""

from __future__ import annotations

import threading
import time
from dataclasses import replace

import pytest

from assistant.backends.server.backend import ServerBackend
from assistant.core.config import Config, ServerConfig
from assistant.core.conversation import Message
from assistant.core.events import BackendError, TextDelta, Timings, TurnDone, Usage
from tests.backends.server.conftest import SLOTS, LlamaServer
from tests.patience import PATIENCE

pytestmark = pytest.mark.model

QUESTION = [Message("system", "You are concise."), Message("user", "Name three prime numbers.")]


def backend(server: LlamaServer, **settings: object) -> ServerBackend:
    b = ServerBackend("gpu", replace(ServerConfig(base_url=server.base_url, temperature=0.0, max_tokens=16), **settings))
    b.load()
    return b


def run(b: ServerBackend, messages=QUESTION, cancel: threading.Event | None = None) -> list:
    return list(b.stream(messages, cancel or threading.Event()))


def test_a_stream_carries_the_server_s_usage_and_its_own_timings(llama_server: LlamaServer) -> None:
    b = backend(llama_server)
    assert b.capabilities.max_concurrency == SLOTS and b.capabilities.context_size == 1024  # per slot
    assert b.model_name == "SmolLM2-135M-Instruct.Q4_1.gguf" and b.capabilities.tokenizer == "server"
    events = run(b)
    deltas = [e for e in events if isinstance(e, TextDelta)]
    [usage] = [e for e in events if isinstance(e, Usage)]
    [timings] = [e for e in events if isinstance(e, Timings)]
    assert deltas and isinstance(events[-1], TurnDone)
    assert not usage.estimated and usage.prompt_tokens > 0 and usage.completion_tokens == timings.generated_tokens
    assert 0 < len(deltas) <= usage.completion_tokens <= 16
    assert timings.generation_seconds > 0 and timings.prompt_eval_tokens == usage.prompt_tokens_evaluated


def test_token_counts_are_the_server_s_own_and_exact(llama_server: LlamaServer) -> None:
    b = backend(llama_server)
    counted = b.count_tokens(QUESTION)
    [usage] = [e for e in run(b) if isinstance(e, Usage)]
    assert not counted.estimated and counted.tokens == usage.prompt_tokens


def test_a_follow_up_reuses_the_prompt_cache(llama_server: LlamaServer) -> None:
    b = backend(llama_server, max_tokens=8)
    first = "".join(e.text for e in run(b) if isinstance(e, TextDelta))
    follow_up = [*QUESTION, Message("assistant", first), Message("user", "And two more?")]
    [usage] = [e for e in run(b, follow_up) if isinstance(e, Usage)]
    assert usage.cache_read_tokens > 0 and usage.prompt_tokens_evaluated < usage.prompt_tokens


def test_four_streams_run_at_once_on_four_slots(llama_server: LlamaServer) -> None:
    b = backend(llama_server, max_tokens=48)
    spans: list[tuple[float, float]] = []

    def one(i: int) -> None:
        first = None
        for event in b.stream([Message("user", f"Count from {i} to {i + 40}.")], threading.Event()):
            if isinstance(event, TextDelta) and first is None:
                first = time.monotonic()
        spans.append((first or 0.0, time.monotonic()))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(SLOTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(PATIENCE)
    assert len(spans) == SLOTS
    assert max(start for start, _ in spans) < min(end for _, end in spans)  # all four generated together


def test_cancel_closes_the_stream_before_the_next_token(llama_server: LlamaServer) -> None:
    b = backend(llama_server, max_tokens=512)
    cancel = threading.Event()
    events = []
    for event in b.stream([Message("user", "Tell me a long story about a lighthouse.")], cancel):
        events.append(event)
        if isinstance(event, TextDelta) and not cancel.is_set():
            cancel.set()  # on the first token: the stream must end before a second one
    assert isinstance(events[-1], TurnDone) and events[-1].stop_reason == "cancelled"
    [usage] = [e for e in events if isinstance(e, Usage)]
    assert len([e for e in events if isinstance(e, TextDelta)]) == 1 and usage.completion_tokens == 1
    assert isinstance(run(backend(llama_server))[-1], TurnDone)  # the server serves on


def test_a_server_killed_mid_stream_leaves_an_interrupted_answer(start_server) -> None:  # noqa: ANN001
    server = start_server()
    server.wait_ready()
    b = backend(server, max_tokens=512)
    events = []
    for event in b.stream([Message("user", "Tell me a long story about a lighthouse.")], threading.Event()):
        events.append(event)
        if isinstance(event, TextDelta) and len(events) == 3:
            server.kill()  # SIGKILL
    error = events[-1]
    assert isinstance(error, BackendError) and error.message.startswith("Interrupted after ")
    assert error.kind in ("network", "server", "generation") and "\n" not in error.message
    assert any(isinstance(e, TextDelta) for e in events)


def test_a_server_started_after_the_app_is_unavailable_then_ready(start_server) -> None:  # noqa: ANN001
    from assistant.backends.scripted import ScriptedBackend
    from assistant.core.backends.protocol import BackendUnavailable
    from assistant.core.session.chat import ChatSession
    from tests.backends.server.conftest import free_port

    port = free_port()
    config = Config().with_overrides({"servers.gpu.base_url": f"http://127.0.0.1:{port}/v1",
                                      "servers.gpu.max_tokens": 8, "servers.gpu.connect_timeout": 1.0,
                                      "general.backend": "auto"})  # fmt: skip
    later = ServerBackend.from_config(config, "gpu")
    with pytest.raises(BackendUnavailable, match="cannot reach gpu"):
        later.load()
    server = start_server(port)
    server.wait_ready()
    session = ChatSession(config, backends={"gpu": later, "local": ScriptedBackend(name="local")}, installed=False)
    result = session.run_turn("@gpu Name one prime number.", threading.Event())
    assert result.outcome == "ok" and result.backend == "gpu" and result.text
    assert result.cost == 0.0  # a server at $0/hour costs nothing, however long it runs
    assert result.usage is not None and result.usage.prompt_tokens_evaluated is not None


SLOT_WINDOW = ("gpu takes 1,016 tokens, its context of 1,024 (gpu's n_ctx per slot (llama-server's -c over its "
               "--parallel slots), from /props) less 8 kept for the answer ([servers.gpu] max_tokens)")  # fmt: skip


def test_the_window_is_a_slot_s_context_from_props_less_the_answer(start_server) -> None:  # noqa: ANN001
    """The window follows what llama-server says of itself, also when it came up after
    the session first fitted a turn to it (the 4,096-token default then). A question
    over a slot's context is not sent to it, and the route says why: where that
    context comes from, and the setting that keeps room for the answer."""
    from assistant.backends.scripted import ScriptedBackend
    from assistant.core.session.chat import ChatSession
    from tests.backends.server.conftest import free_port

    port = free_port()
    config = Config().with_overrides({"servers.gpu.base_url": f"http://127.0.0.1:{port}/v1",
                                      "servers.gpu.max_tokens": 8, "servers.gpu.connect_timeout": 1.0,
                                      "servers.gpu.max_retries": 0, "general.backend": "auto"})  # fmt: skip
    gpu = ServerBackend.from_config(config, "gpu")
    session = ChatSession(config, backends={"gpu": gpu, "local": ScriptedBackend(name="local")}, installed=False)
    session.run_turn("@gpu Name one prime number.", threading.Event())  # cannot reach it
    assert session.window("gpu").budget == 4096 - 8  # nothing said yet: the default
    server = start_server(port)
    server.wait_ready()
    result = session.run_turn("@gpu Name one prime number.", threading.Event())
    assert result.outcome == "ok" and result.backend == "gpu"
    assert session.window("gpu").budget == 1024 - 8
    too_long = session.run_turn("@gpu " + "Name a prime number. " * 250, threading.Event())
    assert too_long.backend == "local"  # the one that could take it
    assert SLOT_WINDOW in too_long.decision.reason and "unpin" not in too_long.decision.reason
