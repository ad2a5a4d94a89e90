"""The Messages stream's events, read without trusting them.

The SDK builds event objects from the server's JSON without validating them, so
any field may be missing, of another JSON type, or absurd: a usage figure of -5,
2**63, NaN or "12"; text with lone surrogates (JSON can carry "\\ud800"); a model
name a megabyte long. These readers give a turn only what it can use: text as
valid Unicode, figures as non-negative integers within bounds (any other figure
is left out, so the estimate stands), and `MalformedEvent` when an event the
turn depends on has no usable shape.
"""

from __future__ import annotations

from typing import Any

# The checks every backend shares; the Claude reader imports them from here.
from assistant.core.backends.reported import MAX_TOKEN_FIGURE, figure, model_name  # noqa: F401
from assistant.core.events import StopReason
from assistant.core.text import clean_text

USAGE_FIGURES = ("input_tokens", "output_tokens", "cache_read_input_tokens", "cache_creation_input_tokens")
WRITE_1H = "ephemeral_1h_input_tokens"  # inside usage.cache_creation
_STOP_REASONS: dict[str, StopReason] = {
    "max_tokens": "max_tokens", "model_context_window_exceeded": "max_tokens", "tool_use": "tool_use",
}
_SCALARS = (str, int, float, bool, list)


class MalformedEvent(ValueError):
    """A response, or an event of the Messages stream, without the documented shape."""


def field(obj: Any, name: str) -> Any:
    """`obj.name` of an SDK object (or a dict the SDK left as one); None when absent."""
    if isinstance(obj, dict):
        return obj.get(name)
    return getattr(obj, name, None)


def kind_of(obj: Any) -> str | None:
    """An event's or a block's `type`, when it is text."""
    value = field(obj, "type")
    return value if isinstance(value, str) else None


def part(event: Any, name: str, kind: str) -> Any:
    """The object an event must carry (its delta, message, content block)."""
    value = field(event, name)
    if value is None or isinstance(value, _SCALARS):
        raise MalformedEvent(f"a {kind} event without a {name}")
    return value


def text_field(obj: Any, name: str, kind: str) -> str:
    """Text the answer is made of, as valid Unicode ("" when absent)."""
    value = field(obj, name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise MalformedEvent(f"a {kind} event whose {name} is not text")
    return clean_text(value)


def figures(usage: Any) -> dict[str, int]:
    """The believable figures of a `usage` object, by the API's names."""
    found = {name: figure(field(usage, name)) for name in USAGE_FIGURES}
    found[WRITE_1H] = figure(field(field(usage, "cache_creation"), WRITE_1H))
    return {name: value for name, value in found.items() if value is not None}


def stop_reason(value: Any) -> StopReason:
    return _STOP_REASONS.get(value, "end_turn") if isinstance(value, str) else "end_turn"
