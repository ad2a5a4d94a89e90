"""A model's tool arguments checked against the tool's JSON schema, before anything
runs: what is wrong comes back as one line the model can act on, never a traceback.

Only the subset our specs use is understood: `object` with `properties`,
`required` and `additionalProperties: false`; `string`, `integer`, `boolean`,
`number` and `array` (with `items`); `enum`; `minimum`. A keyword outside it is
ignored (the schema is ours, so that never hides a model's mistake).

Small models are lenient writers, so three spellings are read as meant rather
than refused: an integer written as a numeric string (`"10"`) or as an integral
number (`10.0`) is that integer; a boolean written `"true"` or `"false"` is that
boolean; `null` for an argument is the argument left out. `coerced`
gives the arguments so read; `check_arguments` only says whether they are fine.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

from assistant.core.tool_calls import ToolSpec

_INTEGER = re.compile(r"[+-]?[0-9]{1,30}")  # longer is no argument a tool takes
_SHOWN = 60  # characters of a bad value quoted back


class ArgumentError(ValueError):
    """Arguments that do not fit the schema; the message is one line for the model."""


def check_arguments(spec: ToolSpec, value: Any) -> str | None:
    """What is wrong with `value` (parsed JSON) as `spec`'s arguments, as one line
    ("`path` is required"), or None when it fits (after the coercions above)."""
    try:
        coerced(spec, value)
    except ArgumentError as error:
        return str(error)
    return None


def coerced(spec: ToolSpec, value: Any) -> dict[str, Any]:
    """`value` read as `spec`'s arguments (coerced as the module docstring says, left-out
    and null optional arguments absent); ArgumentError when it does not fit."""
    if not isinstance(value, Mapping):
        raise ArgumentError(f"the arguments must be a JSON object, got {_got(value)}")
    return _object(spec.parameters, value, "")


def _object(schema: Mapping[str, Any], value: Mapping[Any, Any], where: str) -> dict[str, Any]:
    properties: Mapping[str, Any] = schema.get("properties", {})
    closed = schema.get("additionalProperties", True) is False
    out: dict[str, Any] = {}
    for key, item in value.items():
        name = f"{where}.{key}" if where else str(key)
        if key not in properties:
            if closed:
                known = ", ".join(properties) or "none"
                raise ArgumentError(f"unknown argument `{_cut(name)}`; the arguments are: {known}")
            continue
        if item is None:  # left out: a required one is then named as missing
            continue
        out[key] = _value(properties[key], item, name)
    for key in schema.get("required", ()):
        if key not in out:
            raise ArgumentError(f"`{f'{where}.{key}' if where else key}` is required")
    return out


def _value(schema: Mapping[str, Any], value: Any, name: str) -> Any:
    kind = schema.get("type")
    if kind == "string":
        if not isinstance(value, str):
            raise ArgumentError(f"`{name}` must be a string, got {_got(value)}")
    elif kind == "integer":
        value = _integer(schema, value, name)
    elif kind == "number":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
            raise ArgumentError(f"`{name}` must be a number{_at_least(schema)}, got {_got(value)}")
        _check_minimum(schema, value, name, "a number")
    elif kind == "boolean":
        value = _boolean(value, name)
    elif kind == "array":
        if not isinstance(value, list):
            raise ArgumentError(f"`{name}` must be an array, got {_got(value)}")
        items = schema.get("items", {})
        value = [_value(items, item, f"{name}[{k}]") for k, item in enumerate(value)]
    elif kind == "object":
        if not isinstance(value, Mapping):
            raise ArgumentError(f"`{name}` must be an object, got {_got(value)}")
        value = _object(schema, value, name)
    choices = schema.get("enum")
    if choices is not None and value not in choices:
        listed = ", ".join(json.dumps(choice) for choice in choices)
        raise ArgumentError(f"`{name}` must be one of {listed}, got {_got(value)}")
    return value


def _integer(schema: Mapping[str, Any], value: Any, name: str) -> int:
    number: int | None = None
    if isinstance(value, bool):
        number = None  # true is no line number, though Python counts it an int
    elif isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():  # NaN and infinities are not
        number = int(value)
    elif isinstance(value, str) and _INTEGER.fullmatch(value.strip()):
        number = int(value.strip())
    if number is None:
        raise ArgumentError(f"`{name}` must be an integer{_at_least(schema)}, got {_got(value)}")
    _check_minimum(schema, number, name, "an integer")
    return number


def _boolean(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise ArgumentError(f"`{name}` must be true or false, got {_got(value)}")


def _check_minimum(schema: Mapping[str, Any], number: float, name: str, kind: str) -> None:
    minimum = schema.get("minimum")
    if minimum is not None and number < minimum:
        raise ArgumentError(f"`{name}` must be {kind}{_at_least(schema)}, got {_got(number)}")


def _at_least(schema: Mapping[str, Any]) -> str:
    minimum = schema.get("minimum")
    return "" if minimum is None else f" ≥ {minimum}"


def _got(value: Any) -> str:
    """A bad value as the model wrote it (JSON), cut short; a container by its kind only."""
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list):
        return "an array"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(_cut(value), ensure_ascii=False)
    if isinstance(value, (int, float)):
        text = repr(value) if isinstance(value, float) else str(value) if abs(value) < 10**30 else "a huge number"
        return _cut(text)
    return type(value).__name__


def _cut(text: str) -> str:
    return text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…"
