"""`ServerBackend`: a `[servers.NAME]` inference server as a backend named NAME.

It speaks the OpenAI chat-completions API through the `openai` SDK (streaming,
with `stream_options.include_usage`: without it llama-server sends no usage on a
stream), so llama-server, vLLM, Ollama and hosted APIs all work. What the engine
itself reports is used where it reports it:

- llama-server's `timings` on the last chunk (`prompt_n`, `cache_n`, `prompt_ms`,
  `predicted_n`, `predicted_ms`) become the turn's engine figures (`Timings`),
  recorded beside the client's own measurement; the prompt tokens it evaluated
  and those it took from its cache are the usage's `prompt_tokens_evaluated`
  and `cache_read_tokens`;
- its context size (`/props`), its slots (`/props` `total_slots`, the default
  `max_concurrency`), and exact token counts (`/apply-template`, then `/tokenize`);
- elsewhere the context comes from `context_tokens`, counts are a tiktoken
  estimate (marked as such), and a stream that ends without usage is estimated.

Every request asks llama-server to keep the prompt in its cache (`cache_prompt`),
and the sliding window keeps its prefix stable, so a follow-up re-evaluates only
what is new. Failures follow Claude's policy: retried only before the first
text (503 while the model loads, 429, 5xx, a refused connection, a stall), then
the partial answer stands, marked interrupted; always one line.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any

import openai

from assistant.backends.retry import RetryBudget, retried_stream
from assistant.backends.server.errors import classify
from assistant.backends.stream_attempt import Failed, Finished, StreamAttempt
from assistant.core.accounting.pricing import price_table
from assistant.core.backends.protocol import BackendUnavailable, Capabilities, LoadProgress, TokenCount, load_failure
from assistant.core.config import Config, ServerConfig
from assistant.core.conversation import Message
from assistant.core.events import StopReason, StreamEvent, TextDelta, Timings, TurnDone, Usage
from assistant.core.paths import Paths
from assistant.core.window.offline_tokens import CALIBRATION_FILE, MESSAGE_OVERHEAD, TiktokenCounter, TokenCalibration

log = logging.getLogger(__name__)

DEFAULT_CONTEXT = 4096  # when neither the server nor `context_tokens` says
# After a connection that timed out (a host that does not answer), routing does not
# try again for this long: each try would hold the turn for connect_timeout. A
# refused connection is tried again at once (it costs nothing: a server restarting).
UNREACHABLE_BACKOFF_SECONDS = 30.0


def _root(base_url: str) -> str:
    """The server's root (llama-server's own routes live there, not under /v1)."""
    url = base_url.rstrip("/")
    return url[: -len("/v1")] if url.endswith("/v1") else url


class ServerBackend:
    def __init__(
        self,
        name: str,
        settings: ServerConfig,
        *,
        per_token_priced: bool = False,
        calibration: TokenCalibration | None = None,
    ) -> None:
        self.name = name
        self.settings = settings
        self._per_token = per_token_priced  # its model is in the price table: per-token, not per hour
        self._client: openai.OpenAI | None = None
        self._root = _root(settings.base_url)
        self._model = settings.model
        self._context = settings.context_tokens or DEFAULT_CONTEXT
        self._slots = settings.max_concurrency or 1
        # llama-server (it answers /props): it applies its chat template and tokenizes on
        # request, and takes `cache_prompt`; other engines are sent only the standard API.
        self._llama_server = False
        self._lock = threading.Lock()
        self.counter = TiktokenCounter()
        # tiktoken's counts scaled to the server's model, learned from each turn's usage
        # (shared with Claude's, keyed by model), where the server cannot count.
        self.calibration = calibration or TokenCalibration(None)
        self.load_error: str | None = None
        self._unreachable_until = 0.0

    @classmethod
    def from_config(cls, config: Config, name: str) -> ServerBackend:
        settings = config.servers[name]
        priced = bool(settings.model) and price_table(config.prices).lookup(settings.model) is not None
        return cls(name, settings, per_token_priced=priced,
                   calibration=TokenCalibration(Paths.resolve().data_dir / CALIBRATION_FILE))  # fmt: skip

    # -- what it is ------------------------------------------------------------------

    @property
    def model_name(self) -> str:
        return shown_model(self._model) if self._model else "(the server's model)"

    @property
    def capabilities(self) -> Capabilities:
        return Capabilities(
            context_size=self._context,
            local=False,
            tokenizer="server" if self._llama_server else "tiktoken",
            max_concurrency=self._slots,
            private=self.settings.private,
            machine_per_hour=None if self._per_token else self.settings.cost_per_hour,
        )

    @property
    def loaded(self) -> bool:
        return self._client is not None

    # -- connecting --------------------------------------------------------------------

    def _key(self) -> str:
        env = self.settings.api_key_env
        if env and not os.environ.get(env):
            raise BackendUnavailable(f"{self.name}: the environment variable {env} (its API key) is not set",
                                     kind="unavailable")  # fmt: skip
        return os.environ.get(env, "") if env else "none"  # the SDK wants a key; llama-server takes any

    def load(self, progress: LoadProgress | None = None) -> None:
        """Connect: the model (the first listed, unless set), its context and slots.
        A server that cannot be reached, or is still loading, is unavailable for now."""
        with self._lock:
            if self._client is not None:
                return
            if time.monotonic() < self._unreachable_until and self.load_error:
                raise BackendUnavailable(self.load_error, kind="unavailable")
            key = self._key()
            s = self.settings
            timeout = openai.Timeout(s.read_timeout, connect=s.connect_timeout)
            client = openai.OpenAI(base_url=s.base_url, api_key=key, max_retries=0, timeout=timeout)
            try:
                models = client.models.list().data
            except openai.APIError as exc:
                client.close()
                failure = classify(exc, self.name, s.base_url)
                self.load_error = failure.message
                if isinstance(exc, openai.APITimeoutError):
                    self._unreachable_until = time.monotonic() + UNREACHABLE_BACKOFF_SECONDS
                raise BackendUnavailable(failure.message, kind="load" if failure.kind == "overloaded" else "unavailable") from None
            if not self._model:
                if not models:
                    raise BackendUnavailable(f"{self.name} lists no model; set [servers.{self.name}] model")
                self._model = models[0].id
            meta = next(((m.model_extra or {}).get("meta") for m in models if m.id == self._model), None)
            self._learn_props(client, meta if isinstance(meta, dict) else {})
            self._client = client
            self.load_error = None

    def _learn_props(self, client: openai.OpenAI, meta: dict[str, Any]) -> None:
        """What llama-server says of itself (`/props`); nothing from other engines."""
        props: dict[str, Any] = {}
        try:
            found = client.get(f"{self._root}/props", cast_to=object)
            props = found if isinstance(found, dict) else {}
        except openai.APIError:
            pass
        settings = props.get("default_generation_settings")
        n_ctx = settings.get("n_ctx") if isinstance(settings, dict) else None
        n_ctx = n_ctx or meta.get("n_ctx_train")
        if not self.settings.context_tokens and isinstance(n_ctx, int) and n_ctx > 0:
            self._context = n_ctx
        slots = props.get("total_slots")
        if not self.settings.max_concurrency and isinstance(slots, int) and slots > 0:
            self._slots = slots
        self._llama_server = "default_generation_settings" in props or "total_slots" in props

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
            self._client = None

    # -- tokens --------------------------------------------------------------------------

    def count_tokens(self, messages: Sequence[Message]) -> TokenCount:
        """Exact where the server tokenizes its own chat template (llama-server), else
        a tiktoken estimate."""
        client = self._client
        if client is not None and self._llama_server:
            try:
                prompt = client.post(f"{self._root}/apply-template", body={"messages": _wire(messages)}, cast_to=object)
                tokens = client.post(f"{self._root}/tokenize", cast_to=object,
                                     body={"content": prompt["prompt"], "add_special": True, "parse_special": True})  # type: ignore[index]  # fmt: skip
                return TokenCount(len(tokens["tokens"]))  # type: ignore[index]
            except (openai.APIError, KeyError, TypeError) as exc:
                log.info("%s: cannot count tokens on the server (%s): estimating", self.name, exc)
        return self.calibration.estimate(self.model_name, self._raw(messages))

    def _raw(self, messages: Sequence[Message]) -> int:
        """tiktoken's count of `messages`, before calibration."""
        return sum(self.counter.count_text(m.content) + MESSAGE_OVERHEAD for m in messages)

    def window_counter(self) -> ServerCounter:
        return ServerCounter(self)

    # -- a turn -------------------------------------------------------------------------

    def stream(self, messages: Sequence[Message], cancel: threading.Event) -> Iterator[StreamEvent]:
        if (failure := load_failure(self)) is not None:
            yield failure
            return
        client = self._client
        assert client is not None
        s = self.settings
        request: dict[str, Any] = {
            "model": self._model,
            "messages": _wire(messages),
            "max_tokens": s.max_tokens,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        if self._llama_server:
            request["extra_body"] = {"cache_prompt": s.prompt_caching}
        if s.temperature >= 0:
            request["temperature"] = s.temperature
        done = yield from retried_stream(
            lambda: _TurnReader(self.model_name),
            lambda: StreamAttempt(lambda: client.chat.completions.create(**request), f"{self.name}-stream"),
            lambda exc: classify(exc, self.name, s.base_url),
            RetryBudget(s.max_retries, s.retry_max_seconds),
            cancel,
            self.name,
        )
        prompt = getattr(done.reported, "prompt_tokens", None) if isinstance(done, _TurnReader) else None
        if not self._llama_server and isinstance(prompt, int) and prompt > 0:  # it cannot count: learn its ratio
            self.calibration.learn(self.model_name, prompt, self._raw(messages))


def shown_model(model_id: str) -> str:
    """A model's id as shown and recorded: a llama-server without `--alias` names its
    model by the file's path, and its file name is name enough."""
    return model_id.replace("\\", "/").rsplit("/", 1)[-1] if model_id.endswith(".gguf") else model_id


def _wire(messages: Sequence[Message]) -> list[dict[str, str]]:
    return [{"role": m.role, "content": m.content} for m in messages]


class _TurnReader:
    """One attempt's chunks as stream events, and how far it got."""

    def __init__(self, model: str) -> None:
        self.model = model
        self.tokens_out = 0  # text chunks seen (llama-server and vLLM send one token per chunk)
        self.text_seen = False
        self.reported: Any = None  # the server's usage chunk
        self.timings: dict[str, Any] = {}
        self.stop: StopReason = "end_turn"
        self.failure: BaseException | None = None

    def read(self, attempt: StreamAttempt, cancel: threading.Event) -> Iterator[StreamEvent]:
        while True:
            chunk = attempt.next(cancel)
            if chunk is None:  # cancelled: the stream is closed under the read
                if self.text_seen:
                    yield self.usage(estimated=True)
                yield TurnDone("cancelled")
                return
            if isinstance(chunk, Failed):
                self.failure = chunk.exc
                return
            if isinstance(chunk, Finished):
                yield self.usage(estimated=self.reported is None)
                if timings := self._timings():
                    yield timings
                yield TurnDone(self.stop)
                return
            yield from self._chunk(chunk)

    def _chunk(self, chunk: Any) -> Iterator[StreamEvent]:  # noqa: ANN401 - the SDK's ChatCompletionChunk
        if getattr(chunk, "usage", None) is not None:
            self.reported = chunk.usage
        extra = getattr(chunk, "model_extra", None) or {}
        if isinstance(extra.get("timings"), dict):
            self.timings = extra["timings"]
        if getattr(chunk, "model", None):
            self.model = shown_model(chunk.model)
        for choice in chunk.choices or ():
            text = getattr(choice.delta, "content", None) if choice.delta is not None else None
            if text:
                self.tokens_out += 1
                self.text_seen = True
                yield TextDelta(text, 1)
            if choice.finish_reason == "length":
                self.stop = "max_tokens"

    def usage(self, *, estimated: bool) -> Usage:
        r, t = self.reported, self.timings
        prompt = getattr(r, "prompt_tokens", None) if r is not None else None
        completion = getattr(r, "completion_tokens", None) if r is not None else None
        evaluated, cached = t.get("prompt_n"), t.get("cache_n")
        return Usage(
            prompt_tokens=prompt if isinstance(prompt, int) else 0,
            completion_tokens=completion if isinstance(completion, int) else self.tokens_out,
            prompt_tokens_evaluated=evaluated if isinstance(evaluated, int) else None,
            cache_read_tokens=cached if isinstance(cached, int) else 0,
            estimated=estimated or r is None,
            model=self.model,
        )

    def _timings(self) -> Timings | None:
        t = self.timings
        try:
            return Timings(float(t["prompt_ms"]) / 1000, int(t["prompt_n"]), float(t["predicted_ms"]) / 1000,
                           int(t["predicted_n"]))  # fmt: skip
        except (KeyError, TypeError, ValueError):
            return None


class ServerCounter:
    """The sliding window's counter for a server: per message, tiktoken (no round
    trip); a whole prompt, the server's own count where it has one."""

    exact_is_cheap = False

    def __init__(self, backend: ServerBackend) -> None:
        self.backend = backend

    def message_tokens(self, message: Message) -> int:
        raw = self.backend.counter.count_text(message.content) + MESSAGE_OVERHEAD
        return self.backend.calibration.estimate(self.backend.model_name, raw).tokens

    def prompt_tokens(self, messages: Sequence[Message]) -> TokenCount:
        return self.backend.count_tokens(messages)
