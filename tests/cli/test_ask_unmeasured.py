"""`assistant ask` says once per model, on stderr, that its quality is not measured yet
and how long `assistant eval --backend NAME --limit 20` would take to measure it (the
welcome's line); never with --json, never for a model an evaluation or a rating measured."""

from __future__ import annotations

import json
import time

import pytest

from assistant.backends.scripted import ScriptedBackend
from assistant.core import store
from assistant.core.evals.unmeasured import SAID_FOLDER
from assistant.core.paths import Paths
from assistant.core.store.ledger import Ledger
from tests.cli.test_cli_input import ask, claude_flags
from tests.fake_anthropic import Answer, FakeAnthropic
from tests.ui.test_welcome_unmeasured import sample, seed_turns

@pytest.fixture(autouse=True)
def a_person_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    """stderr is a terminal here (a script reading it is never told: tested last)."""
    monkeypatch.setattr("assistant.cli.ask._a_person_reads_stderr", lambda: True)


LINE = "assistant: local · scripted-model: quality not measured yet — `assistant eval --backend local --limit 20`"


def said(err: str) -> list[str]:
    return [line for line in err.splitlines() if "quality not measured yet" in line]


def markers() -> list[str]:
    folder = Paths.resolve().data_dir.joinpath(*SAID_FOLDER)
    return sorted(path.read_text() for path in folder.iterdir()) if folder.is_dir() else []


def test_the_first_answer_of_an_unmeasured_model_says_what_measuring_it_takes_once() -> None:
    # Measured: 10 tok/s and 1 s to the first token (five turns: the ask's own turn does not move
    # the medians); earlier evaluations of another local model answered in 290 tokens.
    seed_turns("local", "scripted-model", tokens_per_second=10.0, ttft=1.0, count=5)
    with Ledger.open() as ledger:
        store.evals.record(ledger, sample("local", "an-older-model", 0, tokens_out=290))
    code, out, err = ask("--backend", "local", "hello")
    assert code == 0, err
    assert out == "Fine.\n"  # stdout holds the answer alone
    assert said(err) == [f"{LINE} measures it in about 10 min "
                         "(measured: 10.0 tok/s, answers of 290 tokens in earlier evaluations)"]  # fmt: skip
    assert markers() == ["local · scripted-model: told its quality is not measured yet\n"]

    code, _, err = ask("--backend", "local", "hello again")
    assert code == 0 and said(err) == []  # said once

    other = ScriptedBackend(["Fine."], name="local", model_name="another-model")
    code, _, err = ask("--backend", "local", "hello", backend=other)
    assert code == 0 and [line.split(":")[1] for line in said(err)] == [" local · another-model"]  # its own once


def test_json_says_nothing_and_leaves_it_to_say_later() -> None:
    code, out, err = ask("--backend", "local", "--json", "hello")
    assert code == 0 and json.loads(out)["answer"] == "Fine."
    assert said(err) == [] and markers() == []
    code, _, err = ask("--backend", "local", "hello")
    assert code == 0 and [line.startswith(LINE) for line in said(err)] == [True]


def test_a_model_an_evaluation_measured_is_not_said() -> None:
    with Ledger.open() as ledger:
        store.evals.record(ledger, sample("local", "scripted-model", 0))
    code, _, err = ask("--backend", "local", "hello")
    assert code == 0 and said(err) == [] and markers() == []


def test_a_task_s_model_is_said_once_too(fake: FakeAnthropic) -> None:
    fake.enqueue(Answer("Nothing to do."), Answer("Nothing to do."))
    code, _, err = ask("--task", *claude_flags(fake.base_url), "look around")
    assert code == 0, err
    [line] = said(err)
    assert line.startswith("assistant: claude · ") and "`assistant eval --backend claude --limit 20`" in line
    code, _, err = ask("--task", *claude_flags(fake.base_url), "look around again")
    assert code == 0 and said(err) == []


def test_a_rated_code_answer_measures_it() -> None:
    with Ledger.open() as ledger:
        turn = ledger.record_turn(store.TurnRecord("s", time.time(), "local", "scripted-model", "ok", kind="code"))
        store.ratings.rate(ledger, turn, "good", "rating", time.time())
    code, _, err = ask("--backend", "local", "hello")
    assert code == 0 and said(err) == []


def test_a_script_reading_stderr_gets_its_one_figures_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("assistant.cli.ask._a_person_reads_stderr", lambda: False)
    code, _, err = ask("--backend", "local", "hello")
    assert code == 0 and said(err) == [] and markers() == []
