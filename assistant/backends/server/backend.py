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
- its context size (`/props` `n_ctx`, a slot's), its slots (`/props` `total_slots`,
  the default `max_concurrency`), and exact token counts (`/apply-template`, then
  `/tokenize`);
- elsewhere the context comes from the model's `/v1/models` entry where it says
  (vLLM's `max_model_len`, `context_length`), else from `context_tokens`; counts
  are a tiktoken estimate (marked as such), and a stream that ends without usage
  is estimated.

Given tools, the request offers them the OpenAI way (`tools`), and the model's
calls come back as `ToolUse` events (reader.py, calls.py); a task's history of
calls and results goes out in the same API's shape (wire.py), and counts, exact
or estimated, include both. A server that cannot take tools (llama-server without
`--jinja`) is one line saying so. Where the model cannot call tools natively (a chat
template without a tool-call format: `/props` says so), `tool_format` "schema"
describes them in the system message instead and holds the reply to one JSON schema
(schema_tools.py); "auto", the default, chooses at load.

Each request carries the table's answer settings (`max_tokens`, `temperature`,
`stop`; the command line's `--max-tokens` and `--temperature` set them on every
server). Every request asks llama-server to keep the prompt in its cache (`cache_prompt`),
and the sliding window keeps its prefix stable, so a follow-up re-evaluates only
what is new. Failures follow Claude's policy: retried only before the first
text (503 while the model loads, 429, 5xx, a refused connection, a stall), then
the partial answer stands, marked interrupted; always one line.

Nothing the server says is believed unchecked: its model list and `/props` are
read as untrusted JSON (a body that is not, or a figure out of bounds, leaves the
defaults), its chunks through `reader.TurnReader`; a 200 answer that is not an
event stream is an error, not an empty answer.
"""

from __future__ import annotations

import functools
import logging
import os
import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any

import openai

from assistant.backends.retry import RetryBudget, retried_stream
from assistant.backends.server.errors import UnreadableAnswer, classify
from assistant.backends.server.reader import TurnReader, field, shown_model
from assistant.backends.server.schema_tools import ToolFormat, chosen_format, response_format, schema_messages
from assistant.backends.server.wire import message_text, tools_text, wire_messages, wire_tools
from assistant.backends.stream_attempt import StreamAttempt
from assistant.backends.tool_json import message_text as schema_message_text
from assistant.core.accounting.pricing import price_table
from assistant.core.backends.protocol import BackendUnavailable, Capabilities, LoadProgress, TokenCount, load_failure
from assistant.core.backends.reported import believed, figure, model_name
from assistant.core.config import MAX_SERVER_SLOTS, Config, ServerConfig
from assistant.core.conversation import Message
from assistant.core.events import StreamEvent
from assistant.core.options import TOKENS_MAX
from assistant.core.paths import Paths
from assistant.core.text import shown
from assistant.core.tool_calls import ToolSpec
from assistant.core.window.offline_tokens import CALIBRATION_FILE, MESSAGE_OVERHEAD, TiktokenCounter, TokenCalibration

log = logging.getLogger(__name__)

DEFAULT_CONTEXT = 4096  # when neither the server nor `context_tokens` says
# Where a model's `/v1/models` entry gives its context, in the order believed: llama-server's
# slot context and trained context (under `meta`), vLLM's `max_model_len`, OpenRouter's
# and LM Studio's `context_length`.
ENTRY_CONTEXT = (("meta", "n_ctx"), ("meta", "n_ctx_train"), ("max_model_len",), ("context_length",))
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
        setting = f"[servers.{name}] context_tokens"
        said = setting if settings.context_tokens else f"assumed: {name} has not said; {setting} sets it"
        self._context_source = said
        self._slots = settings.max_concurrency or 1
        # llama-server (it answers /props): it applies its chat template and tokenizes on
        # request, and takes `cache_prompt`; other engines are sent only the standard API.
        self._llama_server = False
        # "auto" is native until the server's /props says otherwise (at load).
        self._tool_format: ToolFormat = "schema" if settings.tool_format == "schema" else "native"
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
            window_tokens=self.settings.window_tokens or None,
            answer_tokens=self.settings.max_tokens,
            context_source=self._context_source,
            settings_table=f"[servers.{self.name}]",
            private=self.settings.private,
            machine_per_hour=None if self._per_token else self.settings.cost_per_hour,
            tool_calls=True,
        )

    @property
    def tool_format(self) -> ToolFormat:
        """How tools are offered: as set, or as "auto" chose at load."""
        return self._tool_format

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
            client: openai.OpenAI | None = None
            try:
                client = openai.OpenAI(base_url=s.base_url, api_key=key, max_retries=0, timeout=timeout)
                models = self._models(client)
            except Exception as exc:  # noqa: BLE001 - whatever the server (or its URL) did: one line
                if client is not None:
                    client.close()
                failure = classify(exc, self.name, s.base_url)
                self.load_error = failure.message
                if isinstance(exc, openai.APITimeoutError):
                    self._unreachable_until = time.monotonic() + UNREACHABLE_BACKOFF_SECONDS
                raise BackendUnavailable(failure.message, kind="load" if failure.kind == "overloaded" else "unavailable") from None
            if not self._model:
                if not models:
                    client.close()
                    raise BackendUnavailable(f"{self.name} lists no model; set [servers.{self.name}] model")
                self._model = next(iter(models))
            self._learn_props(client, models.get(self._model, {}))
            self._client = client
            self.load_error = None

    def _models(self, client: openai.OpenAI) -> dict[str, dict[str, Any]]:
        """The models the server lists, by id (each its entry, as sent); an entry
        without a plausible id is left out."""
        body = client.get("/models", cast_to=object)  # untyped: the SDK's types would coerce (true -> 1)
        listed = field(body, "data")
        if not isinstance(listed, list):
            raise UnreadableAnswer(f"listed its models as {shown(body)}, not as a list")
        found: dict[str, dict[str, Any]] = {}
        for entry in listed:
            model_id = model_name(field(entry, "id"), "")
            if model_id:
                found.setdefault(model_id, entry)
        return found

    def _learn_props(self, client: openai.OpenAI, entry: dict[str, Any]) -> None:
        """What llama-server says of itself (`/props`), else what the model's entry in
        `/v1/models` says of its context. `/props` is optional: a body that is not a
        JSON object, or a figure out of bounds, leaves the defaults (and the log says so)."""
        props: dict[str, Any] = {}
        try:
            found = client.get(f"{self._root}/props", cast_to=object)
        except openai.APIStatusError:  # not llama-server
            found = {}
        except Exception as exc:  # noqa: BLE001 - an optional probe: unreadable is as good as absent
            said = classify(exc, self.name, f"{self._root}/props").message
            log.warning("%s: /props unreadable (%s); using the defaults", self.name, said)
            found = {}
        if isinstance(found, dict):
            props = found
        else:
            believed(found, None, f"{self.name}: /props")
        settings = props.get("default_generation_settings")
        if not isinstance(settings, dict):
            settings = believed(settings, None, f"{self.name}: /props default_generation_settings") or {}
        n_ctx = self._props_figure(settings.get("n_ctx"), "n_ctx", TOKENS_MAX)
        said = f"{self.name}'s n_ctx per slot (llama-server's -c over its --parallel slots), from /props"
        if not n_ctx:
            n_ctx, said = self._entry_context(entry)
        if not self.settings.context_tokens and n_ctx:
            self._context, self._context_source = n_ctx, said
        slots = self._props_figure(props.get("total_slots"), "total_slots", MAX_SERVER_SLOTS)
        if not self.settings.max_concurrency and slots:
            self._slots = slots
        self._llama_server = "default_generation_settings" in props or "total_slots" in props
        self._tool_format = chosen_format(self.settings.tool_format, props.get("chat_template_caps"), self.name)

    def _entry_context(self, entry: dict[str, Any]) -> tuple[int | None, str]:
        """The context the model's `/v1/models` entry gives, and where it says so."""
        for path in ENTRY_CONTEXT:
            value: Any = entry
            for key in path:
                value = field(value, key)
            where = f"/v1/models {'.'.join(path)}"
            if tokens := believed(value, figure(value, TOKENS_MAX) or None, f"{self.name}: {where}"):
                return tokens, f"{self.name}'s {where}"
        return None, ""

    def _props_figure(self, value: Any, name: str, limit: int) -> int | None:  # noqa: ANN401 - the server's JSON
        """A positive count from `/props`, or None (said in the log when one was sent)."""
        checked = figure(value, limit)
        return believed(value, checked if checked else None, f"{self.name}: /props {name}")

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
            self._client = None

    # -- tokens --------------------------------------------------------------------------

    def count_tokens(self, messages: Sequence[Message], *, tools: Sequence[ToolSpec] = ()) -> TokenCount:
        """Exact where the server tokenizes its own chat template (llama-server), else
        a tiktoken estimate; `tools`, the tools the turn will offer, count too."""
        client = self._client
        if client is not None and self._llama_server:
            try:
                return TokenCount(self._server_count(client, messages, tools))
            except Exception as exc:  # noqa: BLE001 - the server's answer, whatever it was: estimate instead
                log.info("%s: cannot count tokens on the server (%s): estimating", self.name,
                         classify(exc, self.name, self.settings.base_url).message)  # fmt: skip
        return self.calibration.estimate(self.model_name, self._raw(messages, tools))

    def _server_count(self, client: openai.OpenAI, messages: Sequence[Message], tools: Sequence[ToolSpec]) -> int:
        body: dict[str, Any] = {"messages": self._messages(messages, tools)}
        if tools and self._tool_format == "native":
            body["tools"] = wire_tools(tools)
        applied = client.post(f"{self._root}/apply-template", body=body, cast_to=object)
        prompt = field(applied, "prompt")
        if not isinstance(prompt, str):
            raise ValueError(f"/apply-template sent {shown(applied)}, no prompt")
        tokens = client.post(f"{self._root}/tokenize", cast_to=object,
                             body={"content": prompt, "add_special": True, "parse_special": True})  # fmt: skip
        ids = field(tokens, "tokens")
        if not isinstance(ids, list) or figure(len(ids), TOKENS_MAX) is None:
            raise ValueError(f"/tokenize sent {shown(tokens)}, no tokens")
        return len(ids)

    def _raw(self, messages: Sequence[Message], tools: Sequence[ToolSpec] = ()) -> int:
        """tiktoken's count of `messages` and `tools`, before calibration: what is sent."""
        count = self.counter.count_text
        if self._tool_format == "schema":  # the tools are in the system message's text
            return sum(count(m["content"]) + MESSAGE_OVERHEAD for m in schema_messages(messages, tools))
        offered = count(tools_text(tools)) if tools else 0
        return offered + sum(count(message_text(m)) + MESSAGE_OVERHEAD for m in messages)

    def sent_text(self, message: Message) -> str:
        """What of a message the model reads as text, as this server is sent it."""
        return schema_message_text(message) if self._tool_format == "schema" else message_text(message)

    def _messages(self, messages: Sequence[Message], tools: Sequence[ToolSpec]) -> list[dict[str, Any]]:
        """The request's messages: the API's shape, or in the schema format text (the
        tools described in the system message)."""
        if self._tool_format == "schema":
            return schema_messages(messages, tools)  # type: ignore[return-value]
        return wire_messages(messages)

    def window_counter(self) -> ServerCounter:
        return ServerCounter(self)

    # -- a turn -------------------------------------------------------------------------

    def stream(
        self, messages: Sequence[Message], cancel: threading.Event, *, tools: Sequence[ToolSpec] = ()
    ) -> Iterator[StreamEvent]:
        if (failure := load_failure(self)) is not None:
            yield failure
            return
        client = self._client
        assert client is not None
        s = self.settings
        schema = bool(tools) and self._tool_format == "schema"
        request: dict[str, Any] = {
            "model": self._model,
            "messages": self._messages(messages, tools),
            "max_tokens": s.max_tokens,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        if self._llama_server:
            request["cache_prompt"] = s.prompt_caching
        if s.temperature >= 0:
            request["temperature"] = s.temperature
        if s.stop:
            request["stop"] = list(s.stop)
        if schema:
            request["response_format"] = response_format(tools)
        elif tools:
            request["tools"] = wire_tools(tools)
        raw_count = functools.cache(lambda: self._raw(messages, tools))  # tiktoken's count, made only when needed

        def new_reader() -> TurnReader:
            return TurnReader(self.name, self.model_name, s.max_answer_seconds,
                              lambda: self.calibration.estimate(self.model_name, raw_count()).tokens,
                              schema=schema)  # fmt: skip

        done = yield from retried_stream(
            new_reader,
            lambda: StreamAttempt(lambda: self._open_stream(client, request), f"{self.name}-stream"),
            lambda exc: classify(exc, self.name, s.base_url, tools=bool(tools) and not schema, schema=schema),
            RetryBudget(s.max_retries, s.retry_max_seconds),
            cancel,
            self.name,
        )
        prompt = done.reported.get("prompt_tokens") if isinstance(done, TurnReader) else None
        if not self._llama_server and prompt:  # it cannot count: learn its ratio
            self.calibration.learn(self.model_name, prompt, raw_count())

    def _open_stream(self, client: openai.OpenAI, request: dict[str, Any]) -> Any:  # noqa: ANN401 - the SDK's Stream
        """The chat request's stream, once its answer is known to be one: a 200 with a
        web page or a JSON body would otherwise read as an empty answer. Its chunks
        come untyped (dicts, as sent): the SDK's types would coerce what they cannot
        hold (a usage of `true` as 1), and the reader checks every field itself."""
        stream = client.post("/chat/completions", body=request, cast_to=object, stream=True,
                             stream_cls=openai.Stream[object])  # fmt: skip
        content_type = str(stream.response.headers.get("content-type", ""))
        if not content_type.lower().startswith("text/event-stream"):
            stream.close()
            said = shown(content_type) if content_type else "no content type"
            raise UnreadableAnswer(f"answered with {said}, not an event stream")
        return stream


class ServerCounter:
    """The sliding window's counter for a server: per message, tiktoken (no round
    trip); a whole prompt, the server's own count where it has one."""

    exact_is_cheap = False

    def __init__(self, backend: ServerBackend) -> None:
        self.backend = backend

    def message_tokens(self, message: Message) -> int:
        raw = self.backend.counter.count_text(self.backend.sent_text(message)) + MESSAGE_OVERHEAD
        return self.backend.calibration.estimate(self.backend.model_name, raw).tokens

    def prompt_tokens(self, messages: Sequence[Message]) -> TokenCount:
        return self.backend.count_tokens(messages)
