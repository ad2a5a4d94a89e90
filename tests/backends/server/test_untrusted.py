"""What a server says is checked before it is believed (issue 24, items 4, 5, 6, 16):
usage and timings out of bounds are dropped with a line in the log and the app's
own count stands; `/props` that is not JSON, or holds absurd figures, leaves the
defaults; a stream that ends without its finish_reason, or a 200 that is no stream,
is not a finished answer; an answer that drips on past `max_answer_seconds` is cut off."""

from __future__ import annotations

import json
import logging
import threading

import pytest

from assistant.backends.server.backend import DEFAULT_CONTEXT, ServerBackend
from assistant.core.backends.budget import window_budget
from assistant.core.config import ServerConfig
from assistant.core.events import BackendError, Notice, Retrying, TextDelta, Timings, TurnDone, Usage
from tests.backends.server.stub import Reply, StubServer
from tests.backends.server.test_faults import ASK, text
from tests.patience import FOREVER

GOOD_TIMINGS = {"prompt_n": 8, "cache_n": 4, "prompt_ms": 20.0, "predicted_n": 3, "predicted_ms": 30.0}


def loaded(stub: StubServer, **settings: object) -> ServerBackend:
    b = ServerBackend("gpu", ServerConfig(base_url=stub.base_url, **{"max_retries": 0, **settings}))
    b.load()
    return b


def run(stub: StubServer, **settings: object) -> tuple[list, ServerBackend]:
    b = loaded(stub, **settings)
    try:
        return list(b.stream(ASK, threading.Event())), b
    finally:
        b.close()


def the(kind: type, events: list):  # noqa: ANN201 - the one event of that type
    [found] = [e for e in events if isinstance(e, kind)]
    return found


class Said(logging.Handler):
    """The app's log records (its logger does not propagate to pytest's caplog once
    a command has set the log file up in this process)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())

    def text(self) -> str:
        return "\n".join(self.lines)

    def not_believed(self) -> str:
        return "\n".join(line for line in self.lines if "not believable" in line)


@pytest.fixture
def log():  # noqa: ANN201 - the records the app logs during the test
    said, logger = Said(), logging.getLogger("assistant")
    level = logger.level
    logger.addHandler(said)
    logger.setLevel(logging.DEBUG)
    yield said
    logger.removeHandler(said)
    logger.setLevel(level)


# -- item 4: usage and timings -------------------------------------------------------


@pytest.mark.parametrize("bad", [-100, True, 10**12, 12.0, "12", [12], {"n": 12}])
def test_a_usage_figure_out_of_bounds_is_dropped_said_and_counted_by_the_app(bad: object, log: Said) -> None:
    usage_body = {"prompt_tokens": bad, "completion_tokens": bad, "total_tokens": bad}
    with StubServer([Reply(usage_body=usage_body)]) as stub:
        events, b = run(stub)
    usage = the(Usage, events)
    estimate = b.calibration.estimate(b.model_name, b._raw(ASK)).tokens  # the app's own count of the prompt
    assert usage.prompt_tokens == estimate and type(usage.prompt_tokens) is int and usage.prompt_tokens > 0
    assert usage.completion_tokens == 3 and usage.estimated  # the chunks it counted
    assert "gpu: usage.prompt_tokens" in log.not_believed() and "gpu: usage.completion_tokens" in log.not_believed()
    assert isinstance(events[-1], TurnDone)
    said = the(Notice, events).text  # the user hears it in the turn, not only in the log
    assert said.startswith("gpu sent figures that are not believable") and "usage.prompt_tokens" in said


@pytest.mark.parametrize(
    ("bad", "said", "timed"),
    [
        ({"cache_n": -100}, "timings.cache_n", True),
        ({"cache_n": True}, "timings.cache_n", True),
        ({"cache_n": 500}, "timings.cache_n over the prompt", True),  # more cached than the 12-token prompt holds
        ({"predicted_n": -3}, "timings.predicted_n", False),
        ({"prompt_ms": float("nan")}, "timings.prompt_ms", False),
        ({"predicted_ms": float("inf")}, "timings.predicted_ms", False),
        ({"predicted_ms": -30.0}, "timings.predicted_ms", False),
        ({"predicted_n": 10**7, "predicted_ms": 0.001}, "tokens in", False),  # ten billion tokens a second
    ],
)
def test_a_timing_out_of_bounds_is_dropped_and_said_and_the_others_kept(bad: dict, said: str, timed: bool,
                                                                        log: Said) -> None:  # fmt: skip
    with StubServer([Reply(timings={**GOOD_TIMINGS, **bad})]) as stub:
        events, _ = run(stub)
    usage = the(Usage, events)
    assert usage.prompt_tokens == 12 and usage.completion_tokens == 3 and not usage.estimated  # the usage chunk's
    assert usage.cache_read_tokens == (0 if "cache_n" in bad else 4) and usage.prompt_tokens_evaluated == 8
    timings = [e for e in events if isinstance(e, Timings)]
    # Without a believable count or time of its own, the engine has no rate: the app's stands.
    assert timings == ([Timings(0.02, 8, 0.03, 3)] if timed else [])
    assert said in log.not_believed()


# -- item 5: /props ------------------------------------------------------------------


@pytest.mark.parametrize(
    "props",
    [
        b"<html>not json</html>",
        b"{\"default_generation_settings\": ",
        b"[1, 2, 3]",
        b"\"a string\"",
        json.dumps({"default_generation_settings": {"n_ctx": True}, "total_slots": True}).encode(),
        json.dumps({"default_generation_settings": {"n_ctx": -4096}, "total_slots": -4}).encode(),
        json.dumps({"default_generation_settings": {"n_ctx": 10**12}, "total_slots": 10**9}).encode(),
        json.dumps({"default_generation_settings": {"n_ctx": 4096.5}, "total_slots": "4"}).encode(),
        json.dumps({"default_generation_settings": "big", "total_slots": None}).encode(),
    ],
)
def test_props_that_are_not_json_or_not_believable_leave_the_defaults(props: bytes, log: Said) -> None:
    with StubServer([Reply()]) as stub:
        stub.props = props
        events, b = run(stub)
        assert b.capabilities.context_size == DEFAULT_CONTEXT and b.capabilities.max_concurrency == 1
        assert text(events) == "Two three five" and isinstance(events[-1], TurnDone)
        assert "gpu: /props" in log.text()
        stub.props = json.dumps({"default_generation_settings": {"n_ctx": 8192}, "total_slots": 4}).encode()
        _, b = run(stub)  # once the server says something believable, it is believed
    assert b.capabilities.context_size == 8192 and b.capabilities.max_concurrency == 4


@pytest.mark.parametrize(
    "listing", [{"data": 5}, {"data": [{"id": 7}, {"id": "\x1b[31mred"}, {"id": "x" * 10_000}]}, "<html>", [1]]
)
def test_a_model_list_without_a_plausible_model_is_one_line(listing: object) -> None:
    from assistant.core.backends.protocol import BackendUnavailable

    with StubServer([Reply()]) as stub:
        stub.listing = listing
        b = ServerBackend("gpu", ServerConfig(base_url=stub.base_url))
        with pytest.raises(BackendUnavailable) as caught:
            b.load()
    said = str(caught.value)
    assert said.startswith("gpu ") and "\n" not in said and "\x1b" not in said and len(said) < 400


# -- item 6: a stream that is cut short, a reply that is no stream -----------------------


def test_a_stream_that_ends_without_its_finish_reason_is_interrupted() -> None:
    with StubServer([Reply(finish=False)]) as stub:
        events, _ = run(stub)
    assert text(events) == "Two three five"
    error = events[-1]
    assert isinstance(error, BackendError) and error.kind == "network" and not any(isinstance(e, TurnDone) for e in events)
    assert error.message.startswith("Interrupted after 3 tokens") and "ended the answer early" in error.message


def test_a_stream_cut_before_any_text_is_sent_again() -> None:
    with StubServer([Reply(words=(), finish=False), Reply()]) as stub:
        events, _ = run(stub, max_retries=1, retry_max_seconds=FOREVER)
    assert "ended the answer early" in the(Retrying, events).reason
    assert text(events) == "Two three five" and isinstance(events[-1], TurnDone) and len(stub.requests) == 2


@pytest.mark.parametrize(
    ("body", "content_type", "said"),
    [
        (b"<html><body>Sign in</body></html>", "text/html", "'text/html'"),
        (json.dumps({"id": "c1", "object": "chat.completion", "choices": [
            {"index": 0, "message": {"role": "assistant", "content": "Two"}, "finish_reason": "stop"}]}).encode(),
         "application/json", "'application/json'"),  # fmt: skip
    ],
)
def test_a_200_that_is_not_an_event_stream_is_an_error_not_an_empty_answer(body: bytes, content_type: str,
                                                                           said: str) -> None:  # fmt: skip
    with StubServer([Reply(body=body, content_type=content_type)]) as stub:
        events, _ = run(stub, max_retries=2)
    error = events[-1]
    assert isinstance(error, BackendError) and error.kind == "server" and not text(events)
    assert f"answered with {said}, not an event stream" in error.message and "base_url" in error.message
    assert len(stub.requests) == 1  # a misdirected URL is not asked again


# -- item 16: an answer that drips on ---------------------------------------------------------


def test_an_answer_that_drips_on_past_max_answer_seconds_is_cut_off() -> None:
    # A word every 50 ms for FOREVER: no silence reaches read_timeout, only the whole
    # answer's bound can end it, and it is told from "waited out" by what was sent.
    drip = 0.05
    words = tuple(f" w{i}" for i in range(int(FOREVER / drip)))
    with StubServer([Reply(words=words, drip=drip)]) as stub:
        events, _ = run(stub, max_answer_seconds=0.5, read_timeout=60.0)
        sent = stub.words_sent
    error = events[-1]
    assert isinstance(error, BackendError) and error.kind == "timeout" and "max_answer_seconds" in error.message
    assert error.message.startswith("Interrupted after ") and 0 < len(text(events)) and sent < len(words) / 2
    assert len(stub.requests) == 1


@pytest.mark.parametrize(
    ("entry", "context", "source"),
    [
        ({"max_model_len": 32_768}, 32_768, "gpu's /v1/models max_model_len"),  # vLLM
        ({"context_length": 65_536}, 65_536, "gpu's /v1/models context_length"),
        ({"meta": {"n_ctx_train": 8192}}, 8192, "gpu's /v1/models meta.n_ctx_train"),
        ({"max_model_len": True, "context_length": 10**12}, DEFAULT_CONTEXT, "assumed: gpu has not said; "
         "[servers.gpu] context_tokens sets it"),
    ],
)  # fmt: skip
def test_without_props_the_models_entry_gives_the_context(entry: dict, context: int, source: str) -> None:
    """An engine other than llama-server (no /props) that says its model's context in
    its model list: the window follows it; one that does not, or says nonsense, leaves
    the default, and a turn that does not fit says which setting to use."""
    with StubServer([Reply()]) as stub:
        stub.listing = {"object": "list", "data": [{"id": stub.model, "object": "model", **entry}]}
        b = loaded(stub)
        b.close()
    assert b.capabilities.context_size == context and b.capabilities.context_source == source
    assert window_budget(b).tokens == context - ServerConfig().max_tokens
