"""Tool calls for an in-process model: what it may write, and how the tools and its
calls read in the prompt.

A small local model asked to call tools in free text gets the format wrong often
enough to stall a task. Here its output is held to one JSON schema by a llama.cpp
grammar: one object, either a call of a given tool `{"tool":"<name>","arguments":{…}}`
(its arguments held to that tool's schema) or a final answer `{"answer":"<text>"}`.
The grammar is llama-cpp-python's `from_json_schema`, with two of its rules made
stricter (see `_STRICTER`), and is built once per tool set.

Calls go back into the history as the JSON the model wrote, byte for byte, so the
next step's prompt starts with this step's prompt and output and the KV cache keeps
them. A template without a tool role gets each result as a user message.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from assistant.core.conversation import Message
from assistant.core.tool_calls import ToolCall, ToolSpec

if TYPE_CHECKING:
    from llama_cpp import LlamaGrammar

ANSWER, TOOL, ARGUMENTS = "answer", "tool", "arguments"
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


def reply_schema(tools: Sequence[ToolSpec]) -> dict[str, Any]:
    """The one JSON schema of a reply: a call of one of `tools`, or the final answer."""
    calls = [
        {
            "type": "object",
            "properties": {TOOL: {"const": t.name}, ARGUMENTS: dict(t.parameters) or {"type": "object"}},
            "required": [TOOL, ARGUMENTS],
            "additionalProperties": False,
        }
        for t in tools
    ]
    answer = {
        "type": "object",
        "properties": {ANSWER: {"type": "string"}},
        "required": [ANSWER],
        "additionalProperties": False,
    }
    return {"anyOf": [*calls, answer]}


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


def tools_prompt(tools: Sequence[ToolSpec]) -> str:
    """What the model is told of the tools and the reply's format (in the system message)."""
    lines = [
        "You can call tools. Reply with one JSON object and nothing else: either",
        '{"tool":"<name>","arguments":{...}} to call a tool (its result comes back to you), or',
        '{"answer":"<text>"} to give your final answer.',
        "Tools (name: what it does; its arguments' JSON schema):",
    ]
    for t in tools:
        lines.append(f"- {t.name}: {t.description.strip()}")
        lines.append(f"  {_compact(t.parameters or {'type': 'object'})}")
    return "\n".join(lines)


def call_text(call: ToolCall) -> str:
    """A call as the grammar makes the model write it (its arguments as written)."""
    # json.dumps as the converter spells the name's constant, so the bytes agree.
    return f'{{"{TOOL}":{json.dumps(call.name)},"{ARGUMENTS}":{call.arguments.strip() or "{}"}}}'


def chat_messages(
    messages: Sequence[Message], tools: Sequence[ToolSpec] = (), tool_role: bool = False
) -> list[dict[str, str]]:
    """Messages for the chat template. Leading system messages (the system prompt
    and pinned items) become one, the tools' description last: many templates expect
    at most one. An assistant message's calls follow its text; a `tool` message is in
    the template's tool role when it has one (`tool_role`), else a user message
    (those answering one step are one message: many templates want turns to alternate).
    """
    system = [m.content for m in messages if m.role == "system"]
    if tools:
        system.append(tools_prompt(tools))
    names = {c.id: c.name for m in messages for c in m.tool_calls}
    rest: list[dict[str, str]] = []
    results_at = -1  # where the user message of tool results being gathered is
    for m in messages:
        if m.role == "system":
            continue
        text = message_text(m, names.get(m.tool_call_id, ""))
        if m.role != "tool":
            rest.append({"role": m.role, "content": text})
        elif tool_role:
            rest.append({"role": "tool", "content": text, "tool_call_id": m.tool_call_id})
        elif rest and results_at == len(rest) - 1:
            rest[-1]["content"] += "\n\n" + text
        else:
            rest.append({"role": "user", "content": text})
            results_at = len(rest) - 1
    return ([{"role": "system", "content": "\n\n".join(system)}] if system else []) + rest


def message_text(message: Message, tool_name: str = "") -> str:
    """A message's text in the prompt: an assistant's calls after its text, a tool
    result under a line naming its call (`tool_name`: the tool that call was of)."""
    if message.role == "tool":
        call = f"{tool_name} ({message.tool_call_id})" if tool_name else f"call {message.tool_call_id}"
        return f"{'Error from' if message.is_error else 'Result of'} {call}:\n{message.content}"
    if not message.tool_calls:
        return message.content
    return "\n".join(([message.content] if message.content else []) + [call_text(c) for c in message.tool_calls])


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


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
