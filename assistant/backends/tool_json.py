"""Tool calls as one JSON object, for models that do not call tools natively: what the
reply may be, how the tools and the calls read in the prompt, and how the reply is
read while it streams. Shared by the in-process backend (backends/llama, a llama.cpp
grammar holds the reply to the schema) and the inference-server backend's "schema"
tool format (backends/server, the request's `response_format` does).

A small model asked to call tools in free text, or through a chat template that has
no tool-call format, gets the format wrong often enough to stall a task. Here its
reply is held to one JSON schema: one object, either a call of a given tool
`{"tool":"<name>","arguments":{…}}` (its arguments held to that tool's schema) or a
final answer `{"answer":"<text>"}`.

Calls go back into the history as the JSON the model wrote (its arguments byte for
byte), so the next step's prompt starts with this step's prompt and output and a
cache keeps them. A template without a tool role gets each result as a user message.

The user must see the answer as text while it is written, not JSON, so its string is
decoded as it comes, escapes included, though a token may end in the middle of one
(`\\u00` then `e9`). A call is said once, whole, with its arguments exactly as the
model wrote them; a reply cut short (max_tokens) is read as far as it goes and never
raises on what the schema allows.

Pure: no llama.cpp and no network here, so all of it is tested on generated inputs.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from assistant.core.conversation import Message
from assistant.core.tool_calls import ToolCall, ToolSpec

ANSWER, TOOL, ARGUMENTS = "answer", "tool", "arguments"


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


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


# -- reading the reply as it streams --------------------------------------------------

REPLACEMENT = "\ufffd"  # for a lone surrogate escape: UTF-8 text cannot carry one
_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")
_HIGH, _LOW = range(0xD800, 0xDC00), range(0xDC00, 0xE000)


class JsonStringDecoder:
    """Decodes one JSON string literal, its quotes included, fed in pieces of any size.

    `feed` decodes up to the closing quote and says how much of the piece it took, so
    a reader goes on after the string in the same piece. Text that cannot be decoded
    yet (half an escape, a high surrogate whose pair may follow) is held back.
    """

    def __init__(self) -> None:
        self.done = False
        self._opened = False
        self._escape: str | None = None  # the escape read so far, after its backslash
        self._high: int | None = None  # a high surrogate waiting for its low half

    def feed(self, text: str) -> tuple[str, int]:
        """The text decoded from `text`, and how many of its characters were taken."""
        out: list[str] = []
        for i, c in enumerate(text):
            if self.done:
                return "".join(out), i
            if not self._opened:
                if c != '"':
                    raise ValueError(f"a JSON string starts with a quote, not {c!r}")
                self._opened = True
            elif self._escape is not None:
                self._escape += c
                self._read_escape(out)
            elif c == "\\":
                self._escape = ""
            elif c == '"':
                self._unit(None, out)
                self.done = True
            else:
                self._unit(c, out)
        return "".join(out), len(text)

    def _read_escape(self, out: list[str]) -> None:
        escape = self._escape or ""
        if escape[0] != "u":
            if escape not in _ESCAPES:
                raise ValueError(f"not a JSON escape: \\{escape}")
            self._escape = None
            self._unit(_ESCAPES[escape], out)
        elif len(escape) > 1 and escape[-1] not in _HEX_DIGITS:
            raise ValueError(f"not a JSON escape: \\{escape}")
        elif len(escape) == 5:
            self._escape = None
            self._code_unit(int(escape[1:], 16), out)

    def _code_unit(self, unit: int, out: list[str]) -> None:
        """One `\\u` escape's four hex digits: a UTF-16 unit, so a character past U+FFFF takes two."""
        if unit in _LOW and self._high is not None:
            out.append(chr(0x10000 + ((self._high - 0xD800) << 10) + (unit - 0xDC00)))
            self._high = None
        elif unit in _HIGH:
            self._unit(None, out)
            self._high = unit
        else:
            self._unit(REPLACEMENT if unit in _LOW else chr(unit), out)

    def _unit(self, char: str | None, out: list[str]) -> None:
        """One decoded character (None: the string ended); a high surrogate left
        waiting is lone, then."""
        if self._high is not None:
            out.append(REPLACEMENT)
            self._high = None
        if char is not None:
            out.append(char)


class ReplyReader:
    """Reads the reply as it streams: `feed` has StopScanner's shape (the text to
    show, and whether the reply is over), so the in-process backend's one token loop
    drives it (the server's reader feeds it each chunk's text).

    It follows the JSON's structure (depth, strings) and keeps where each top-level
    value starts and ends; the `answer` string is decoded and shown as it comes.
    """

    def __init__(self) -> None:
        self.raw = ""  # the reply as written
        self.finished = False  # its outer object closed
        self._depth = 0
        self._string: JsonStringDecoder | None = None  # the string being read
        self._string_start = 0
        self._showing = False  # that string is the answer
        self._expect_key = True  # at depth 1: a key comes next, not a value
        self._key = ""  # the top-level key whose value is read
        self._keys: set[str] = set()
        self._spans: dict[str, list[int]] = {}  # top-level key -> [start, end] of its value (end -1: open)

    def feed(self, text: str) -> tuple[str, bool]:
        offset = len(self.raw)
        self.raw += text
        shown: list[str] = []
        i = 0
        while i < len(text) and not self.finished:
            if self._string is not None:
                decoded, used = self._string.feed(text[i:])
                i += used
                if self._showing:
                    shown.append(decoded)
                if self._string.done:
                    self._string_ended(offset + i)
                continue
            c = text[i]
            if c == '"':
                self._string, self._string_start = JsonStringDecoder(), offset + i
                at_top = self._depth == 1
                if at_top and not self._expect_key:
                    self._value_starts(offset + i)
                self._showing = at_top and not self._expect_key and self._key == "answer"
                continue  # the decoder takes the quote
            if c in "{[":
                if self._depth == 1 and not self._expect_key:
                    self._value_starts(offset + i)
                self._depth += 1
            elif c in "}]":
                self._depth -= 1
                if self._depth <= 1:
                    self._value_ends(offset + i + (1 if self._depth == 1 else 0))
                self.finished = self._depth <= 0
            elif self._depth == 1 and c in ",:":
                if c == ",":
                    self._value_ends(offset + i)
                self._expect_key = c == ","
            elif self._depth == 1 and not self._expect_key and not c.isspace():
                self._value_starts(offset + i)  # a number, true, false or null
            i += 1
        return "".join(shown), self.finished

    def flush(self, text: str = "") -> str:
        """The rest of the answer when the stream ends (half an escape is dropped)."""
        return self.feed(text)[0]

    def _string_ended(self, end: int) -> None:
        if self._depth == 1 and self._expect_key:
            self._key = json.loads(self.raw[self._string_start : end])
            self._keys.add(self._key)
        elif self._depth == 1:
            self._value_ends(end)
        self._string, self._showing = None, False

    def _value_starts(self, at: int) -> None:
        if self._key not in self._spans:
            self._spans[self._key] = [at, -1]

    def _value_ends(self, at: int) -> None:
        span = self._spans.get(self._key)
        if span is not None and span[1] < 0:
            span[1] = at

    def _value(self, key: str) -> str | None:
        """A top-level value's text as written (a cut one as far as it goes)."""
        span = self._spans.get(key)
        if span is None:
            return None
        return self.raw[span[0] : span[1] if span[1] >= 0 else len(self.raw)]

    @property
    def is_call(self) -> bool:
        return "tool" in self._keys

    def call(self, call_id: str) -> ToolCall | None:
        """The tool call the reply makes, None for an answer. A cut call keeps what was
        written: its arguments then are not JSON (the whole reply, when they had not
        begun), for the loop's repair step to complain about."""
        if not self.is_call:
            return None
        name = _partial_string(self._value("tool") or "")
        arguments = self._value("arguments")
        if arguments is None:
            arguments = "{}" if self.finished else self.raw
        return ToolCall(call_id, name, arguments)


def _partial_string(text: str) -> str:
    """A JSON string's value, as far as it was written."""
    try:
        return JsonStringDecoder().feed(text)[0]
    except ValueError:  # not a string at all: the grammar allows none, but a reply is never raised on
        return text
