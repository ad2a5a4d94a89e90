"""The welcome names each ready model whose quality nothing has measured yet (no
evaluation, no rated answer on code or edit) and how long `assistant eval --backend
NAME --limit 20` would take to measure it: from the backend's measured speed (the
ledger's turns, or its bench runs) × an answer's length (earlier evaluations' answers,
else HumanEval's own solutions in the backend's tokens), or unknown until a first turn.
The line is gone once an evaluation row (or a rating) exists."""

from __future__ import annotations

import statistics
import time

from assistant.backends.scripted import ScriptedBackend
from assistant.core import store
from assistant.core.conversation import Message
from assistant.core.evals import humaneval
from assistant.core.results import BenchResult
from assistant.core.store.ledger import Ledger
from assistant.core.store.records import EvalSample, TurnRecord
from assistant.ui.app import make_app
from tests.ui.helpers import wait_for
from tests.ui.test_routing_app import auto_config, two_backends
from tests.ui.test_welcome import welcome_text

COMMAND = "`assistant eval --backend local --limit 20`"


async def welcome_lines(backends: dict[str, ScriptedBackend]) -> list[str]:
    """The welcome's lines once it says where turns go (the plan and the unmeasured models come together)."""
    app = make_app(auto_config(), backends=backends)
    async with app.run_test(size=(200, 50)) as pilot:
        await wait_for(pilot, lambda: "Who answers now:" in welcome_text(app))
        return welcome_text(app).splitlines()


def unmeasured_line(lines: list[str], backend: str) -> str | None:
    found = [line for line in lines if line.startswith(f"{backend} · ") and "quality not measured yet" in line]
    assert len(found) <= 1, lines
    return found[0] if found else None


def sample(backend: str, model: str, task: int, *, tokens_out: int = 100, check_seconds: float = 0.0) -> EvalSample:
    return EvalSample("run1", time.time(), backend, model, "code", humaneval.TASK_SET, f"HumanEval/{task}", True, True,
                      "passed", tokens_out=tokens_out, model_seconds=3.0, check_seconds=check_seconds)  # fmt: skip


def seed_turns(backend: str, model: str, *, tokens_per_second: float, ttft: float, count: int = 3) -> None:
    with Ledger.open() as ledger:
        for i in range(count):
            ledger.record_turn(TurnRecord("seeded", time.time() - 100 + i, backend, model, "ok", prompt_tokens=50,
                                          completion_tokens=40, ttft=ttft, tokens_per_second=tokens_per_second,
                                          elapsed=ttft + 40 / tokens_per_second, cost=0.0))  # fmt: skip


async def test_an_unmeasured_model_is_named_with_its_command_until_an_evaluation_row_exists() -> None:
    lines = await welcome_lines(two_backends())
    local = unmeasured_line(lines, "local")
    assert local == (f"local · scripted-model: quality not measured yet — {COMMAND} measures it; "
                     "how long is unknown until a first turn measures its speed")  # fmt: skip
    assert unmeasured_line(lines, "claude") is not None  # each such backend has its line

    with Ledger.open() as ledger:  # one task of an evaluation of the local model: its quality is measured
        store.evals.record(ledger, sample("local", "scripted-model", 0))
    lines = await welcome_lines(two_backends())
    assert unmeasured_line(lines, "local") is None
    assert unmeasured_line(lines, "claude") is not None
    assert "  code: local's quality on code is not measured yet → claude" not in lines  # the router read it too


async def test_a_rated_answer_on_edit_measures_it_too_but_a_rated_chat_answer_does_not() -> None:
    with Ledger.open() as ledger:
        chat = ledger.record_turn(TurnRecord("s", time.time(), "local", "scripted-model", "ok", kind="chat"))
        store.ratings.rate(ledger, chat, "good", "rating", time.time())
    assert unmeasured_line(await welcome_lines(two_backends()), "local") is not None

    with Ledger.open() as ledger:
        edit = ledger.record_turn(TurnRecord("s", time.time(), "local", "scripted-model", "ok", kind="edit"))
        store.ratings.rate(ledger, edit, "bad", "rating", time.time())
    assert unmeasured_line(await welcome_lines(two_backends()), "local") is None


async def test_the_minutes_come_from_its_measured_speed_and_earlier_evaluations_answers() -> None:
    # 10 tok/s and 1 s to the first token, measured over three turns; earlier evaluations
    # (of another local model) answered in 290 tokens and ran their tests in 0.5 s:
    # 20 tasks × (1 + 290 / 10 + 0.5) s = 610 s.
    seed_turns("local", "scripted-model", tokens_per_second=10.0, ttft=1.0)
    with Ledger.open() as ledger:
        for task in range(4):
            store.evals.record(ledger, sample("local", "an-older-model", task, tokens_out=290, check_seconds=0.5))
            store.evals.record(ledger, sample("claude", "claude-sonnet-5-5", task, tokens_out=900))  # not local's
    local = unmeasured_line(await welcome_lines(two_backends()), "local")
    assert local == (f"local · scripted-model: quality not measured yet — {COMMAND} measures it in about 10 min "
                     "(measured: 10.0 tok/s, answers of 290 tokens in earlier evaluations)")  # fmt: skip


async def test_without_earlier_evaluations_the_answer_is_as_long_as_humaneval_s_solutions_in_its_tokens() -> None:
    seed_turns("local", "scripted-model", tokens_per_second=5.0, ttft=2.0)
    local = ScriptedBackend(["Local answer."], name="local")
    empty = local.count_tokens([]).tokens
    solutions = [f"```python\n{p.prompt}{p.canonical_solution}```" for p in humaneval.problems()[:20]]
    answer = statistics.fmean(local.count_tokens([Message("assistant", s)]).tokens - empty for s in solutions)
    minutes = round(20 * (2.0 + answer / 5.0) / 60)
    backends = two_backends()
    backends["local"] = local
    line = unmeasured_line(await welcome_lines(backends), "local")
    assert line == (f"local · scripted-model: quality not measured yet — {COMMAND} measures it in about {minutes} "
                    f"min (from its speed: 5.0 tok/s, answers as long as HumanEval's solutions, {answer:,.0f} tokens)")


async def test_bench_runs_alone_measure_its_speed() -> None:
    with Ledger.open() as ledger:
        bench = BenchResult(time.time(), "this machine", "local", "scripted-model", "short-prompt/short-answer", 3, 50,
                            100, 200.0, 20.0, 0.5, 0.1)  # fmt: skip
        ledger.record_bench([bench])
        store.evals.record(ledger, sample("claude", "claude-sonnet-5-5", 0, tokens_out=200))  # any backend's answers
    # 20 tasks × (0.5 + 200 / 20) s = 210 s
    local = unmeasured_line(await welcome_lines(two_backends()), "local")
    assert local is not None and local.endswith(
        "measures it in about 4 min (measured: 20.0 tok/s, answers of 200 tokens in earlier evaluations)"
    )
