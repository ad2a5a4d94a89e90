"""Tool calls on the in-process backend: a grammar holds SmolLM2 to one JSON schema
(tool_grammar.py), and the JSON is read as it streams (backends/tool_json.py).

The reader and the string decoder are pure and tested on generated inputs; the
rest runs the real SmolLM2-135M."""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from assistant.backends.llama.backend import LlamaCppBackend
from assistant.backends.llama.options import LlamaOptions
from assistant.backends.llama.tool_grammar import _stricter, has_tool_role, reply_grammar
from assistant.backends.tool_json import REPLACEMENT, JsonStringDecoder, ReplyReader, call_text, chat_messages
from assistant.core.conversation import Message
from assistant.core.events import BackendError, TextDelta, ToolUse, TurnDone, Usage
from assistant.core.tool_calls import ToolCall, ToolSpec
from tests.conftest import small_options


def _object(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": required}


STRING = {"type": "string"}
PATH, OLD, NEW = {"path": STRING}, {"old": STRING}, {"new": STRING}
TOOLS = {
    t.name: t
    for t in [
        ToolSpec("read", "Read a file of the project.", _object(PATH, ["path"])),
        ToolSpec("list", "List a folder.", _object(PATH, [])),  # nothing required
        ToolSpec("grep", "Search the files for a regex.", _object({"pattern": STRING, **PATH}, ["pattern"])),
        ToolSpec("edit", "Replace text in a file.", _object({**PATH, **OLD, **NEW}, ["path", "old", "new"])),
        ToolSpec("write", "Write a whole file.", _object({**PATH, "content": STRING}, ["path", "content"])),
        ToolSpec("run", "Run a shell command.", _object({"command": STRING, "secs": {"type": "integer"}}, ["command"])),
    ]
}
ALL = tuple(TOOLS.values())
SYSTEM = Message("system", "You are a coding assistant working in a Python project.")


# -- the string decoder and the reader (pure) ---------------------------------------


def splits(text: str, rng: random.Random) -> list[str]:
    """`text` cut at random places (some pieces empty, some one character)."""
    cuts = sorted(rng.randint(0, len(text)) for _ in range(rng.randint(0, len(text) + 1)))
    return [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)])]


def decode_in_pieces(pieces: list[str]) -> str:
    decoder, out = JsonStringDecoder(), []
    for piece in pieces:
        text, used = decoder.feed(piece)
        assert used == len(piece)
        out.append(text)
    assert decoder.done
    return "".join(out)


@given(st.text(), st.booleans(), st.randoms(use_true_random=False))
def test_any_string_decodes_back_whatever_the_splits(text: str, ascii_only: bool, rng: random.Random) -> None:
    literal = json.dumps(text, ensure_ascii=ascii_only)
    assert decode_in_pieces(splits(literal, rng)) == text


@pytest.mark.parametrize(
    ("pieces", "text"),
    [
        (['"a\\', 'nb"'], "a\nb"),
        (['"caf\\u00', 'e9"'], "café"),
        (['"say \\', '"hi\\"', '"'], 'say "hi"'),
        (['"\\ud83d', "\\ude00", '"'], "😀"),  # a surrogate pair, split between its halves
        (['"\\ud83', "d\\u", 'de00!"'], "😀!"),
        (['"\\ud83dx"'], REPLACEMENT + "x"),  # a lone half cannot be UTF-8: replaced
        (['"\\ude00"'], REPLACEMENT),
        (['"\\\\\\/"'], "\\/"),
    ],
)
def test_split_escapes_decode(pieces: list[str], text: str) -> None:
    assert decode_in_pieces(pieces) == text


def test_the_decoder_stops_at_the_closing_quote() -> None:
    decoder = JsonStringDecoder()
    assert decoder.feed('"ab"},"x"') == ("ab", 4)
    assert decoder.done


def read_all(raw: str, rng: random.Random) -> tuple[ReplyReader, str]:
    reader, shown = ReplyReader(), []
    for piece in splits(raw, rng):
        text, finished = reader.feed(piece)
        shown.append(text)
        if finished:
            break
    shown.append(reader.flush())
    return reader, "".join(shown)


@given(st.text(), st.booleans(), st.booleans(), st.randoms(use_true_random=False))
def test_the_answer_is_shown_as_its_text(text: str, compact: bool, ascii_only: bool, rng: random.Random) -> None:
    raw = json.dumps({"answer": text}, ensure_ascii=ascii_only, separators=(",", ":") if compact else None)
    reader, shown = read_all(raw, rng)
    assert shown == text
    assert reader.finished and reader.call("c") is None


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@given(st.text(min_size=1), st.dictionaries(st.text(), JSON_VALUES, max_size=4), st.randoms(use_true_random=False))
def test_a_call_is_read_whole_and_written_back_the_same(name: str, arguments: dict, rng: random.Random) -> None:
    raw = json.dumps({"tool": name, "arguments": arguments}, separators=(",", ":"))
    reader, shown = read_all(raw, rng)
    assert shown == "" and reader.finished
    call = reader.call("call_1")
    assert call is not None
    assert (call.id, call.name, json.loads(call.arguments)) == ("call_1", name, arguments)
    assert call_text(call) == raw  # the history gets back what the model wrote


@given(st.dictionaries(st.text(), JSON_VALUES, min_size=1, max_size=3), st.data())
def test_a_cut_call_is_read_as_far_as_it_goes(arguments: dict, data: st.DataObject) -> None:
    raw = json.dumps({"tool": "grep", "arguments": arguments}, separators=(",", ":"))
    cut = data.draw(st.integers(min_value=0, max_value=len(raw) - 2))  # at least the arguments' `}` is lost
    reader, _ = read_all(raw[:cut], random.Random(cut))
    call = reader.call("c")
    assert not reader.finished
    if cut < len('{"tool"'):
        assert call is None  # not yet known to be a call
        return
    assert call is not None and "grep".startswith(call.name)
    with pytest.raises(ValueError):
        call.parsed()  # the loop's repair step complains about it


# -- the grammar and the prompt (llama-cpp-python's converter, no model) -------------------


def test_the_grammar_is_built_once_per_tool_set() -> None:
    grammar = reply_grammar(ALL[:2])
    assert reply_grammar(ALL[:2]) is grammar
    assert reply_grammar(ALL[:3]) is not grammar
    rules = dict(line.split(" ::= ", 1) for line in grammar._grammar.splitlines())
    assert rules["space"] == '""'  # compact JSON: one spelling
    assert "\\x00-\\x1F" in rules["char"]  # no raw control characters inside strings
    assert '"\\"read\\""' in grammar._grammar and '"\\"answer\\""' in grammar._grammar


def test_a_schema_the_converter_refuses_is_a_one_line_value_error() -> None:
    bad = ToolSpec("odd", "?", {"type": "object", "properties": {"x": {"$ref": "https://example.com/s.json"}}})
    with pytest.raises(ValueError, match="cannot be made a grammar") as caught:
        reply_grammar([bad])
    assert "\n" not in str(caught.value)


def test_only_the_named_rules_are_replaced() -> None:
    assert _stricter('root ::= "a" space\nspace ::= " "?\nspaced ::= " "') == (
        'root ::= "a" space\nspace ::= ""\nspaced ::= " "'
    )


CALL = ToolCall("call_1", "read", '{"path":"a.py"}')
TASK = [
    SYSTEM,
    Message("user", "What is in a.py?"),
    Message("assistant", "", tool_calls=(CALL,)),
    Message("tool", "print('hi')", tool_call_id="call_1"),
]


def test_a_result_is_a_user_message_when_the_template_has_no_tool_role() -> None:
    rendered = chat_messages(TASK, ALL[:1])
    assert [m["role"] for m in rendered] == ["system", "user", "assistant", "user"]
    assert rendered[0]["content"].startswith(SYSTEM.content + "\n\n")
    assert "- read: Read a file of the project." in rendered[0]["content"]
    assert rendered[2]["content"] == '{"tool":"read","arguments":{"path":"a.py"}}'
    assert rendered[3]["content"] == "Result of read (call_1):\nprint('hi')"


def test_the_results_of_one_step_are_one_user_message() -> None:
    other = ToolCall("call_2", "run", '{"command":"ls"}')
    history = TASK[:2] + [
        Message("assistant", "Looking.", tool_calls=(CALL, other)),
        Message("tool", "x", tool_call_id="call_1"),
        Message("tool", "no such command", tool_call_id="call_2", is_error=True),
    ]
    rendered = chat_messages(history)
    assert rendered[2]["content"] == 'Looking.\n{"tool":"read","arguments":{"path":"a.py"}}\n' + call_text(other)
    assert rendered[3:] == [
        {"role": "user", "content": "Result of read (call_1):\nx\n\nError from run (call_2):\nno such command"}
    ]


def test_without_tools_a_plain_history_is_rendered_as_before() -> None:
    history = [SYSTEM, Message("system", "pinned"), Message("user", "hi"), Message("assistant", "hello")]
    assert chat_messages(history) == [
        {"role": "system", "content": SYSTEM.content + "\n\npinned"},
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "hello"},
    ]


def test_a_template_with_a_tool_role_gets_results_in_it() -> None:
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    chatml = (
        "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
        "<|im_start|>assistant\n"
    )
    with_tool = chatml.replace("{{ m['role'] }}", "{{ 'user' if m['role'] == 'tool' else m['role'] }}")
    refuses = "{% for m in messages %}{% if m['role'] == 'tool' %}{{ raise_exception('no') }}{% endif %}{% endfor %}"
    refuses += chatml
    for template, has in [(with_tool, True), (chatml, False), (refuses, False)]:  # chatml never names it
        assert has_tool_role(Jinja2ChatFormatter(template, "<|im_end|>", ""), template) is has
    assert chat_messages(TASK, tool_role=True)[3]["role"] == "tool"


# -- the real model ------------------------------------------------------------------


class Replies(logging.Handler):
    """The raw JSON of each reply, as the backend logs it (the app's logger may not
    propagate to caplog)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.raw: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("reply under the tools' grammar"):
            self.raw.append(str(record.args[1]))  # type: ignore[index]


@pytest.fixture
def replies() -> Iterator[Replies]:
    handler, logger = Replies(), logging.getLogger("assistant.backends.llama.backend")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(level)


def step(
    backend: LlamaCppBackend, messages: list[Message], tools: tuple[ToolSpec, ...] = ALL, cancel_after: int = 0
) -> list:
    cancel, events = threading.Event(), []
    for event in backend.stream(messages, cancel, tools=tools):
        events.append(event)
        if cancel_after and isinstance(event, TextDelta) and event.tokens and len(events) >= cancel_after:
            cancel.set()
    return events


def of(events: list, kind: type) -> list:
    return [e for e in events if isinstance(e, kind)]


def first_call(backend: LlamaCppBackend, replies: Replies) -> tuple[list[Message], list, str]:
    """A question the greedy model answers with a call: its messages, events and raw reply."""
    for question in ["Read the file README.md and tell me what it says.", "Run the tests with pytest.",
                     "Search the code for 'def main'.", "List the files in src."]:  # fmt: skip
        messages = [SYSTEM, Message("user", question)]
        events = step(backend, messages)
        if of(events, ToolUse):
            return messages, events, replies.raw[-1]
    raise AssertionError("SmolLM2 called no tool for any question")


@pytest.mark.model
def test_the_local_backend_says_it_takes_tools(local_backend: LlamaCppBackend) -> None:
    assert local_backend.capabilities.tool_calls


@pytest.mark.model
def test_a_call_is_one_tool_use_then_tool_use_stop(local_backend: LlamaCppBackend, replies: Replies) -> None:
    messages, events, raw = first_call(local_backend, replies)
    [use] = of(events, ToolUse)
    assert use.call.name in TOOLS and isinstance(use.call.parsed(), dict)
    assert call_text(use.call) == raw and json.loads(raw)["tool"] == use.call.name
    assert events[-1] == TurnDone("tool_use")
    assert events.index(use) > max(events.index(d) for d in of(events, TextDelta))
    deltas, usage = of(events, TextDelta), of(events, Usage)[-1]
    assert "".join(d.text for d in deltas) == ""  # the user sees no JSON
    # every generated token counts, JSON included, and the prompt is what count_tokens counts
    assert usage.completion_tokens == sum(d.tokens for d in deltas) > 0
    assert usage.prompt_tokens == local_backend.count_tokens(messages, ALL).tokens
    assert usage.prompt_tokens > local_backend.count_tokens(messages).tokens  # the tools are described


@pytest.mark.model
def test_the_next_step_starts_with_this_steps_prompt_and_output(
    local_backend: LlamaCppBackend, replies: Replies
) -> None:
    messages, events, raw = first_call(local_backend, replies)
    [use] = of(events, ToolUse)
    detokenize = local_backend.llama.detokenize
    first = detokenize(local_backend.prompt_tokens(messages, ALL), special=True).decode()
    # What the model wrote, as the KV cache holds it (all but the last token, never evaluated).
    cached = detokenize(local_backend.cached_tokens(), special=True).decode()
    assert cached.startswith(first) and raw.startswith(cached[len(first) :])
    messages += [Message("assistant", "", tool_calls=(use.call,)), Message("tool", "# Demo\nA demo project.",
                                                                            tool_call_id=use.call.id)]  # fmt: skip
    second_tokens = local_backend.prompt_tokens(messages, ALL)
    second = detokenize(second_tokens, special=True).decode()
    assert second.startswith(first + raw)
    assert second.startswith(cached)
    events = step(local_backend, messages)
    assert isinstance(events[-1], TurnDone)
    usage = of(events, Usage)[-1]
    assert usage.prompt_tokens == len(second_tokens)
    # only the step's tail is evaluated: the result, and at most the reply's own tokens again
    new = len(second_tokens) - len(local_backend.prompt_tokens(messages[:2], ALL))
    assert usage.prompt_tokens_evaluated is not None and usage.prompt_tokens_evaluated <= new


@pytest.mark.model
def test_an_answer_streams_as_its_text(local_backend: LlamaCppBackend, replies: Replies) -> None:
    for question in ["What is 2+2?", "Say hello.", "What is Python?", "Thanks, that is all."]:
        events = step(local_backend, [SYSTEM, Message("user", question)])
        if not of(events, ToolUse):
            break
    else:
        raise AssertionError("SmolLM2 answered none of the questions")
    shown = "".join(d.text for d in of(events, TextDelta))
    assert shown == json.loads(replies.raw[-1])["answer"]
    assert events[-1] == TurnDone("end_turn")


@pytest.mark.model
def test_cancel_stops_a_tool_step_within_one_token(local_backend: LlamaCppBackend) -> None:
    events = step(local_backend, [SYSTEM, Message("user", "Read setup.py.")], cancel_after=1)
    assert [d.tokens for d in of(events, TextDelta)] == [1]
    assert events[-1] == TurnDone("cancelled") and not of(events, ToolUse)


@pytest.mark.model
def test_a_call_cut_by_max_tokens_is_said_as_written(smollm_path: Path, replies: Replies) -> None:
    backend = LlamaCppBackend(small_options(max_tokens=5), smollm_path)
    backend.load()
    try:
        _, events, raw = first_call(backend, replies)
    finally:
        backend.close()
    [use] = of(events, ToolUse)
    assert events[-1] == TurnDone("max_tokens")
    assert of(events, Usage)[-1].completion_tokens == 5
    assert use.call.arguments == raw or raw.endswith(use.call.arguments)  # the cut JSON
    with pytest.raises(ValueError):
        use.call.parsed()


@pytest.mark.model
def test_a_schema_that_cannot_be_a_grammar_fails_the_turn_in_one_line(local_backend: LlamaCppBackend) -> None:
    bad = ToolSpec("odd", "?", {"type": "object", "properties": {"x": {"$ref": "https://example.com/s.json"}}})
    events = step(local_backend, [SYSTEM, Message("user", "hi")], tools=(bad,))
    [error] = events
    assert isinstance(error, BackendError) and error.kind == "request" and "\n" not in error.message


# -- many steps: the grammar's guarantee ----------------------------------------------

ASKS = [
    "Read {path} and summarise it.", "What does {path} do?", "Find every use of {word} in the project.",
    "Search for 'TODO' in {path}.", "Run the test suite.", "Run `python {path}` and tell me the output.",
    "List the files in the project.", "Replace {word} with new_{word} in {path}.",
    "Create {path} with a hello world program.", "What is 6 times 7?", "Say thanks.", "Which files are there?",
    "Fix the bug in {path}.", "grep for {word}", "Show me {path}", "Is {word} defined anywhere?",
]  # fmt: skip
PATHS = ["README.md", "src/app.py", "setup.py", "tests/test_app.py", "docs/guide.md", "notes café.txt"]
WORDS = ["main", "parse_args", "Config", "TODO", "é", 'say "hi"']


def task_messages(rng: random.Random, tools: tuple[ToolSpec, ...]) -> list[Message]:
    """A question, sometimes after steps already taken (calls and their results)."""
    fill = {"path": rng.choice(PATHS), "word": rng.choice(WORDS)}
    messages = [SYSTEM, Message("user", rng.choice(ASKS).format(**fill))]
    for n in range(rng.choice([0, 0, 1, 2])):
        tool = rng.choice(tools)
        arguments = {k: fill["path"] if k == "path" else fill["word"] for k in tool.parameters.get("required", [])}
        call = ToolCall(f"call_{n}", tool.name, json.dumps(arguments, separators=(",", ":")))
        result = rng.choice(["def main():\n    print('hi')\n", "no matches", "3 passed in 0.1s", "README.md\nsrc/"])
        messages += [Message("assistant", "", tool_calls=(call,)),
                     Message("tool", result, tool_call_id=call.id, is_error=rng.random() < 0.2)]  # fmt: skip
    return messages


def valid_arguments(call: ToolCall) -> bool:
    schema = TOOLS[call.name].parameters
    arguments = call.parsed()
    return (isinstance(arguments, dict) and set(schema["required"]) <= set(arguments)
            and set(arguments) <= set(schema["properties"]))  # fmt: skip


@pytest.mark.slow
@pytest.mark.model
def test_over_a_hundred_steps_every_call_is_a_valid_call(smollm_path: Path, replies: Replies) -> None:
    """Varied questions, seeds, tool subsets and histories (the model's own steps fed
    back): 0 calls that do not parse, every turn ends with TurnDone."""
    rng = random.Random(2024)
    steps = calls = answers = cut = 0
    started = time.monotonic()
    for n, seed in enumerate((11, 22, 33, 44), 1):
        options = small_options(max_tokens=256, temperature=LlamaOptions().temperature, seed=seed)  # the app's
        backend = LlamaCppBackend(options, smollm_path)
        backend.load()
        try:
            while steps < 26 * n:
                tools = tuple(rng.sample(ALL, rng.randint(1, len(ALL))))
                messages = task_messages(rng, tools)
                for _ in range(4):  # a task: each call answered, until the model answers
                    events = step(backend, messages, tools)
                    steps += 1
                    assert isinstance(events[-1], TurnDone), events[-1]
                    raw = replies.raw[-1]
                    uses = of(events, ToolUse)
                    if events[-1].stop_reason == "max_tokens":
                        cut += 1
                        break
                    if not uses:
                        answers += 1
                        shown = "".join(d.text for d in of(events, TextDelta))
                        assert shown == json.loads(raw)["answer"]
                        break
                    [use] = uses
                    calls += 1
                    assert events[-1] == TurnDone("tool_use")
                    assert use.call.name in {t.name for t in tools}, use.call
                    assert json.loads(raw)["tool"] == use.call.name and valid_arguments(use.call), raw
                    messages = messages + [
                        Message("assistant", "", tool_calls=(use.call,)),
                        Message("tool", rng.choice(["ok", "line 1\nline 2", "error: not found"]),
                                tool_call_id=use.call.id),
                    ]  # fmt: skip
        finally:
            backend.close()
    elapsed = time.monotonic() - started
    print(f"\n{steps} steps ({calls} calls, {answers} answers, {cut} cut by max_tokens) in {elapsed:.1f}s")
    assert steps >= 100
    assert calls >= 50  # SmolLM2 under these tools calls far more often than it answers
    assert cut <= steps // 20  # rare with max_tokens 256 (a runaway string argument)
