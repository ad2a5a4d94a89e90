"""A model's tool arguments checked against the tools' schemas (core/tools/schema.py):
any JSON at all gets an answer, never an exception; every argument set the schema
allows is accepted; each complaint is one line naming the argument and the fix."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from assistant.core.tool_calls import ToolSpec
from assistant.core.tools.catalog import GREP, READ, TOOLS, by_name, specs
from assistant.core.tools.schema import ArgumentError, check_arguments, coerced
from assistant.core.tools.types import Kind

JSON_SCALARS = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=40)
)
JSON = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)
SPECS = st.sampled_from([tool.spec for tool in TOOLS])


def valid_value(schema: Mapping[str, Any]) -> st.SearchStrategy[Any]:
    """Values the schema allows, as a model would write them (no coercion needed)."""
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kind = schema.get("type")
    if kind == "string":
        return st.text(max_size=60)
    if kind == "integer":
        return st.integers(min_value=schema.get("minimum"), max_value=10**12)
    if kind == "boolean":
        return st.booleans()
    if kind == "array":
        return st.lists(valid_value(schema.get("items", {})), max_size=4)
    assert kind == "object", schema
    required = set(schema.get("required", ()))
    properties = schema.get("properties", {})
    return st.fixed_dictionaries(
        {key: valid_value(sub) for key, sub in properties.items() if key in required},
        optional={key: valid_value(sub) for key, sub in properties.items() if key not in required},
    )


@st.composite
def valid_call(draw: st.DrawFn) -> tuple[ToolSpec, dict[str, Any]]:
    spec = draw(SPECS)
    return spec, draw(valid_value(spec.parameters))


@given(SPECS, JSON)
def test_any_json_gets_an_answer_never_an_exception(spec: ToolSpec, value: Any) -> None:
    said = check_arguments(spec, value)
    assert said is None or (isinstance(said, str) and said and "\n" not in said)


@given(SPECS, st.data())
def test_arguments_with_the_right_names_and_any_values_get_an_answer(spec: ToolSpec, data: st.DataObject) -> None:
    names = st.sampled_from(sorted(spec.parameters["properties"]))
    value = data.draw(st.dictionaries(names, JSON, max_size=4))
    said = check_arguments(spec, value)
    assert said is None or "\n" not in said


@given(valid_call())
def test_every_valid_call_is_accepted_as_it_is(call: tuple[ToolSpec, dict[str, Any]]) -> None:
    spec, value = call
    assert check_arguments(spec, value) is None
    assert coerced(spec, value) == value


@given(valid_call())
def test_a_valid_call_through_json_text_is_accepted(call: tuple[ToolSpec, dict[str, Any]]) -> None:
    spec, value = call
    assert check_arguments(spec, json.loads(json.dumps(value))) is None


@pytest.mark.parametrize(
    ("value", "said"),
    [
        ({}, "`path` is required"),
        ({"path": "a.py", "start": "ten"}, '`start` must be an integer ≥ 1, got "ten"'),
        ({"path": "a.py", "start": 0}, "`start` must be an integer ≥ 1, got 0"),
        ({"path": "a.py", "start": True}, "`start` must be an integer ≥ 1, got true"),
        ({"path": "a.py", "start": 1.5}, "`start` must be an integer ≥ 1, got 1.5"),
        ({"path": "a.py", "start": math.nan}, "`start` must be an integer ≥ 1, got nan"),
        ({"path": "a.py", "end": [1]}, "`end` must be an integer ≥ 1, got an array"),
        ({"path": 3}, "`path` must be a string, got 3"),
        ({"path": None}, "`path` is required"),
        ({"path": "a.py", "line": 3}, "unknown argument `line`; the arguments are: path, start, end"),
        ([], "the arguments must be a JSON object, got an array"),
        ("a.py", 'the arguments must be a JSON object, got "a.py"'),
    ],
)
def test_each_complaint_names_the_argument_and_what_it_must_be(value: Any, said: str) -> None:
    assert check_arguments(READ.spec, value) == said


def test_lenient_spellings_are_read_as_meant() -> None:
    assert coerced(READ.spec, {"path": "a.py", "start": "10", "end": 20.0}) == {"path": "a.py", "start": 10, "end": 20}
    assert coerced(READ.spec, {"path": "a.py", "start": None}) == {"path": "a.py"}
    assert coerced(GREP.spec, {"pattern": "x", "ignore_case": "True"}) == {"pattern": "x", "ignore_case": True}
    assert check_arguments(GREP.spec, {"pattern": "x", "ignore_case": "yes"}) == (
        '`ignore_case` must be true or false, got "yes"'
    )


def test_a_huge_number_is_refused_in_a_short_line() -> None:
    said = check_arguments(READ.spec, {"path": "a.py", "start": "9" * 5000})
    assert said is not None and len(said) < 120
    assert check_arguments(READ.spec, {"path": "a.py", "start": -(10**5000)}) == (
        "`start` must be an integer ≥ 1, got a huge number"
    )


def test_enum_and_nested_objects_and_arrays() -> None:
    spec = ToolSpec("t", "", {
        "type": "object", "required": ["mode"], "additionalProperties": False,
        "properties": {
            "mode": {"type": "string", "enum": ["fast", "slow"]},
            "tags": {"type": "array", "items": {"type": "integer", "minimum": 0}},
            "opts": {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]},
        },
    })  # fmt: skip
    assert check_arguments(spec, {"mode": "fast", "tags": [1, "2"], "opts": {"n": 1}}) is None
    assert coerced(spec, {"mode": "fast", "tags": [1, "2"]})["tags"] == [1, 2]
    assert check_arguments(spec, {"mode": "quick"}) == '`mode` must be one of "fast", "slow", got "quick"'
    assert check_arguments(spec, {"mode": "fast", "tags": [1, -1]}) == "`tags[1]` must be an integer ≥ 0, got -1"
    assert check_arguments(spec, {"mode": "fast", "opts": {}}) == "`opts.n` is required"


def test_the_catalog_offers_tools_by_kind_and_finds_names_leniently() -> None:
    assert [spec.name for spec in specs()] == ["read", "list", "grep", "edit", "write", "run"]
    reading: tuple[Kind, ...] = ("read",)
    assert [spec.name for spec in specs(kinds=reading)] == ["read", "list", "grep"]
    assert by_name(" Read ") is READ
    assert by_name("nope") is None
    for tool in TOOLS:
        assert tool.spec.parameters["additionalProperties"] is False
        assert len(tool.spec.description) < 400


def test_argument_error_is_a_value_error() -> None:
    with pytest.raises(ArgumentError):
        coerced(READ.spec, {})
