"""One repair layer for every backend: a call as a model made it, read into a call
of a real tool with arguments its schema accepts, or the one line the model is told
instead.

What small models get wrong, and what each answer is (from peers' trackers): a
tool named in another case or with other separators (`Read_File`, `write-file`:
normalised, then known aliases, then a close match); a tool that does not exist
(answered with the list of tools); arguments that are not JSON, are JSON inside a
string, or sit in a code fence (read when the meaning is certain); arguments the
schema refuses (answered with its complaint and the schema). A backend that cannot
call tools at all describes them in the prompt, and its answer's text is searched
for a call (`calls_in_text`).
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from assistant.core.tool_calls import ToolCall, ToolSpec

# Names models give the tools, after `_squash` (lower case, no separators).
ALIASES = {
    "readfile": "read", "cat": "read", "view": "read", "open": "read", "viewfile": "read", "openfile": "read",
    "ls": "list", "listfiles": "list", "glob": "list", "find": "list", "findfiles": "list", "listdir": "list",
    "search": "grep", "rg": "grep", "ripgrep": "grep", "grepsearch": "grep", "searchfiles": "grep",
    "strreplace": "edit", "replace": "edit", "editfile": "edit", "applyedit": "edit", "strreplaceeditor": "edit",
    "create": "write", "createfile": "write", "writefile": "write", "newfile": "write",
    "bash": "run", "shell": "run", "sh": "run", "exec": "run", "execute": "run", "runcommand": "run",
    "command": "run", "terminal": "run", "runshell": "run", "runterminalcmd": "run",
}  # fmt: skip
CLOSE_ENOUGH = 0.75
_FENCE = re.compile(r"^\s*```[\w-]*\s*\n(.*?)\n?```\s*$", re.DOTALL)


@dataclass(frozen=True, slots=True)
class Repaired:
    """A call read: `call` with the tool's own name and its arguments (a dict), or
    `complaint` (what the model is told instead; the call is not run)."""

    call: ToolCall
    arguments: Mapping[str, Any]
    complaint: str = ""
    # What was repaired, for the log ("name Read_File → read").
    repairs: tuple[str, ...] = ()


CheckArguments = Callable[[ToolSpec, Any], "str | None"]


def _squash(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def tool_name(name: str, known: Sequence[str]) -> str | None:
    """The tool `name` means, or None: exact, then normalised (case, separators, a
    `functions.` prefix), then a known alias, then the one close match."""
    if name in known:
        return name
    bare = name.rsplit(".", 1)[-1]
    squashed = {_squash(k): k for k in known}
    key = _squash(bare)
    if key in squashed:
        return squashed[key]
    alias = ALIASES.get(key)
    if alias in known:
        return alias
    close = difflib.get_close_matches(key, list(squashed), n=1, cutoff=CLOSE_ENOUGH)
    return squashed[close[0]] if close else None


def read_arguments(text: str) -> tuple[Any, str]:
    """The arguments' JSON value, and "" (or the repair made); ValueError when no
    reading is certain. Reads a code fence around JSON and JSON inside a JSON string."""
    stripped = text.strip()
    if not stripped:
        return {}, ""
    try:
        value = json.loads(stripped)
    except ValueError:
        fenced = _FENCE.match(stripped)
        if fenced is None:
            raise
        return json.loads(fenced.group(1)), "arguments in a code fence"
    if isinstance(value, str) and value.strip().startswith("{"):
        try:
            return json.loads(value), "arguments as a JSON string"
        except ValueError:
            pass
    return value, ""


def repair(call: ToolCall, specs: Sequence[ToolSpec], check: CheckArguments) -> Repaired:
    """`call` read against `specs` (`check`: the schema's complaint about arguments)."""
    by_name = {s.name: s for s in specs}
    name = tool_name(call.name, list(by_name))
    if name is None:
        listed = ", ".join(by_name)
        return Repaired(call, {}, f"There is no tool `{_shown(call.name)}`. The tools are: {listed}.")
    repairs = [f"name {_shown(call.name)} → {name}"] if name != call.name else []
    spec = by_name[name]
    try:
        value, how = read_arguments(call.arguments)
    except ValueError as exc:
        return Repaired(ToolCall(call.id, name, call.arguments), {},
                        f"`{name}`: the arguments are not JSON ({exc}). {_schema_line(spec)}", tuple(repairs))  # fmt: skip
    if how:
        repairs.append(how)
    complaint = check(spec, value)
    if complaint is not None or not isinstance(value, dict):
        said = complaint or "the arguments must be a JSON object"
        return Repaired(ToolCall(call.id, name, call.arguments), {}, f"`{name}`: {said}. {_schema_line(spec)}",
                        tuple(repairs))  # fmt: skip
    fixed = ToolCall(call.id, name, json.dumps(value, ensure_ascii=False, separators=(",", ":")))
    return Repaired(fixed, value, "", tuple(repairs))


def _schema_line(spec: ToolSpec) -> str:
    return f"Its arguments: {json.dumps(dict(spec.parameters), separators=(',', ':'))}"


def _shown(name: str) -> str:
    return name if len(name) <= 60 else name[:57] + "…"


# -- tools described in the prompt, for a backend that cannot call them ---------------

PROMPTED_FORMAT = (
    'To use a tool, answer with only one JSON object: {"tool": NAME, "arguments": {...}}. '
    "You will get its result, then continue. When you are done, answer in plain text without JSON."
)


def prompt_for(specs: Sequence[ToolSpec]) -> str:
    """The tools, described for a model that is not given them through its API."""
    lines = ["You can use these tools:"]
    for spec in specs:
        lines.append(f"- {spec.name}: {spec.description} Arguments: {json.dumps(dict(spec.parameters))}")
    lines.append(PROMPTED_FORMAT)
    return "\n".join(lines)


_CALL_KEYS = ("tool", "name", "function", "tool_name")
_ARGUMENT_KEYS = ("arguments", "parameters", "input", "args")


def calls_in_text(text: str, step: int) -> list[ToolCall]:
    """The tool calls an answer's text holds: a JSON object with a tool's name
    ("tool", "name", …) and its arguments ("arguments", "parameters", …), alone, in a
    code fence or in `<tool_call>` tags. Anything else is an answer."""
    found: list[ToolCall] = []
    decoder = json.JSONDecoder()
    index = text.find("{")
    while index != -1 and len(found) < 8:
        try:
            value, end = decoder.raw_decode(text, index)
        except ValueError:
            index = text.find("{", index + 1)
            continue
        call = _as_call(value, f"call_{step}_{len(found)}")
        if call is not None:
            found.append(call)
            index = text.find("{", end)
        else:
            index = text.find("{", index + 1)
    return found


def _as_call(value: Any, call_id: str) -> ToolCall | None:
    if not isinstance(value, dict):
        return None
    name = next((value[k] for k in _CALL_KEYS if isinstance(value.get(k), str)), None)
    if name is None:
        return None
    arguments = next((value[k] for k in _ARGUMENT_KEYS if k in value), {})
    text = arguments if isinstance(arguments, str) else json.dumps(arguments, ensure_ascii=False)
    return ToolCall(call_id, name, text)
