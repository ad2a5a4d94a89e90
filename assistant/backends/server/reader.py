"""One attempt's chat-completion chunks as stream events, nothing in them believed
unchecked.

Chunks arrive as the server's JSON, untyped (the SDK's own types would coerce
what they cannot hold), so a usage figure may be negative, a bool or 10^12, a
timing NaN, a model name a megabyte of escapes, a chunk not even an object. Figures pass through `core.backends.reported` (one out of
bounds is dropped, said in the log, and the app's own count stands); text is kept
only as valid Unicode. An answer is finished only by its `finish_reason`: a body
that ends before one was cut short (`StreamTruncated`), and an answer still
streaming after `max_answer_seconds` is cut off (`AnswerTooLong`), however slowly
its tokens drip in.

Given tools, the model's calls arrive as `delta.tool_calls` pieces (calls.py puts
them together); each is said as a `ToolUse` once the stream has ended, before the
final usage, and the turn ends `TurnDone("tool_use")`. A call's pieces are output
like text: counted, and never sent again after a failure. In the "schema" tool format
(schema_tools.py) the call is the reply's text, JSON: its answer is shown as it is
decoded, its call said the same way once the stream has ended.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from assistant.backends.server.calls import CallPieces, new_call_id
from assistant.backends.server.errors import AnswerTooLong, MalformedCall, StreamTruncated
from assistant.backends.server.schema_tools import SchemaReply
from assistant.backends.stream_attempt import Failed, Finished, StreamAttempt
from assistant.core.backends.reported import believable_rate, believed, figure, model_name, seconds
from assistant.core.options import SECONDS_MAX, TOKENS_MAX
from assistant.core.events import Notice, StopReason, StreamEvent, TextDelta, Timings, ToolUse, TurnDone, Usage
from assistant.core.text import clean_text, shown

USAGE_FIGURES = ("prompt_tokens", "completion_tokens")
TIMING_COUNTS = ("prompt_n", "cache_n", "predicted_n")
TIMING_MS = ("prompt_ms", "predicted_ms")
MAX_DOUBTED = 6  # figures named in a turn's notice


def field(obj: Any, name: str) -> Any:  # noqa: ANN401 - any JSON value
    """A JSON object's member; None when absent or when `obj` is no object."""
    return obj.get(name) if isinstance(obj, dict) else None


def shown_model(model_id: str) -> str:
    """A model's id as shown and recorded: a llama-server without `--alias` names its
    model by the file's path, and its file name is name enough."""
    return model_id.replace("\\", "/").rsplit("/", 1)[-1] if model_id.endswith(".gguf") else model_id


class _Deadline:
    """`cancel` as `StreamAttempt.next` polls it, also set once the answer's time is up,
    so a stream that drips a token now and then is cut off within one poll."""

    def __init__(self, cancel: threading.Event, seconds_left: float) -> None:
        self.cancel = cancel
        self.at = time.monotonic() + seconds_left

    def is_set(self) -> bool:
        return self.cancel.is_set() or self.passed()

    def passed(self) -> bool:
        return time.monotonic() >= self.at


class TurnReader:
    """One attempt's chunks as stream events, and how far it got."""

    def __init__(
        self, name: str, model: str, max_seconds: float, estimate: Callable[[], int], *, schema: bool = False
    ) -> None:
        """`estimate()`: the app's own count of the prompt, for a server that reports none;
        `schema`: the reply is held to the tools' JSON schema (schema_tools.py)."""
        self.name = name
        self.model = model
        self.max_seconds = max_seconds
        self.estimate = estimate
        self.tokens_out = 0  # text and call chunks seen (llama-server and vLLM send one token per chunk)
        self.text_seen = False
        self.finished = False  # a choice's finish_reason arrived
        self.reported: dict[str, int] = {}  # the usage chunk's believable figures
        self.timings: dict[str, float] = {}  # llama-server's believable `timings`
        self.stop: StopReason = "end_turn"
        self.calls = CallPieces()
        self.reply = SchemaReply() if schema else None
        self.failure: BaseException | None = None
        self.doubted: list[str] = []  # what the server sent that was not believed, said once per turn

    def read(self, attempt: StreamAttempt, cancel: threading.Event) -> Iterator[StreamEvent]:
        deadline = _Deadline(cancel, self.max_seconds)
        while True:
            chunk = attempt.next(deadline)  # type: ignore[arg-type]  # polled through is_set() alone
            if chunk is None and not cancel.is_set():  # the answer's time is up: the stream is closed under it
                self.failure = AnswerTooLong(self.max_seconds)
                return
            if chunk is None:  # cancelled: the stream is closed under the read
                if self.text_seen:
                    yield self.usage(estimated=True)
                yield from self.notice()
                yield TurnDone("cancelled")
                return
            if isinstance(chunk, Failed):
                self.failure = chunk.exc
                return
            if isinstance(chunk, Finished):
                if not self.finished:  # the body ended, the answer did not
                    self.failure = StreamTruncated("the stream ended without a finish_reason")
                    return
                try:
                    calls = self.calls.whole()
                except MalformedCall as exc:
                    self.failure = exc
                    return
                if self.reply is not None:
                    if tail := self.reply.flush():
                        yield TextDelta(clean_text(tail), 0)
                    if (call := self.reply.call(new_call_id())) is not None:
                        calls.append(call)
                yield from (ToolUse(call) for call in calls)
                if calls and self.stop == "end_turn":  # whatever finish_reason said ("stop", from some servers)
                    self.stop = "tool_use"
                yield self.usage(estimated=False)
                if timings := self._timings():
                    yield timings
                yield from self.notice()
                yield TurnDone(self.stop)
                return
            try:
                yield from self._chunk(chunk)
            except MalformedCall as exc:
                self.failure = exc
                return

    def notice(self) -> Iterator[Notice]:
        """One line on what the server sent that was not believed (the log has each)."""
        if self.doubted:
            named = ", ".join(dict.fromkeys(self.doubted[:MAX_DOUBTED]))
            more = " …" if len(self.doubted) > MAX_DOUBTED else ""
            yield Notice(f"{self.name} sent figures that are not believable, not used: {named}{more}")

    def _believed(self, value: Any, checked: Any, what: str) -> Any:  # noqa: ANN401 - whatever the check returns
        if checked is None and value is not None:
            self.doubted.append(what.removeprefix(f"{self.name}: "))
        return believed(value, checked, what)

    # -- a chunk -----------------------------------------------------------------------

    def _chunk(self, chunk: Any) -> Iterator[StreamEvent]:  # noqa: ANN401 - a chunk's JSON, any value
        if not isinstance(chunk, dict):
            self._believed(chunk, None, f"{self.name}: a chunk")
            return
        if (usage := chunk.get("usage")) is not None:
            self.reported = self._figures(usage, USAGE_FIGURES, "usage")
        if (timings := chunk.get("timings")) is not None:
            self.timings = self._timing_figures(timings)
        if (model := model_name(chunk.get("model"), "")) != "":
            self.model = shown_model(model)
        choices = chunk.get("choices")
        for choice in choices if isinstance(choices, list) else ():
            delta = field(choice, "delta")
            text = field(delta, "content") if delta is not None else None
            if isinstance(text, str) and text:
                self.tokens_out += 1
                self.text_seen = True
                yield TextDelta(clean_text(text if self.reply is None else self.reply.feed(text)), 1)
            if (pieces := field(delta, "tool_calls")) is not None:
                yield from self._call_pieces(pieces)
            reason = field(choice, "finish_reason")
            if isinstance(reason, str) and reason:
                self.finished = True
                if reason == "length":
                    self.stop = "max_tokens"

    def _call_pieces(self, pieces: Any) -> Iterator[StreamEvent]:  # noqa: ANN401 - the delta's JSON
        """A chunk's pieces of tool calls: output, said as an empty `TextDelta` so that
        the turn's rate counts them, and the calls kept until the stream ends."""
        if not isinstance(pieces, list):
            raise MalformedCall(f"tool calls as {shown(pieces)}, not a list")
        for piece in pieces:
            self.calls.add(piece)
        if pieces:
            self.tokens_out += 1
            self.text_seen = True
            yield TextDelta("", 1)

    def _figures(self, source: Any, names: tuple[str, ...], where: str) -> dict[str, int]:  # noqa: ANN401
        found = {}
        for name in names:
            value = field(source, name)
            if (checked := self._believed(value, figure(value, TOKENS_MAX), f"{self.name}: {where}.{name}")) is not None:
                found[name] = checked
        return found

    def _timing_figures(self, timings: Any) -> dict[str, float]:  # noqa: ANN401
        if not isinstance(timings, dict):
            self._believed(timings, None, f"{self.name}: timings")
            return {}
        found: dict[str, float] = dict(self._figures(timings, TIMING_COUNTS, "timings"))
        for name in TIMING_MS:
            value = timings.get(name)
            checked = self._believed(value, seconds(value, SECONDS_MAX * 1000), f"{self.name}: timings.{name}")
            if checked is not None:
                found[name] = checked
        for count, ms in (("prompt_n", "prompt_ms"), ("predicted_n", "predicted_ms")):
            if count in found and ms in found and not believable_rate(int(found[count]), found[ms] / 1000):
                self._believed(f"{found[count]:g} tokens in {found[ms]:g} ms", None, f"{self.name}: timings")
                del found[count], found[ms]
        return found

    # -- what the turn reports ---------------------------------------------------------

    def usage(self, *, estimated: bool) -> Usage:
        """The server's figures where it gave believable ones, else the app's own: the
        prompt's estimate, the text chunks counted. A cache or evaluated count larger
        than the whole prompt is not believed either."""
        r, t = self.reported, self.timings
        evaluated, cached = t.get("prompt_n"), t.get("cache_n")
        prompt = r.get("prompt_tokens")
        if prompt is None and evaluated is not None:  # llama-server's own split of the prompt
            prompt = min(int(evaluated + (cached or 0)), TOKENS_MAX)
        prompt = prompt if prompt is not None else self.estimate()
        evaluated = self._believed(evaluated, evaluated if evaluated is None or evaluated <= prompt else None,
                             f"{self.name}: timings.prompt_n over the prompt's {prompt} tokens")  # fmt: skip
        cached = self._believed(cached, cached if cached is None or cached <= prompt else None,
                          f"{self.name}: timings.cache_n over the prompt's {prompt} tokens")  # fmt: skip
        return Usage(
            prompt_tokens=prompt,
            completion_tokens=r.get("completion_tokens", self.tokens_out),
            prompt_tokens_evaluated=None if evaluated is None else int(evaluated),
            cache_read_tokens=0 if cached is None else int(cached),
            estimated=estimated or not all(name in r for name in USAGE_FIGURES),
            model=self.model,
        )

    def _timings(self) -> Timings | None:
        t = self.timings
        if not all(k in t for k in (*TIMING_MS, "prompt_n", "predicted_n")):
            return None
        return Timings(t["prompt_ms"] / 1000, int(t["prompt_n"]), t["predicted_ms"] / 1000, int(t["predicted_n"]))
