"""The "schema" tool format: tools for a server whose model cannot call them natively.

A chat template without a tool-call format (SmolLM2's own, under llama-server's
`--jinja`) leaves the OpenAI API's `tools` out of the prompt and parses no calls,
and a small model under a task's long system prompt then answers in prose. So, as the
in-process backend does (backends/tool_json.py), the tools are described in the system
message, the history's calls and results are text (an assistant message is the call's
JSON; a result is a user message under "Result of <tool> (<id>):", never the `tool`
role), and the request's `response_format` holds the reply to the one JSON schema of
a call or an answer: llama-server turns it into a grammar (vLLM and Ollama take it
too). The reply is read as it streams by the same `ReplyReader`.

`tool_format = "auto"` chooses once, at load: schema where llama-server's `/props`
says the template cannot call tools (`chat_template_caps`; a server without
`--jinja` says the same), else native, the API's own way. Nothing the server says is
believed unchecked: only a plain `false` there means it cannot.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, Literal

from assistant.backends.server.errors import MalformedCall
from assistant.backends.tool_json import ReplyReader, chat_messages, reply_schema
from assistant.core.conversation import Message
from assistant.core.tool_calls import ToolCall, ToolSpec

log = logging.getLogger(__name__)

ToolFormat = Literal["native", "schema"]
# What llama-server's `/props` `chat_template_caps` says of a template that cannot call tools.
CANNOT_CALL = ("supports_tools", "supports_tool_calls")


def chosen_format(setting: str, caps: Any, name: str) -> ToolFormat:  # noqa: ANN401 - the server's JSON
    """The tool format of `[servers.NAME] tool_format` (`setting`), "auto" read from
    `/props` `chat_template_caps` (`caps`, None when not sent): native unless it says
    plainly that the template cannot call tools."""
    if setting in ("native", "schema"):
        return setting  # type: ignore[return-value]
    if not isinstance(caps, dict):
        return "native"
    unable = [key for key in CANNOT_CALL if caps.get(key) is False]
    if not unable:
        return "native"
    log.info("%s: its chat template cannot call tools (/props chat_template_caps %s false): tools as a JSON schema",
             name, " and ".join(unable))  # fmt: skip
    return "schema"


def schema_messages(messages: Sequence[Message], tools: Sequence[ToolSpec]) -> list[dict[str, str]]:
    """The request's messages: the tools described last in the one system message, the
    calls and results as text, results as user messages."""
    return chat_messages(messages, tools, tool_role=False)


def response_format(tools: Sequence[ToolSpec]) -> dict[str, Any]:
    """The request's `response_format`: the OpenAI API's JSON-schema shape, which
    llama-server reads (`json_schema.schema`) and makes a grammar of."""
    return {"type": "json_schema", "json_schema": {"name": "reply", "schema": reply_schema(tools)}}


class SchemaReply:
    """One reply under the schema, fed the streamed text: the answer's text to show,
    and at the end the call it makes. A server that ignored `response_format` and
    wrote prose (its reply does not open with `{`) is shown as it came."""

    def __init__(self) -> None:
        self.reader = ReplyReader()
        self.prose: bool | None = None  # None: only whitespace so far
        self._held = ""  # that whitespace

    def feed(self, text: str) -> str:
        """The text to show of `text`; MalformedCall when it cannot be the schema's JSON."""
        if self.prose is None:
            self._held += text
            start = self._held.lstrip()
            if not start:
                return ""
            self.prose = not start.startswith("{")
            text, self._held = self._held, ""
        if self.prose:
            return text
        try:
            return self.reader.feed(text)[0]
        except ValueError as exc:  # a string the schema forbids (a bad escape): not held to it after all
            raise MalformedCall(f"a reply that is not the tools' JSON schema: {exc}") from None

    def flush(self) -> str:
        """The rest of the answer when the stream ends."""
        if self.prose is None:
            return ""
        return "" if self.prose else self.reader.flush()

    def call(self, call_id: str) -> ToolCall | None:
        """The call the reply makes, None for an answer (or prose)."""
        return None if self.prose is not False else self.reader.call(call_id)
