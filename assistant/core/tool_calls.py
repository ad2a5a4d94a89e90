"""What a model and the program say to each other about tools: a tool's spec (name,
what it does, its JSON schema), a call the model made, and the result it is given.

Backends turn these into their wire format (the Messages API's `tools`, `tool_use`
and `tool_result` blocks; the OpenAI API's `tools`, `tool_calls` and `tool`
messages; a grammar for an in-process model); the task loop (core/tasks) makes and
reads them. They sit at the bottom of the core so that both can.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """A tool as the model is told of it."""

    name: str
    description: str
    # The JSON schema of its arguments: an object schema.
    parameters: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A call as the model made it: `arguments` is the JSON text it wrote (possibly
    not JSON at all: the loop's repair layer reads it, never the backend)."""

    id: str
    name: str
    arguments: str = "{}"

    def parsed(self) -> Any:
        """The arguments as JSON; ValueError when they are not."""
        return json.loads(self.arguments) if self.arguments.strip() else {}


def call_arguments(arguments: Mapping[str, Any]) -> str:
    """Arguments as the JSON text a `ToolCall` carries (compact, key order kept)."""
    return json.dumps(dict(arguments), ensure_ascii=False, separators=(",", ":"))
