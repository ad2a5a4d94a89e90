"""Tools in the "schema" format on an inference server: described in the system message,
the history as text, the reply held to one JSON schema by `response_format`, read as it
streams (schema_tools.py, backends/tool_json.py); and "auto" choosing it from /props.

On the loopback stub: the request's body exactly (no `tools`, no `tool` role), replies
cut anywhere (inside escapes, inside a call), a reply cut by max_tokens, a server that
ignored the schema, one that refused it, and what "auto" makes of any `/props`. Against
a real llama-server serving SmolLM2 with its own template (which cannot call tools
natively): "auto" chooses the schema, a call goes round, the count is exact, and over
many generated steps under a task's long system prompt the model calls tools, every
finished call's arguments JSON.
"""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.backends.server.backend import ServerBackend
from assistant.backends.server.schema_tools import SchemaReply, chosen_format
from assistant.backends.tool_json import reply_schema, tools_prompt
from assistant.core.config import GeneralConfig, ServerConfig
from assistant.core.conversation import Message
from assistant.core.events import BackendError, TextDelta, ToolUse, TurnDone, Usage
from assistant.core.session.task import TASK_PROMPT
from assistant.core.tool_calls import ToolCall, ToolSpec, call_arguments
from assistant.core.tools.catalog import specs
from tests.backends.server.conftest import LlamaServer, on_four_threads
from tests.backends.server.stub import Reply, StubServer
from tests.backends.server.test_server_tool_calls import GREP, HISTORY, READ, TOOLS, sse, started

CAN_CALL = {"supports_tools": True, "supports_tool_calls": True, "supports_system_role": True}
CANNOT_CALL = {"supports_tools": False, "supports_tool_calls": False, "supports_system_role": True}


def props(caps: object = None) -> bytes:
    """A llama-server's /props, with these `chat_template_caps` (None: none sent)."""
    body: dict = {"default_generation_settings": {"n_ctx": 4096}, "total_slots": 2}
    if caps is not None:
        body["chat_template_caps"] = caps
    return json.dumps(body).encode()


def on_stub(stub: StubServer, **over: object) -> ServerBackend:
    over = {"max_retries": 0, "tool_format": "schema", **over}
    b = ServerBackend("gpu", ServerConfig(base_url=stub.base_url, **over))  # type: ignore[arg-type]
    b.load()
    return b


def turn(stub: StubServer, messages: list[Message] = HISTORY, tools: tuple[ToolSpec, ...] = TOOLS,
         **over: object) -> list:  # fmt: skip
    b = on_stub(stub, **over)
    try:
        return list(b.stream(messages, threading.Event(), tools=tools))
    finally:
        b.close()


def texts(*pieces: str, finish: str = "stop") -> StubServer:
    """A stub whose answer is these pieces of content."""
    return StubServer([Reply(body=sse(*({"content": p} for p in pieces), finish=finish))])


def calls(events: list) -> list[ToolCall]:
    return [e.call for e in events if isinstance(e, ToolUse)]


def shown(events: list) -> str:
    return "".join(e.text for e in events if isinstance(e, TextDelta))


# -- the request ----------------------------------------------------------------------------


def test_the_request_describes_the_tools_renders_the_history_as_text_and_holds_the_reply_to_the_schema() -> None:
    with texts('{"answer":"It is in src/app.py."}') as stub:
        events = turn(stub, tools=(GREP, READ), max_tokens=200, temperature=0.0)
        [body] = stub.requests
    assert events[-1] == TurnDone("end_turn") and shown(events) == "It is in src/app.py."
    assert "tools" not in body and "tool_choice" not in body
    schema = {"name": "reply", "schema": reply_schema((GREP, READ))}
    assert body["response_format"] == {"type": "json_schema", "json_schema": schema}
    assert body["messages"] == [
        {"role": "system", "content": f"You are a coding assistant.\n\n{tools_prompt((GREP, READ))}"},
        {"role": "user", "content": "Where is main defined?"},
        {"role": "assistant", "content": '{"tool":"grep","arguments":{"pattern": "def main"}}\n'
                                         '{"tool":"list","arguments":{}}'},
        # both results answer one step: one user message, each under a line naming its call
        {"role": "user", "content": "Result of grep (call_a):\nsrc/app.py:3:def main():\n\n"
                                    "Error from list (call_b):\nno such folder"},
        # a call cut short goes back as the model wrote it: it is text here, nothing parses it
        {"role": "assistant", "content": 'Reading it.\n{"tool":"read","arguments":{"path": "src/app.py}'},
        {"role": "user", "content": "Result of read (call_c):\n"},
    ]  # fmt: skip
    assert (body["max_tokens"], body["temperature"], body["stream"]) == (200, 0.0, True)


def test_a_turn_without_tools_sends_no_schema_and_its_text_as_it_came() -> None:
    with texts('{"answer": not json', " at all") as stub:
        events = turn(stub, [Message("user", "hi")], tools=())
        [body] = stub.requests
    assert "response_format" not in body and "tools" not in body
    assert shown(events) == '{"answer": not json at all' and events[-1] == TurnDone("end_turn")


def test_native_sends_the_api_s_tools_and_no_schema() -> None:
    with texts("Hello.") as stub:
        turn(stub, tool_format="native")
        [body] = stub.requests
    assert "response_format" not in body and [t["function"]["name"] for t in body["tools"]] == [t.name for t in TOOLS]
    assert any(m["role"] == "tool" for m in body["messages"])


# -- the reply ------------------------------------------------------------------------------


def test_a_call_cut_anywhere_is_one_tool_use_with_its_arguments_as_written_and_nothing_shown() -> None:
    reply = '{\n  "tool":"grep","arguments":{\n    "pattern": "say \\"hi\\" caf\\u00e9", "path": "src"\n  }\n}'
    pieces = ['{\n  "to', 'ol":"gr', 'ep","argu', 'ments":{\n    "pattern": "say \\', '"hi\\" caf\\u0', '0e9", "pa',
              'th": "src"\n  }', "\n}"]  # fmt: skip
    assert "".join(pieces) == reply
    with texts(*pieces) as stub:
        events = turn(stub)
    [call] = calls(events)
    assert call.name == "grep" and call.id.startswith("call_")
    assert call.arguments == '{\n    "pattern": "say \\"hi\\" caf\\u00e9", "path": "src"\n  }'
    assert call.parsed() == {"pattern": 'say "hi" café', "path": "src"}
    assert shown(events) == "" and events[-1] == TurnDone("tool_use")
    kinds = [type(e) for e in events if not isinstance(e, TextDelta)]
    assert kinds.index(ToolUse) < kinds.index(Usage)
    assert sum(e.tokens for e in events if isinstance(e, TextDelta)) == len(pieces)  # every piece counted as output


def test_an_answer_is_shown_decoded_as_it_streams() -> None:
    with texts('{"ans', 'wer":"Line one\\nCaf\\u', '00e9 \\ud83d', '\\ude00 done', '"}') as stub:
        events = turn(stub)
    assert shown(events) == "Line one\nCafé 😀 done" and not calls(events) and events[-1] == TurnDone("end_turn")


def test_a_call_cut_by_max_tokens_is_said_as_written_for_the_loop_to_repair() -> None:
    with texts('{"tool":"read","arguments":{"path":"src/ap', finish="length") as stub:
        events = turn(stub)
    [call] = calls(events)
    assert (call.name, call.arguments) == ("read", '{"path":"src/ap') and events[-1] == TurnDone("max_tokens")


def test_a_server_that_ignored_the_schema_is_shown_as_prose() -> None:
    with texts("  I would ", "read main.py {first}.") as stub:
        events = turn(stub)
    assert shown(events) == "  I would read main.py {first}." and not calls(events)
    assert events[-1] == TurnDone("end_turn")


def test_a_reply_the_schema_forbids_is_one_clean_error() -> None:
    with texts('{"answer":"bad \\q escape"}') as stub:
        events = turn(stub)
    error = events[-1]
    assert isinstance(error, BackendError) and error.kind == "server" and "\n" not in error.message
    assert "JSON schema" in error.message and not calls(events)


def test_a_server_that_refuses_the_schema_says_how_to_offer_tools_natively() -> None:
    with StubServer([Reply(400, error="response_format: json_schema is not supported")]) as stub:
        events = turn(stub)
    [error] = [e for e in events if isinstance(e, BackendError)]
    assert error.kind == "request" and 'tool_format = "native"' in error.message and len(stub.requests) == 1


@settings(max_examples=200, deadline=None)
@given(
    arguments=st.dictionaries(st.text(max_size=8), st.text(max_size=10) | st.integers() | st.booleans(), max_size=4),
    answer=st.text(max_size=40),
    is_call=st.booleans(),
    indent=st.sampled_from([None, 1, 2, 4]),
    ascii_only=st.booleans(),
    cuts=st.lists(st.integers(0, 400), max_size=12),
)
def test_any_reply_the_schema_allows_read_in_any_pieces_is_its_call_or_its_answer(
    arguments: dict, answer: str, is_call: bool, indent: int | None, ascii_only: bool, cuts: list[int]
) -> None:
    """Whatever whitespace the server's grammar lets the model write, and wherever the
    stream's chunks end."""
    value = {"tool": "run", "arguments": arguments} if is_call else {"answer": answer}
    text = json.dumps(value, indent=indent, ensure_ascii=ascii_only)
    points = sorted(c % (len(text) + 1) for c in cuts)
    reply = SchemaReply()
    said = "".join(reply.feed(text[a:b]) for a, b in zip([0, *points], [*points, len(text)], strict=True))
    said += reply.flush()
    call = reply.call("c1")
    if is_call:
        assert call is not None and call.name == "run" and call.parsed() == arguments and said == ""
    else:
        assert call is None and said == answer


# -- auto -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("setting", "caps", "chosen"), [
    ("auto", CANNOT_CALL, "schema"),
    ("auto", {"supports_tools": True, "supports_tool_calls": False}, "schema"),
    ("auto", CAN_CALL, "native"),
    ("auto", None, "native"),  # an older llama-server: no caps said
    ("auto", {"supports_tools": "false", "supports_tool_calls": 0}, "native"),  # not a plain false: unknown
    ("auto", ["supports_tools", False], "native"),
    ("native", CANNOT_CALL, "native"),
    ("schema", CAN_CALL, "schema"),
])  # fmt: skip
def test_auto_is_native_unless_props_says_plainly_the_template_cannot_call_tools(
    setting: str, caps: object, chosen: str
) -> None:
    with texts('{"answer":"ok"}') as stub:
        stub.props = props(caps)
        b = on_stub(stub, tool_format=setting)
        assert b.tool_format == chosen
        list(b.stream(HISTORY, threading.Event(), tools=TOOLS))
        b.close()
        [body] = stub.requests
    assert ("response_format" in body, "tools" in body) == (chosen == "schema", chosen == "native")


def test_auto_on_a_server_without_props_is_native() -> None:
    with texts("ok") as stub:
        b = on_stub(stub, tool_format="auto")
        assert b.tool_format == "native"
        b.close()
    assert chosen_format("auto", None, "gpu") == "native"


# -- counting what is sent ------------------------------------------------------------------


def test_the_estimate_counts_the_described_tools_and_the_history_as_text() -> None:
    with texts("ok") as stub:  # no /props: tiktoken's estimate
        schema, native = on_stub(stub), on_stub(stub, tool_format="native")
        bare, described = schema.count_tokens(HISTORY), schema.count_tokens(HISTORY, tools=TOOLS)
        offered = native.count_tokens(HISTORY, tools=TOOLS)
        schema.close()
        native.close()
    assert bare.estimated and described.tokens - bare.tokens > 100  # four tools' descriptions
    assert described.tokens != offered.tokens  # the prompt's text, not the API's JSON
    counter = schema.window_counter()
    call_message = HISTORY[2]
    assert counter.message_tokens(call_message) > counter.message_tokens(Message("assistant", ""))


# -- a real llama-server --------------------------------------------------------------------


CONTEXT = 32768  # over four slots: 8,192 tokens each, room for a task's prompt


@pytest.fixture(scope="module")
def smol_server() -> Iterator[LlamaServer]:
    """SmolLM2 under its own ChatML template, which has no tool-call format."""
    yield from started("--jinja", "-c", str(CONTEXT))  # the later -c wins


def on(server: LlamaServer, **over: object) -> ServerBackend:
    b = ServerBackend("gpu", ServerConfig(**{"base_url": server.base_url, "max_tokens": 160, "temperature": 0.0,
                                             **over}))  # type: ignore[arg-type]  # fmt: skip
    b.load()
    return b


SYSTEM = "\n\n".join([GeneralConfig().system_prompt, TASK_PROMPT])
SHOWN_HOW = [
    Message("system", SYSTEM),
    Message("user", "Read the file setup.py."),
    Message("assistant", "", tool_calls=(ToolCall("c1", "read", '{"path":"setup.py"}'),)),
    Message("tool", "1: from setuptools import setup\n2: setup()", tool_call_id="c1"),
]


@pytest.mark.model
def test_auto_chooses_the_schema_on_a_template_that_cannot_call_and_a_call_goes_round(smol_server: LlamaServer) -> None:
    b = on(smol_server)
    assert b.tool_format == "schema" and b.capabilities.context_size == CONTEXT // 4
    asked = [*SHOWN_HOW, Message("user", "Read the file main.py.")]
    events = list(b.stream(asked, threading.Event(), tools=TOOLS))
    [call] = calls(events)
    assert events[-1] == TurnDone("tool_use") and call.name in {t.name for t in TOOLS} and call.parsed() is not None
    answered = [*asked, Message("assistant", "", tool_calls=(call,)),
                Message("tool", "1: print('hello')", tool_call_id=call.id)]  # fmt: skip
    events = list(b.stream(answered, threading.Event(), tools=TOOLS))
    assert isinstance(events[-1], TurnDone), events[-1]
    b.close()


@pytest.mark.model
def test_the_server_s_count_of_a_schema_prompt_is_exact_its_described_tools_included(smol_server: LlamaServer) -> None:
    b = on(smol_server, max_tokens=1)
    asked = [*SHOWN_HOW, Message("user", "List the folder src.")]
    counted, without = b.count_tokens(asked, tools=TOOLS), b.count_tokens(asked)
    [usage] = [e for e in b.stream(asked, threading.Event(), tools=TOOLS) if isinstance(e, Usage)]
    b.close()
    assert not counted.estimated and counted.tokens == usage.prompt_tokens
    assert without.tokens < counted.tokens - 100  # the tools' description is in the prompt


# Steps as a task makes them: the task's system prompt, the catalog's tools (all, or a
# read-only mode's), an ask, and sometimes earlier steps' calls and results.
FILES = ("main.py", "setup.py", "src/app.py", "README.md", "tests/test_app.py", "calc.py")
ASKS = (
    "Read the file {f}.", "What does {f} do?", "Find where 'def main' is defined.", "grep for TODO in src",
    "List the project's python files.", "What files are in tests?", "Run the tests with pytest.",
    "Run `git status`.", "Fix the typo 'retrun' in {f}.", "Create a file notes.md that says hello.",
    "Add a docstring to {f}.", "Which files mention subtract?",
)  # fmt: skip
EARLIER = (
    ("read", {"path": "calc.py"}, "1: def add(a, b):\n2:     return a - b"),
    ("list", {"pattern": "*.py"}, "calc.py\ntest_calc.py"),
    ("grep", {"pattern": "add"}, "test_calc.py:1: from calc import add"),
    ("run", {"command": "python -m pytest -q"}, "exit 1\nFAILED test_calc.py::test_add - assert -1 == 5"),
    ("read", {"path": "missing.py"}, "no such file: missing.py"),
)
STEPS = 60


def generated_step(rng: random.Random, memory: str) -> tuple[list[Message], tuple[ToolSpec, ...], float]:
    tools = rng.choice((specs(), specs(), specs(("read",)), specs(("read", "run"))))
    messages = [Message("system", f"{SYSTEM}\n\nThe project's AGENTS.md:\n{memory}")]
    messages.append(Message("user", rng.choice(ASKS).format(f=rng.choice(FILES))))
    for number in range(rng.choice((0, 0, 1, 2))):
        name, arguments, result = rng.choice(EARLIER)
        call = ToolCall(f"call_{number}", name, call_arguments(arguments))
        failed = result.startswith("no such")
        messages += [Message("assistant", "", tool_calls=(call,)),
                     Message("tool", result, tool_call_id=call.id, is_error=failed)]  # fmt: skip
    return messages, tools, rng.choice((0.0, 0.3, 0.7))


MEMORY = "\n".join(f"- Rule {i}: keep functions short, test every change, and name things for what they mean."
                   for i in range(12))  # fmt: skip


@pytest.mark.model
@pytest.mark.slow
def test_generated_task_steps_in_the_schema_format_call_tools_with_json_arguments(
    smol_server: LlamaServer, capsys: pytest.CaptureFixture[str]
) -> None:
    rng = random.Random(20250611)
    steps = [generated_step(rng, MEMORY) for _ in range(STEPS)]
    def one(i: int) -> tuple[list, tuple[ToolSpec, ...], int]:
        messages, tools, temperature = steps[i]
        b = on(smol_server, temperature=temperature)
        prompt = b.count_tokens(messages, tools=tools).tokens
        try:
            return list(b.stream(messages, threading.Event(), tools=tools)), tools, prompt
        finally:
            b.close()

    outcomes, seconds = on_four_threads(STEPS, one)

    stops: dict[str, int] = {}
    names: dict[str, int] = {}
    errors, unparsed, unoffered, prompts, made = [], [], [], [], 0
    for outcome in outcomes:
        assert outcome is not None
        events, tools, prompt = outcome
        prompts.append(prompt)
        last = events[-1]
        assert isinstance(last, TurnDone | BackendError), last
        if isinstance(last, BackendError):
            assert "\n" not in last.message and "Traceback" not in last.message
            errors.append(last.message)
            continue
        stops[last.stop_reason] = stops.get(last.stop_reason, 0) + 1
        found = calls(events)
        made += len(found)
        assert len(found) <= 1 and ((last.stop_reason == "tool_use") == bool(found) or last.stop_reason == "max_tokens")
        for call in found:
            names[call.name] = names.get(call.name, 0) + 1
            if call.name not in {t.name for t in tools}:
                unoffered.append((last.stop_reason, call.name))
            try:
                call.parsed()
            except ValueError:
                unparsed.append((last.stop_reason, call.arguments))
    with capsys.disabled():  # said on every run: what the loop's repair layer will meet
        print(f"\n{STEPS} schema-format steps in {seconds:.0f} s (prompts {min(prompts)}-{max(prompts)} tokens): "
              f"{stops}, {made} calls {names}, {len(unparsed)} with arguments that are not JSON {unparsed[:3]}, "
              f"{len(unoffered)} naming a tool not offered, {len(errors)} errors {errors[:2]}")  # fmt: skip
    assert not errors
    assert made >= STEPS // 2  # the model calls tools here: many calls, seen, not assumed
    # The schema holds a call the model finished to JSON; only max_tokens cuts one short.
    assert all(stop == "max_tokens" for stop, _ in unparsed)
    assert all(stop == "max_tokens" for stop, _ in unoffered)
