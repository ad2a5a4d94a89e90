"""Tool calls on an inference server, the OpenAI way (`tools`, streamed
`delta.tool_calls`, `tool` messages).

Against a real llama-server started with --jinja serving SmolLM2: many generated
steps (prompts, seeds, temperatures, tool subsets, histories holding earlier calls
and results) each end with `TurnDone` or a clean `BackendError`, every call has a
name and arguments (those that are not JSON are counted and reported, not hidden:
the loop's repair layer reads them), and a server started without it says --jinja.
On the loopback stub, what a real server cannot send on cue: a call without an id,
a name that is not text, arguments cut inside an escape, two calls interleaved, a
refusal of the tools; and the request body of a task's history, exactly.
"""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Iterator
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.backends.server.backend import ServerBackend
from assistant.backends.server.calls import CallPieces
from assistant.backends.server.errors import MalformedCall
from assistant.core.config import ServerConfig
from assistant.core.conversation import Message
from assistant.core.events import BackendError, Retrying, TextDelta, ToolUse, TurnDone, Usage
from assistant.core.tool_calls import ToolCall, ToolSpec, call_arguments
from tests.backends.server.conftest import LlamaServer, free_port, llama_server_binary, on_four_threads
from tests.backends.server.stub import Reply, StubServer

READ = ToolSpec("read", "Read a text file of the project.",
                {"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]})  # fmt: skip
GREP = ToolSpec("grep", "Search the project's files for a regular expression.",
                {"type": "object", "properties": {"pattern": {"type": "string"}, "path": {"type": "string"}},
                 "required": ["pattern"]})  # fmt: skip
RUN = ToolSpec("run", "Run a shell command in the project and return its output.",
               {"type": "object", "properties": {"command": {"type": "string"}}, "required": ["command"]})  # fmt: skip
LIST = ToolSpec("list", "List the files of a folder of the project.",
                {"type": "object", "properties": {"path": {"type": "string"}}})  # fmt: skip
TOOLS = (READ, GREP, RUN, LIST)
ASK = [Message("user", "What does main.py do?")]


# -- the loopback stub: faults on cue ---------------------------------------------------


def sse(*deltas: dict, finish: str | None = "tool_calls", usage: bool = True) -> bytes:
    """An event stream of these deltas, then `finish` (None: the body just ends)."""
    chunks: list[dict] = [{"choices": [{"index": 0, "delta": d, "finish_reason": None}]} for d in deltas]
    if finish is not None:
        chunks.append({"choices": [{"index": 0, "delta": {}, "finish_reason": finish}]})
        if usage:
            chunks.append({"choices": [], "usage": {"prompt_tokens": 40, "completion_tokens": len(deltas)}})
    body = b"".join(f"data: {json.dumps({'id': 'c1', 'model': 'stub-model', **c})}\n\n".encode() for c in chunks)
    return body + (b"data: [DONE]\n\n" if finish is not None else b"")


def piece(index: object, *, call_id: object = None, name: object = None, arguments: object = None) -> dict:
    """A `delta` holding one tool-call piece; None fields are left out."""
    function = {k: v for k, v in (("name", name), ("arguments", arguments)) if v is not None}
    found: dict = {"index": index, "type": "function"} if index is not None else {"type": "function"}
    if call_id is not None:
        found["id"] = call_id
    if function:
        found["function"] = function
    return {"tool_calls": [found]}


def stream(
    stub: StubServer, messages: list[Message] = ASK, tools: tuple[ToolSpec, ...] = TOOLS, **over: object
) -> list:
    """One turn on the stub, retried at most twice within a second."""
    over = {"max_retries": 2, "retry_max_seconds": 1.0, **over}
    b = ServerBackend("gpu", ServerConfig(base_url=stub.base_url, **over))  # type: ignore[arg-type]
    b.load()
    try:
        return list(b.stream(messages, threading.Event(), tools=tools))
    finally:
        b.close()


def replied(*deltas: dict, **kw: object) -> StubServer:
    return StubServer([Reply(body=sse(*deltas, **kw))])  # type: ignore[arg-type]


def calls(events: list) -> list[ToolCall]:
    return [e.call for e in events if isinstance(e, ToolUse)]


def test_a_call_streamed_in_pieces_is_one_tool_use_and_the_turn_ends_tool_use() -> None:
    deltas = [piece(0, call_id="call_1", name="read", arguments=""), piece(0, arguments='{"pa'),
              piece(0, arguments='th": "main.py"}')]  # fmt: skip
    with replied({"content": "Let me look."}, *deltas) as stub:
        events = stream(stub)
    assert calls(events) == [ToolCall("call_1", "read", '{"path": "main.py"}')]
    assert isinstance(events[-1], TurnDone) and events[-1].stop_reason == "tool_use"
    # text, the calls, then the usage: the calls whole before the turn's last figures
    kinds = [type(e) for e in events if not isinstance(e, TextDelta)]
    assert kinds.index(ToolUse) < kinds.index(Usage)
    [usage] = [e for e in events if isinstance(e, Usage)]
    assert usage.completion_tokens == 4  # the server's figure: text and call pieces alike


def test_a_call_without_an_id_gets_one_and_two_such_calls_get_two() -> None:
    deltas = [piece(0, name="read", arguments='{"path": "a"}'), piece(1, name="read", arguments='{"path": "b"}')]
    with replied(*deltas) as stub:
        first, second = calls(stream(stub))
    assert first.id and second.id and first.id != second.id
    assert (first.name, first.parsed(), second.parsed()) == ("read", {"path": "a"}, {"path": "b"})


def test_a_repeated_id_is_not_believed_twice() -> None:
    deltas = [
        piece(0, call_id="same", name="read", arguments="{}"),
        piece(1, call_id="same", name="list", arguments="{}"),
    ]
    with replied(*deltas) as stub:
        first, second = calls(stream(stub))
    assert first.id == "same" and second.id != "same"


@pytest.mark.parametrize("name", [42, ["read"], {"n": "read"}, True])
def test_a_name_that_is_not_text_is_one_clean_error(name: object) -> None:
    with replied(piece(0, call_id="call_1", name=name, arguments="{}")) as stub:
        events = stream(stub)
    assert not calls(events)
    error = events[-1]
    assert isinstance(error, BackendError) and error.kind == "server" and "\n" not in error.message
    assert "not by text" in error.message and stub.base_url in error.message
    assert len(stub.requests) == 1  # the same server would send the same: not sent again


def test_a_call_that_never_got_a_name_is_a_clean_error_after_its_output() -> None:
    with replied(piece(0, call_id="call_1", arguments='{"path": "a"}')) as stub:
        events = stream(stub)
    assert isinstance(events[-1], BackendError) and "without a name" in events[-1].message
    assert events[-1].message.startswith("Interrupted after 1 tokens")


@pytest.mark.parametrize("bad", ["not a list", {"index": 0}, [17], [{"index": 0, "function": "read"}]])
def test_tool_calls_that_are_no_calls_are_a_clean_error(bad: object) -> None:
    with replied({"tool_calls": bad}) as stub:
        events = stream(stub)
    assert isinstance(events[-1], BackendError) and events[-1].kind == "server" and not calls(events)


def test_arguments_sent_as_a_json_value_are_taken_as_its_text() -> None:
    with replied(piece(0, call_id="c", name="grep", arguments={"pattern": "é"})) as stub:
        [call] = calls(stream(stub))
    assert call.parsed() == {"pattern": "é"}


def test_arguments_cut_inside_an_escape_are_joined_as_written() -> None:
    text = '{"pattern": "say \\"hi\\" caf\\u00e9\\n", "path": "src\\\\x"}'
    cuts = ['{"pattern": "say \\', '"hi\\', '" caf\\u0', "0e", "9\\", 'n", "path": "src\\', '\\x"}']
    assert "".join(cuts) == text
    with replied(piece(0, call_id="c", name="grep"), *(piece(0, arguments=c) for c in cuts)) as stub:
        [call] = calls(stream(stub))
    assert call.arguments == text and call.parsed() == {"pattern": 'say "hi" café\n', "path": "src\\x"}


def test_two_calls_interleaved_by_index_are_each_whole_in_index_order() -> None:
    deltas = [
        piece(1, call_id="b", name="grep", arguments='{"pat'),
        piece(0, call_id="a", name="read", arguments='{"pa'),
        piece(1, arguments='tern": "def "}'),
        piece(0, arguments='th": "x.py"}'),
    ]
    with replied(*deltas) as stub:
        events = stream(stub)
    assert calls(events) == [ToolCall("a", "read", '{"path": "x.py"}'), ToolCall("b", "grep", '{"pattern": "def "}')]


def test_pieces_without_an_index_continue_their_call_until_a_new_id() -> None:
    deltas = [piece(None, call_id="a", name="read", arguments='{"path":'), piece(None, arguments=' "x"}'),
              piece(None, call_id="b", name="list", arguments="{}")]  # fmt: skip
    with replied(*deltas) as stub:
        events = stream(stub)
    assert calls(events) == [ToolCall("a", "read", '{"path": "x"}'), ToolCall("b", "list", "{}")]


def test_calls_under_a_stop_finish_still_end_the_turn_tool_use_and_under_length_max_tokens() -> None:
    with replied(piece(0, call_id="a", name="list", arguments="{}"), finish="stop") as stub:
        events = stream(stub)
    assert calls(events) and events[-1] == TurnDone("tool_use")
    with replied(piece(0, call_id="a", name="read", arguments='{"path": "x'), finish="length") as stub:
        events = stream(stub)
    [call] = calls(events)  # cut short: said, for the loop to repair
    assert call.arguments == '{"path": "x' and events[-1] == TurnDone("max_tokens")


def test_a_tool_calls_finish_without_calls_is_an_ordinary_end() -> None:
    with replied({"content": "Nothing to call."}) as stub:
        events = stream(stub)
    assert not calls(events) and events[-1] == TurnDone("end_turn")


def test_a_stream_cut_after_call_pieces_says_no_call_and_is_interrupted() -> None:
    with replied(piece(0, call_id="a", name="read", arguments='{"path": "x"}'), finish=None) as stub:
        events = stream(stub)
    assert not calls(events)
    assert isinstance(events[-1], BackendError) and events[-1].message.startswith("Interrupted after 1 tokens")


@pytest.mark.parametrize(("status", "said"), [
    (400, "tools are not supported by this model"),
    (500, "tools param requires --jinja flag"),  # the real llama-server's words, without --jinja
])  # fmt: skip
def test_a_server_that_refuses_tools_says_jinja_at_once(status: int, said: str) -> None:
    with StubServer([Reply(status, error=said)]) as stub:
        events = stream(stub)
    [error] = [e for e in events if isinstance(e, BackendError)]
    assert error.kind == "request" and "--jinja" in error.message and said in error.message
    assert not any(isinstance(e, Retrying) for e in events) and len(stub.requests) == 1


def test_a_400_about_tools_without_tools_offered_is_an_ordinary_refusal() -> None:
    with StubServer([Reply(400, error="bad tool_call_id")]) as stub:
        events = stream(stub, tools=())
    assert isinstance(events[-1], BackendError) and "--jinja" not in events[-1].message


# -- the request's shape -----------------------------------------------------------------

HISTORY = [
    Message("system", "You are a coding assistant."),
    Message("user", "Where is main defined?"),
    Message(
        "assistant",
        "",
        tool_calls=(ToolCall("call_a", "grep", '{"pattern": "def main"}'), ToolCall("call_b", "list", "{}")),
    ),
    Message("tool", "src/app.py:3:def main():", tool_call_id="call_a"),
    Message("tool", "no such folder", tool_call_id="call_b", is_error=True),
    Message("assistant", "Reading it.", tool_calls=(ToolCall("call_c", "read", '{"path": "src/app.py'),)),
    Message("tool", "", tool_call_id="call_c"),
]


def test_the_request_for_a_history_of_calls_and_results_is_exactly_the_openai_shape() -> None:
    with replied({"content": "It is in src/app.py."}, finish="stop") as stub:
        events = stream(stub, HISTORY, tools=(GREP, READ), max_tokens=64, temperature=0.0)
        [body] = stub.requests
    assert events[-1] == TurnDone("end_turn")
    assert body["messages"] == [
        {"role": "system", "content": "You are a coding assistant."},
        {"role": "user", "content": "Where is main defined?"},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_a", "type": "function", "function": {"name": "grep", "arguments": '{"pattern": "def main"}'}},
            {"id": "call_b", "type": "function", "function": {"name": "list", "arguments": "{}"}},
        ]},
        {"role": "tool", "tool_call_id": "call_a", "content": "src/app.py:3:def main():"},
        {"role": "tool", "tool_call_id": "call_b", "content": "no such folder"},
        # arguments cut short (not a JSON object) go back as {}: llama-server would refuse them
        {"role": "assistant", "content": "Reading it.", "tool_calls": [
            {"id": "call_c", "type": "function", "function": {"name": "read", "arguments": "{}"}},
        ]},
        {"role": "tool", "tool_call_id": "call_c", "content": ""},
    ]  # fmt: skip
    assert body["tools"] == [
        {
            "type": "function",
            "function": {"name": t.name, "description": t.description, "parameters": dict(t.parameters)},
        }
        for t in (GREP, READ)
    ]
    assert (body["max_tokens"], body["temperature"], body["stream"]) == (64, 0.0, True)


def test_a_turn_without_tools_sends_none_and_plain_messages_as_before() -> None:
    with StubServer([Reply()]) as stub:
        stream(stub, tools=())
        [body] = stub.requests
    assert "tools" not in body and body["messages"] == [{"role": "user", "content": "What does main.py do?"}]


def test_the_estimate_counts_the_tools_the_calls_and_their_results() -> None:
    with StubServer([Reply()]) as stub:  # no /props: tiktoken's estimate
        b = ServerBackend("gpu", ServerConfig(base_url=stub.base_url))
        b.load()
        assert b.capabilities.tool_calls
        plain = [replace(m, tool_calls=()) for m in HISTORY]
        bare = b.count_tokens(plain)
        with_calls = b.count_tokens(HISTORY)
        with_tools = b.count_tokens(HISTORY, tools=TOOLS)
        b.close()
    assert bare.estimated and bare.tokens < with_calls.tokens < with_tools.tokens
    assert with_tools.tokens - with_calls.tokens > 100  # four schemas are not a handful of tokens
    counter = b.window_counter()
    assert counter.message_tokens(HISTORY[2]) > counter.message_tokens(plain[2])


def test_a_stream_s_estimate_counts_the_tools_when_the_server_reports_no_usage() -> None:
    body = sse(piece(0, call_id="a", name="list", arguments="{}"), usage=False)
    with StubServer([Reply(body=body)]) as stub:
        [without] = [e for e in stream(stub, tools=(LIST,)) if isinstance(e, Usage)]
        [offered] = [e for e in stream(stub, tools=TOOLS) if isinstance(e, Usage)]
    assert without.estimated and offered.prompt_tokens > without.prompt_tokens


# -- the assembly, over generated pieces --------------------------------------------------

ARGUMENT_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)


@st.composite
def streamed_calls(draw: st.DrawFn) -> tuple[list[ToolCall], list[dict]]:
    """Calls, and their pieces as a server might send them: each call's arguments cut
    anywhere (inside escapes too), pieces of different calls interleaved in any order."""
    count = draw(st.integers(1, 4))
    made: list[ToolCall] = []
    queues: list[list[dict]] = []
    for index in range(count):
        arguments = draw(st.dictionaries(st.text(max_size=8), ARGUMENT_VALUES, max_size=4))
        text = json.dumps(arguments, ensure_ascii=draw(st.booleans()))
        cuts = sorted(draw(st.lists(st.integers(0, len(text)), max_size=6)))
        parts = [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True)]
        name = draw(st.sampled_from([t.name for t in TOOLS]))
        made.append(ToolCall(f"id{index}", name, text))
        queues.append([{"index": index, "id": f"id{index}", "function": {"name": name, "arguments": parts[0]}},
                       *({"index": index, "function": {"arguments": p}} for p in parts[1:])])  # fmt: skip
    order = draw(st.permutations([i for i, q in enumerate(queues) for _ in q]))
    sent = [queues[i].pop(0) for i in order]
    return made, sent


@settings(max_examples=300, deadline=None)
@given(streamed_calls())
def test_generated_pieces_in_any_interleaving_assemble_to_the_calls(case: tuple[list[ToolCall], list[dict]]) -> None:
    made, sent = case
    pieces = CallPieces()
    for p in sent:
        pieces.add(p)
    assembled = pieces.whole()
    assert assembled == made
    assert all(c.parsed() == json.loads(m.arguments) for c, m in zip(assembled, made, strict=True))


@settings(max_examples=100, deadline=None)
@given(st.lists(st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=5),
                             lambda i: st.lists(i, max_size=3) | st.dictionaries(st.text(max_size=4), i, max_size=3),
                             max_leaves=6), max_size=6))  # fmt: skip
def test_any_json_as_pieces_is_calls_or_one_malformed_call_never_another_exception(sent: list) -> None:
    pieces = CallPieces()
    try:
        for p in sent:
            pieces.add(p)
        for call in pieces.whole():
            assert call.id and call.name and isinstance(call.arguments, str)
    except MalformedCall as exc:
        assert "\n" not in str(exc) and len(str(exc)) < 400


# -- a real llama-server ----------------------------------------------------------------

# SmolLM2's own template is plain ChatML: llama-server (--jinja) finds no tool-call format
# in it, so it neither renders the tools nor parses calls, and the model only writes text.
# The same ChatML with Qwen2.5's tool section (tools in the system prompt, calls as
# <tool_call> JSON), which llama-server's parser generator reads, makes it a model that
# calls tools: once it writes <tool_call>, a grammar holds the call to the tools' names
# and schemas. Results go back as a `tool` turn (Qwen2.5 tags them <tool_response>,
# which a model this small then writes instead of a call).
TOOL_TEMPLATE = """\
{%- if tools %}
{{- '<|im_start|>system\\n' }}
{%- if messages[0]['role'] == 'system' %}{{- messages[0]['content'] }}\
{%- else %}{{- 'You are a helpful assistant.' }}{%- endif %}
{{- "\\n\\n# Tools\\n\\nYou may call one or more functions to assist with the user query.\\n\\nYou are provided with \
function signatures within <tools></tools> XML tags:\\n<tools>" }}
{%- for tool in tools %}{{- "\\n" }}{{- tool | tojson }}{%- endfor %}
{{- "\\n</tools>\\n\\nFor each function call, return a json object with function name and arguments within \
<tool_call></tool_call> XML tags:\\n<tool_call>\\n{\\"name\\": <function-name>, \\"arguments\\": <args-json-object>}\
\\n</tool_call><|im_end|>\\n" }}
{%- else %}
{%- if messages[0]['role'] == 'system' %}{{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}\
{%- else %}{{- '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}{%- endif %}
{%- endif %}
{%- for message in messages %}
{%- if (message.role == "user") or (message.role == "system" and not loop.first) or \
(message.role == "assistant" and not message.tool_calls) %}
{{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + '\\n' }}
{%- elif message.role == "assistant" %}
{{- '<|im_start|>' + message.role }}
{%- if message.content %}{{- '\\n' + message.content }}{%- endif %}
{%- for tool_call in message.tool_calls %}
{%- if tool_call.function is defined %}{%- set tool_call = tool_call.function %}{%- endif %}
{{- '\\n<tool_call>\\n{"name": "' }}{{- tool_call.name }}{{- '", "arguments": ' }}{{- tool_call.arguments | tojson }}\
{{- '}\\n</tool_call>' }}
{%- endfor %}
{{- '<|im_end|>\\n' }}
{%- elif message.role == "tool" %}
{{- '<|im_start|>tool\\n' + message.content + '<|im_end|>\\n' }}
{%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}
"""


def started(*extra: str) -> Iterator[LlamaServer]:
    server = LlamaServer(llama_server_binary(), free_port(), *extra)
    try:
        server.wait_ready()
        yield server
    finally:
        server.kill()


@pytest.fixture(scope="module")
def tool_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LlamaServer]:
    template = tmp_path_factory.mktemp("template") / "chatml-tools.jinja"
    template.write_text(TOOL_TEMPLATE)
    yield from started("--jinja", "--chat-template-file", str(template))


@pytest.fixture(scope="module")
def own_template_server() -> Iterator[LlamaServer]:
    yield from started("--jinja")


def on(server: LlamaServer, **settings: object) -> ServerBackend:
    """A backend on `server`; 40 tokens hold a call (about 25) and cut a ramble short."""
    b = ServerBackend("gpu", ServerConfig(**{"base_url": server.base_url, "max_tokens": 40, "temperature": 0.0,
                                             **settings}))  # type: ignore[arg-type]  # fmt: skip
    b.load()
    return b


FILES = ("main.py", "setup.py", "src/app.py", "README.md", "tests/test_app.py", "Makefile", "docs/index.md")
PATTERNS = ("def main", "import os", "TODO", "class App", "print(", "raise ValueError")
COMMANDS = ("ls -la", "pytest -q", "git status", "make build", "python main.py", "cat setup.py")
FOLDERS = ("src", "tests", "docs", ".", "src/utils")
ASKS = {
    "read": ("Read the file {f}.", "Show me what is in {f}.", "Open {f} and tell me what it does."),
    "grep": ("Search for '{p}' with grep.", "Find where '{p}' appears in the project.", "grep for {p}"),
    "run": ("Run the command `{c}`.", "Run `{c}` and show me the output.", "Execute {c}"),
    "list": ("List the folder {d}.", "What files are in {d}?", "Show the contents of the directory {d}."),
}
SUBSETS = (TOOLS, (READ, GREP), (READ, GREP, RUN), (GREP, RUN, LIST), (RUN,), (READ, LIST))
SYSTEMS = ("You are a coding agent. You answer every request with a tool call.",
           "You are a helpful coding assistant with tools.")  # fmt: skip


def earlier_call(rng: random.Random, number: int) -> list[Message]:
    """One earlier step of a task: the user's ask, the model's call, the tool's result
    (sometimes an error, sometimes a call cut short by max_tokens)."""
    tool = rng.choice(TOOLS)
    choices = {"read": {"path": rng.choice(FILES)}, "grep": {"pattern": rng.choice(PATTERNS)},
               "run": {"command": rng.choice(COMMANDS)}, "list": {"path": rng.choice(FOLDERS)}}  # fmt: skip
    arguments = choices[tool.name]
    text = call_arguments(arguments) if rng.random() > 0.1 else call_arguments(arguments)[:-3]  # cut short
    ask = rng.choice(ASKS[tool.name]).format(f=arguments.get("path"), p=arguments.get("pattern"),
                                             c=arguments.get("command"), d=arguments.get("path"))  # fmt: skip
    failed = rng.random() < 0.2
    result = "error: no such file" if failed else rng.choice(["ok", "main.py\nsetup.py", "1:def main():", "3 passed"])
    said = rng.choice(["", "", "Let me check."])
    return [Message("user", ask), Message("assistant", said, tool_calls=(ToolCall(f"call_{number}", tool.name, text),)),
            Message("tool", result, tool_call_id=f"call_{number}", is_error=failed)]  # fmt: skip


def generated_step(rng: random.Random) -> tuple[list[Message], tuple[ToolSpec, ...], float]:
    tools = rng.choice(SUBSETS)
    messages = [Message("system", rng.choice(SYSTEMS))]
    for number in range(rng.choice((0, 1, 1, 2))):
        messages += earlier_call(rng, number)
    tool = rng.choice(tools)
    ask = rng.choice(ASKS[tool.name]).format(f=rng.choice(FILES), p=rng.choice(PATTERNS), c=rng.choice(COMMANDS),
                                             d=rng.choice(FOLDERS))  # fmt: skip
    return [*messages, Message("user", ask)], tools, rng.choice((0.0, 0.3, 0.7, 1.0))


STEPS = 104  # over four slots at once
CLEAN_KINDS = {"request", "server", "context", "generation", "timeout", "network"}


@pytest.mark.model
@pytest.mark.slow
def test_generated_task_steps_on_a_real_server_end_cleanly_with_well_formed_calls(
    tool_server: LlamaServer, capsys: pytest.CaptureFixture[str]
) -> None:
    rng = random.Random(20250417)
    steps = [generated_step(rng) for _ in range(STEPS)]
    def one(i: int) -> tuple[list, tuple[ToolSpec, ...]]:
        messages, tools, temperature = steps[i]
        b = on(tool_server, temperature=temperature)
        try:
            return list(b.stream(messages, threading.Event(), tools=tools)), tools
        finally:
            b.close()

    outcomes, seconds = on_four_threads(STEPS, one)

    stops: dict[str, int] = {}
    errors, unparsed, unoffered, made = [], [], [], 0
    for outcome in outcomes:
        assert outcome is not None
        events, tools = outcome
        last = events[-1]
        assert isinstance(last, TurnDone | BackendError), last
        assert sum(isinstance(e, TurnDone | BackendError) for e in events) == 1
        if isinstance(last, BackendError):
            assert last.kind in CLEAN_KINDS and "\n" not in last.message and "Traceback" not in last.message
            errors.append(last.message)
            continue
        stops[last.stop_reason] = stops.get(last.stop_reason, 0) + 1
        found = calls(events)
        made += len(found)
        assert (last.stop_reason == "tool_use") == bool(found) or last.stop_reason == "max_tokens"
        for call in found:
            assert call.id and call.name  # every call has a name, and an id to answer it by
            if call.name not in {t.name for t in tools}:
                unoffered.append(call.name)
            try:
                call.parsed()
            except ValueError:
                unparsed.append((last.stop_reason, call.arguments))
    with capsys.disabled():  # said on every run, passed or not: what the loop's repair layer will meet
        print(f"\n{STEPS} steps in {seconds:.0f} s: {stops}, {made} calls, {len(unparsed)} with arguments that are "
              f"not JSON {unparsed[:3]}, {len(unoffered)} naming a tool not offered {unoffered[:3]}, "
              f"{len(errors)} errors {errors[:2]}")  # fmt: skip
    assert made >= STEPS // 4  # the model does call tools here: the calls above were seen, not assumed
    # The grammar holds a call the model finished to JSON; only max_tokens cuts one short.
    assert all(stop == "max_tokens" for stop, _ in unparsed)


SHOWN_HOW = [  # two earlier steps: a model this small calls tools once it has seen calls made
    Message("system", SYSTEMS[0]),
    Message("user", "Read the file setup.py."),
    Message("assistant", "", tool_calls=(ToolCall("c1", "read", '{"path": "setup.py"}'),)),
    Message("tool", "from setuptools import setup\nsetup()", tool_call_id="c1"),
    Message("user", "Search for 'import os' with grep."),
    Message("assistant", "", tool_calls=(ToolCall("c2", "grep", '{"pattern": "import os"}'),)),
    Message("tool", "app.py:1:import os", tool_call_id="c2"),
]


@pytest.mark.model
def test_a_real_server_s_call_is_one_tool_use_and_its_result_goes_back(tool_server: LlamaServer) -> None:
    b = on(tool_server)
    asked = [*SHOWN_HOW, Message("user", "Read the file main.py.")]
    events = list(b.stream(asked, threading.Event(), tools=TOOLS))
    [call] = calls(events)
    assert events[-1] == TurnDone("tool_use") and call.id and call.name == "read"
    assert call.parsed() == {"path": "main.py"}
    answered = [*asked, Message("assistant", "", tool_calls=(call,)),
                Message("tool", "print('hello')", tool_call_id=call.id)]  # fmt: skip
    events = list(b.stream(answered, threading.Event(), tools=TOOLS))
    assert isinstance(events[-1], TurnDone), events[-1]


@pytest.mark.model
def test_the_server_s_count_of_a_task_s_prompt_is_exact_tools_included(tool_server: LlamaServer) -> None:
    b = on(tool_server, max_tokens=1)
    asked = [*SHOWN_HOW, Message("user", "List the folder src.")]
    counted, without = b.count_tokens(asked, tools=TOOLS), b.count_tokens(asked)
    [usage] = [e for e in b.stream(asked, threading.Event(), tools=TOOLS) if isinstance(e, Usage)]
    assert not counted.estimated and counted.tokens == usage.prompt_tokens
    assert without.tokens < counted.tokens - 100  # the tools' schemas are in the prompt


@pytest.mark.model
def test_a_template_without_tool_calls_answers_in_text(own_template_server: LlamaServer) -> None:
    """SmolLM2's own template has no tool-call format: offered natively, llama-server
    takes the tools and leaves them out; the turn is text, as if none were offered
    (tool_format "auto" therefore chooses the schema format here:
    test_server_schema_tools.py)."""
    events = list(on(own_template_server, tool_format="native").stream([*SHOWN_HOW, Message("user", "Read main.py.")], threading.Event(),
                                                 tools=TOOLS))  # fmt: skip
    assert isinstance(events[-1], TurnDone) and not calls(events)


@pytest.mark.model
def test_a_server_started_without_jinja_says_to_start_it_with_jinja(start_server) -> None:  # noqa: ANN001
    server = start_server(None, "--no-jinja")
    server.wait_ready()
    events = list(on(server, tool_format="native").stream(ASK, threading.Event(), tools=TOOLS))
    [error] = [e for e in events if isinstance(e, BackendError)]
    assert error.kind == "request" and "start llama-server with --jinja" in error.message and "\n" not in error.message
    assert not any(isinstance(e, Retrying) for e in events)  # the same request would fail the same way
    assert isinstance(list(on(server).stream(ASK, threading.Event()))[-1], TurnDone)  # without tools it answers
