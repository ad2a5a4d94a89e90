"""What an inference server's failure means: its kind, one line, and whether it is
worth sending the request again (only before any text: see backend.py).

Every line names the server by a URL with its credentials masked, and whatever the
SDK's own message repeats of the URL is masked too: these lines are shown, logged
and stored in the ledger."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

import openai

from assistant.core.events import ErrorKind
from assistant.core.secrets import redact, redact_url


class StreamTruncated(Exception):
    """The body ended before the answer's finish_reason: the connection was cut."""


class UnreadableAnswer(Exception):
    """A 200 answer that is not what was asked for: a web page or a JSON body where an
    event stream was, a model list that is not one."""


class MalformedCall(Exception):
    """A tool call the server sent that cannot be one (see calls.py)."""


class AnswerTooLong(Exception):
    """The answer was still streaming after `max_answer_seconds`."""

    def __init__(self, limit: float) -> None:
        super().__init__(f"{limit:g} s")
        self.limit = limit


@dataclass(frozen=True, slots=True)
class Failure:
    kind: ErrorKind
    message: str
    retryable: bool
    headers: Mapping[str, str] = field(default_factory=dict)


def _detail(exc: openai.APIStatusError) -> str:
    """The server's own words on an error, as one printable line (no terminal escapes)."""
    body = exc.body
    said = str(exc.message)
    if isinstance(body, dict):
        error = body.get("error", body)
        message = error.get("message") if isinstance(error, dict) else error
        if isinstance(message, str) and message.strip():
            said = message
    return "".join(c for c in " ".join(said.split()) if c.isprintable())[:200]


# What a server's refusal of the reply's JSON schema (`response_format`) names.
SCHEMA_WORDS = ("schema", "response_format", "grammar")


def classify(exc: BaseException, name: str, url: str, *, tools: bool = False, schema: bool = False) -> Failure:
    """`exc` (an openai SDK error, or any other) as a `Failure` naming the server,
    with no credential of its URL in it. `tools`: the request offered the model tools
    (the API's way); `schema`: it held the reply to the tools' JSON schema instead."""
    failure = _classify(exc, name, redact_url(url), tools, schema)
    return Failure(failure.kind, redact(failure.message), failure.retryable, failure.headers)


def _classify(exc: BaseException, name: str, url: str, tools: bool, schema: bool) -> Failure:
    if isinstance(exc, StreamTruncated):
        return Failure("network", f"{name} ({url}) ended the answer early: {exc}", True)
    if isinstance(exc, MalformedCall):
        return Failure("server", f"{name} ({url}) sent {exc}", False)
    if isinstance(exc, UnreadableAnswer):
        return Failure("server", f"{name} ({url}) {exc}; check [servers.{name}] base_url", False)
    if isinstance(exc, json.JSONDecodeError):
        return Failure("server", f"{name} ({url}) sent a body that is not JSON ({exc}); check [servers.{name}] base_url",
                       False)  # fmt: skip
    if isinstance(exc, AnswerTooLong):
        return Failure("timeout", f"{name} was still answering after {exc} ([servers.{name}] max_answer_seconds)",
                       False)  # fmt: skip
    if isinstance(exc, openai.APITimeoutError):
        return Failure("timeout", f"{name} ({url}) sent nothing within its read_timeout", True)
    if isinstance(exc, openai.APIConnectionError):
        cause = exc.__cause__ or exc.__context__
        why = " ".join(str(cause).split()) if cause is not None else "connection failed"
        return Failure("network", f"cannot reach {name} at {url}: {why[:160]}", True)
    if isinstance(exc, openai.APIStatusError):
        status, detail, headers = exc.status_code, _detail(exc), dict(exc.response.headers)
        if (refused := _tools_refused(name, status, detail, tools)) is not None:
            return refused
        if schema and 400 <= status < 500 and any(w in detail.lower() for w in SCHEMA_WORDS):
            return Failure("request", f"{name} refused the tools' JSON schema ({status}: {detail}); "
                           f'[servers.{name}] tool_format = "native" offers them the API\'s way', False)  # fmt: skip
        if status == 503:
            return Failure("overloaded", f"{name} is loading its model or busy (503: {detail})", True, headers)
        if status == 429:
            return Failure("rate_limit", f"{name} is rate-limiting (429: {detail})", True, headers)
        if status >= 500:
            return Failure("server", f"{name} failed ({status}: {detail})", True, headers)
        if status in (401, 403):
            return Failure("auth", f"{name} refused the key ({status}: {detail}); check [servers.{name}] api_key_env", False)
        if status == 404:
            return Failure("request", f"{name} has no such model or route (404: {detail}); check [servers.{name}] model",
                           False)  # fmt: skip
        if status in (400, 413) and "context" in detail.lower():
            return Failure("context", f"{name}: the prompt does not fit its context ({status}: {detail})", False)
        return Failure("request", f"{name} refused the request ({status}: {detail})", False)
    text = " ".join(str(exc).split()) or type(exc).__name__
    return Failure("generation", f"{name} failed: {type(exc).__name__}: {text[:160]}", False)


def _tools_refused(name: str, status: int, detail: str, tools: bool) -> Failure | None:
    """A server that cannot take tools: llama-server without --jinja says so, as a 500
    ("tools param requires --jinja flag"); other engines refuse them with a 400 that
    names them. Never retried: the same request fails the same way."""
    said = detail.lower()
    if "jinja" in said and (tools or "tool" in said):  # not its other --jinja advice (a custom template)
        return Failure("request", f"{name} cannot take tools ({status}: {detail}); start llama-server with --jinja",
                       False)  # fmt: skip
    if tools and status in (400, 422) and "tool" in said:
        return Failure("request", f"{name} refused the tools ({status}: {detail}); it may not take them (a "
                       "llama-server takes them when started with --jinja)", False)  # fmt: skip
    return None
