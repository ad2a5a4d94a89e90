"""What went wrong with a Claude request, in one line a person can act on.

Every failure the SDK or the network can raise becomes a `Failure`: its kind,
whether sending the request again can help, and the server's retry hints.
Messages never contain the API key: they are built from status codes, error
types and the API's own error message only. What the server sent is untrusted
text (any JSON type, a megabyte, control characters, lone surrogates): it is
shown only as `server_text`, one short printable line.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import anthropic

from assistant.backends.claude.events import MalformedEvent
from assistant.backends.claude.request import StreamTruncated
from assistant.core.events import ErrorKind
from assistant.core.text import clean_text

SWITCH = "switch with /model local"
DROPPED = "the connection dropped"
# A 429 (or 400/402/403) that is about money, not rate: retrying cannot help.
_SPEND = re.compile(r"usage limit|spend(ing)? limit|credit balance|billing|quota", re.I)
MAX_DETAIL = 300  # characters of the server's own words in a message
MAX_ERROR_TYPE = 60


def server_text(value: object, limit: int = MAX_DETAIL) -> str:
    """Text from the server as one printable line of at most `limit` characters
    ("" for a value that is not text)."""
    if not isinstance(value, str):
        return ""
    words = " ".join(clean_text(value).split())
    line = "".join(c for c in words if c.isprintable())
    return line if len(line) <= limit else line[: limit - 1] + "…"


@dataclass(frozen=True, slots=True)
class Failure:
    kind: ErrorKind
    retryable: bool
    message: str  # what happened and what to do
    headers: Mapping[str, str] = field(default_factory=dict)


def _status_failure(exc: anthropic.APIStatusError) -> Failure:
    error_type = server_text(exc.type, MAX_ERROR_TYPE)
    detail = server_text(exc.api_message).rstrip(".")
    headers = {k.lower(): v for k, v in exc.response.headers.items()}
    status = exc.status_code
    # An `error` event inside a stream arrives on a 200 response; its type says what it is.
    label = f"{status} {error_type}".strip() if status >= 400 else (error_type or "error event")
    said = f" ({detail})" if detail else ""
    if error_type == "billing_error" or status == 402 or (status in (400, 403, 429) and _SPEND.search(detail)):
        return Failure(
            "billing",
            False,
            f"Claude refused the request: spend limit or credit reached [{label}]{said}. "
            f"Raise the limit in the Anthropic console, or {SWITCH}.",
        )
    if status == 401 or error_type == "authentication_error":
        return Failure(
            "auth", False, f"Claude rejected the API key [{label}]. Check ANTHROPIC_API_KEY, or {SWITCH}."
        )
    if status == 403 or error_type == "permission_error":
        return Failure("auth", False, f"The API key may not use this model [{label}]{said}; {SWITCH}.")
    should_retry = headers.get("x-should-retry")
    if status == 429 or error_type == "rate_limit_error":
        return Failure(
            "rate_limit",
            should_retry != "false",
            f"Claude is rate-limiting this key [{label}]{said}. Retry later, or {SWITCH}.",
            headers,
        )
    if status == 529 or error_type == "overloaded_error":
        return Failure(
            "overloaded",
            should_retry != "false",
            f"Claude is overloaded [{label}]. Retry in a moment, or {SWITCH}.",
            headers,
        )
    if status >= 500 or error_type == "api_error" or status < 400:
        return Failure(
            "server",
            should_retry != "false",
            f"The Claude API failed [{label}]{said}. Retry, or {SWITCH}.",
            headers,
        )
    if status == 404 or error_type == "not_found_error":
        return Failure("request", False, f"Claude does not know this request [{label}]{said}: check claude.model.")
    if status == 413 or error_type == "request_too_large":
        return Failure("context", False, f"The conversation is too large for Claude [{label}]: /clear it.")
    retry = should_retry == "true" or status in (408, 409)
    return Failure("request", retry, f"Claude rejected the request [{label}]{said}.", headers)


def classify(exc: BaseException, host: str) -> Failure:
    """The `Failure` for anything raised while opening or reading a stream."""
    if isinstance(exc, anthropic.APIStatusError):
        return _status_failure(exc)
    if isinstance(exc, StreamTruncated):
        return Failure("network", True, f"The Claude API at {host} ended the answer early ({exc}). Retry, or {SWITCH}.")
    if isinstance(exc, anthropic.APITimeoutError):
        return Failure(
            "timeout",
            True,
            f"The Claude API at {host} stopped answering (timed out). Retry, or {SWITCH}.",
        )
    if isinstance(exc, anthropic.APIConnectionError):
        cause = _root_cause(exc)
        if cause == DROPPED:
            return Failure("network", True, f"The connection to the Claude API at {host} dropped. Retry, or {SWITCH}.")
        return Failure("network", True, f"Cannot reach the Claude API at {host}: {cause}. Check the network, or {SWITCH}.")
    if isinstance(exc, MalformedEvent):
        return Failure("server", True, f"The Claude API at {host} sent a malformed stream ({exc}). Retry, or {SWITCH}.")
    if isinstance(exc, anthropic.APIResponseValidationError | ValueError):
        return Failure("server", True, f"The Claude API sent something unreadable ({type(exc).__name__}). Retry, or {SWITCH}.")
    first_line = server_text(str(exc), 200)
    return Failure("request", False, f"The Claude request failed: {type(exc).__name__}: {first_line}")


def _root_cause(exc: BaseException) -> str:
    """The innermost cause, in words: 'connection refused', 'connection dropped', …

    The SDK's public errors wrap its transport's; the chain is read by name, so that
    nothing here depends on which HTTP library the SDK sits on."""
    chain = [exc]
    while chain[-1].__cause__ is not None or chain[-1].__context__ is not None:
        chain.append(chain[-1].__cause__ or chain[-1].__context__)  # type: ignore[arg-type]
    seen = chain[-1]
    text = str(seen) or type(seen).__name__
    if isinstance(seen, ConnectionRefusedError) or "refused" in text.lower():
        return "connection refused"
    if any(type(e).__name__ == "RemoteProtocolError" for e in chain) or "peer closed" in text.lower():
        return DROPPED
    return server_text(text, 200) or type(seen).__name__
