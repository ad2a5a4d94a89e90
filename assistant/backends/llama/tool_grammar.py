"""Tool calls for an in-process model: the llama.cpp grammar that holds its reply to
the one JSON schema of backends/tool_json.py, and whether its chat template has a
tool role.

The grammar is llama-cpp-python's `from_json_schema`, with two of its rules made
stricter (see `_STRICTER`), and is built once per tool set. The schema, the tools'
description, how calls read in the prompt and how the reply is read are shared with
the inference-server backend, in tool_json.py.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from assistant.backends.tool_json import chat_messages, reply_schema
from assistant.core.conversation import Message
from assistant.core.tool_calls import ToolCall, ToolSpec

if TYPE_CHECKING:
    from llama_cpp import LlamaGrammar

# Rules of the schema converter's grammar replaced by stricter ones:
# - `space`: it allows an optional space between tokens; none at all makes the JSON
#   compact, one spelling only, so a call written back into the history is what the
#   model wrote.
# - `char`: its string characters include raw control characters (a newline), which
#   JSON forbids inside strings (`json.loads` rejects them); this is llama.cpp's own rule.
_STRICTER = {
    "space": '""',
    "char": r'[^"\\\x7F\x00-\x1F] | [\\] (["\\bfnrt] | "u" [0-9a-fA-F]{4})',
}


def reply_grammar(tools: Sequence[ToolSpec]) -> LlamaGrammar:
    """The grammar of `reply_schema(tools)`; ValueError when a tool's schema cannot be one."""
    return _grammar(json.dumps(reply_schema(tools), ensure_ascii=False))


@functools.lru_cache(maxsize=16)
def _grammar(schema: str) -> LlamaGrammar:
    # Converting a schema walks it in Python (milliseconds for a handful of tools):
    # once per tool set, not per step. A task passes the same tools at every step.
    from llama_cpp import LlamaGrammar
    from llama_cpp.llama_grammar import json_schema_to_gbnf

    try:
        gbnf = json_schema_to_gbnf(schema)
    except Exception as exc:  # noqa: BLE001 - the converter asserts and raises on what it does not support
        raise ValueError(f"a tool's argument schema cannot be made a grammar: {type(exc).__name__}: {exc}") from None
    return LlamaGrammar.from_string(_stricter(gbnf))


def _stricter(gbnf: str) -> str:
    lines = []
    for line in gbnf.splitlines():
        name, sep, _ = line.partition(" ::= ")
        lines.append(f"{name} ::= {_STRICTER[name]}" if sep and name in _STRICTER else line)
    return "\n".join(lines)


TOOL_ROLE_SAMPLE = "tool-result-7d1f"


def has_tool_role(formatter: Any, template: str) -> bool:
    """Whether the chat template renders a `tool` message as one: it names the role and
    renders a sample history with a result in it (templates that do not, raise on one or
    drop it)."""
    if "'tool'" not in template and '"tool"' not in template:
        return False
    call = ToolCall("call_1", "read", '{"path":"a"}')
    sample = [
        Message("system", "s"), Message("user", "u"), Message("assistant", "", tool_calls=(call,)),
        Message("tool", TOOL_ROLE_SAMPLE, tool_call_id=call.id),
    ]  # fmt: skip
    try:
        prompt = formatter(messages=chat_messages(sample, tool_role=True)).prompt
    except Exception:  # noqa: BLE001 - jinja2's errors, or what the template raises for a role it refuses
        return False
    return TOOL_ROLE_SAMPLE in prompt
