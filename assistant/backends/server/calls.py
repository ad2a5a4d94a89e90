"""The model's tool calls, assembled from a stream's `delta.tool_calls` pieces.

The API streams each call in pieces keyed by `index`: the first holds its `id` and
`function.name`, the rest `function.arguments` a few characters at a time (cut
anywhere, inside an escape or a character's `\\u` code). Pieces of different calls
may interleave, so the calls are whole only when the stream ends.

Nothing in a piece is believed unchecked. A call with no usable id gets one of its
own (a tool result must name its call); a piece without an index continues the
call before it unless it brings a new id; arguments sent as a JSON value rather than
its text are taken as that text (some servers do): the loop's repair layer reads
them, as it reads arguments that are not JSON at all. A piece that is no object, a
name that is not text, or a call that never got a name cannot be a call: that is
`MalformedCall`, one line, never an exception out of `stream()`.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from assistant.backends.server.errors import MalformedCall
from assistant.core.text import clean_text, shown
from assistant.core.tool_calls import ToolCall

MAX_CALLS = 256  # in one answer: more is a server gone wrong, not a plan
MAX_ID_CHARS = 200  # an id is sent back with the call's result


@dataclass(slots=True)
class _Pieces:
    id: str
    name: str = ""
    arguments: list[str] = field(default_factory=list)


class CallPieces:
    """One answer's `tool_calls` pieces, by index, until the stream ends."""

    def __init__(self) -> None:
        self._calls: dict[int, _Pieces] = {}
        self._current: int | None = None  # the index of the last piece

    def add(self, piece: Any) -> None:  # noqa: ANN401 - a piece's JSON, any value
        """One piece of `delta.tool_calls`; MalformedCall when it cannot be one."""
        if not isinstance(piece, dict):
            raise MalformedCall(f"a tool call piece that is no object: {shown(piece)}")
        given = piece.get("id")
        call_id = given if isinstance(given, str) and 0 < len(given) <= MAX_ID_CHARS and given.isprintable() else ""
        index = self._index(piece.get("index"), call_id)
        call = self._calls.get(index)
        if call is None:
            if len(self._calls) >= MAX_CALLS:
                raise MalformedCall(f"more than {MAX_CALLS} tool calls in one answer")
            taken = {c.id for c in self._calls.values()}
            call = self._calls[index] = _Pieces(call_id if call_id and call_id not in taken else new_call_id())
        self._current = index
        function = piece.get("function")
        if function is None:
            return
        if not isinstance(function, dict):
            raise MalformedCall(f"a tool call whose function is {shown(function)}, not an object")
        name = function.get("name")
        if name is not None and not isinstance(name, str):
            raise MalformedCall(f"a tool call named {shown(name)}, not by text")
        if name and not call.name:  # the first piece names the call; a later name is no news
            call.name = name
        arguments = function.get("arguments")
        if isinstance(arguments, str):
            call.arguments.append(arguments)
        elif arguments is not None:  # the arguments as a JSON value, not its text
            call.arguments.append(json.dumps(arguments, ensure_ascii=False))

    def _index(self, index: Any, call_id: str) -> int:  # noqa: ANN401 - the piece's `index`, any value
        """The piece's call: its index when it gives a plausible one; else the call
        before it, unless the piece brings an id of its own (then a new call)."""
        if type(index) is int and 0 <= index < MAX_CALLS:
            return index
        current = self._current
        if current is not None and (not call_id or call_id == self._calls[current].id):
            return current
        return max(self._calls, default=-1) + 1

    def whole(self) -> list[ToolCall]:
        """The calls, in index order, once the stream has ended; MalformedCall for a
        call that never got a name."""
        calls = []
        for index in sorted(self._calls):
            call = self._calls[index]
            if not call.name:
                raise MalformedCall(f"a tool call (index {index}) without a name")
            calls.append(ToolCall(call.id, clean_text(call.name), clean_text("".join(call.arguments)) or "{}"))
        return calls


def new_call_id() -> str:
    """An id for a call the server sent without one (a result must name its call)."""
    return f"call_{uuid.uuid4().hex[:24]}"
