"""The benchmark's cases: a short or a long prompt, each with a short or a long
answer, the same text on every machine so that figures compare. The long prompt
is a realistic module of about 1,500 tokens, kept as data
(`assistant/data/benchmark_code.txt`) rather than as a string in the code."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

from assistant.core.conversation import Message

SHORT_ANSWER, LONG_ANSWER = 32, 256  # max_tokens of an answer
QUICK_SHORT_ANSWER, QUICK_LONG_ANSWER = 16, 64
CODE_FILE = "benchmark_code.txt"

SYSTEM = "You are a concise, expert programming assistant."
SHORT_QUESTION = "What does the acronym HTTP stand for? Answer in one short sentence."
LONG_QUESTION = (
    "Explain in detail, step by step, how a hash table stores and finds keys: hashing, "
    "buckets, collisions, load factor and resizing. Give examples in Python."
)
CONTEXT = "Here is a module of our code base:\n\n```python\n{code}```\n\n"
CONTEXT_SHORT_QUESTION = "In one sentence: what does `synchronise` return?"
CONTEXT_LONG_QUESTION = (
    "Review this module in detail: list every bug and risk you find (retries, the cursor "
    "loop, the database, error handling) and show the corrected code for each."
)


@dataclass(frozen=True, slots=True)
class BenchCase:
    name: str
    messages: tuple[Message, ...]
    max_tokens: int  # the answer's bound, whatever the backend's setting


def _case(name: str, question: str, max_tokens: int) -> BenchCase:
    return BenchCase(name, (Message("system", SYSTEM), Message("user", question)), max_tokens)


def bench_cases(*, quick: bool = False) -> tuple[BenchCase, ...]:
    """The four cases; `quick` bounds the answers tighter (16/64 tokens instead of 32/256)."""
    short, long = (QUICK_SHORT_ANSWER, QUICK_LONG_ANSWER) if quick else (SHORT_ANSWER, LONG_ANSWER)
    context = CONTEXT.format(code=resources.files("assistant.data").joinpath(CODE_FILE).read_text(encoding="utf-8"))
    return (
        _case("short-prompt/short-answer", SHORT_QUESTION, short),
        _case("short-prompt/long-answer", LONG_QUESTION, long),
        _case("long-prompt/short-answer", context + CONTEXT_SHORT_QUESTION, short),
        _case("long-prompt/long-answer", context + CONTEXT_LONG_QUESTION, long),
    )
