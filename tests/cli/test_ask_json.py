"""`assistant ask --json` and `--stream-json`, each object checked against the shipped
schema (assistant/data/run.schema.json): a local turn, a Claude turn through the
loopback Messages API, a fallback, a cancelled turn and a failure."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from importlib import resources
from pathlib import Path

import jsonschema
import pytest

from assistant.backends.scripted import ScriptedBackend
from tests.cli.test_cli_input import ask, claude_flags
from tests.conftest import TEST_KEY
from tests.fake_anthropic import OVERLOADED, Answer, FakeAnthropic
from tests.patience import PATIENCE

SCHEMA = json.loads(resources.files("assistant.data").joinpath("run.schema.json").read_text())


def valid(obj: dict) -> dict:
    jsonschema.validate(obj, SCHEMA)
    return obj


def test_json_is_one_object_for_a_local_turn() -> None:
    code, out, err = ask("--json", "why is the sky blue?", backend=ScriptedBackend(["Rayleigh scattering."], name="local"))
    assert code == 0
    [done] = [valid(json.loads(line)) for line in out.splitlines()]
    assert done["type"] == "done" and done["outcome"] == "ok" and done["answer"] == "Rayleigh scattering."
    assert done["backend"] == "local" and done["kind"] == "explain" and done["route"]["router"] == "rules"
    assert done["cost"] == {"dollars": 0.0, "known": True, "why_unknown": None} and isinstance(done["turn_id"], int)
    assert done["tokens"]["out"] > 0 and "Rayleigh" not in err  # the answer is in the object, not on stderr too


def test_stream_json_is_the_turn_as_it_runs_and_the_finished_turn_last() -> None:
    code, out, _ = ask("--stream-json", "hello", backend=ScriptedBackend(["Hi there friend."], name="local"))
    assert code == 0
    objects = [valid(json.loads(line)) for line in out.splitlines()]
    kinds = [o["type"] for o in objects]
    assert kinds[0] == "route" and kinds[-1] == "done" and "text" in kinds and "usage" in kinds
    assert "".join(o["text"] for o in objects if o["type"] == "text") == objects[-1]["answer"] == "Hi there friend."


def test_a_claude_turn_carries_its_price_and_cache_figures(fake: FakeAnthropic) -> None:
    fake.enqueue(Answer("A monad is a monoid in the category of endofunctors."))
    fake.enqueue(Answer("A functor maps arrows."))
    code, out, _ = ask("--json", *claude_flags(fake.base_url), "what is a monad?")
    assert code == 0
    first = valid(json.loads(out))
    assert first["backend"] == "claude" and first["cost"]["known"] and first["cost"]["dollars"] > 0
    assert first["tokens"]["cache_write"] > 0 and not first["tokens"]["estimated"]  # the system prompt, cached
    code, out, _ = ask("--json", *claude_flags(fake.base_url), "what is a functor?")
    second = valid(json.loads(out))
    assert code == 0 and second["tokens"]["cache_read"] > 0  # and read back on the next ask


def test_a_fallback_is_an_event_and_the_finished_turn_names_it(fake: FakeAnthropic) -> None:
    fake.enqueue(OVERLOADED)
    code, out, _ = ask("--stream-json", *claude_flags(fake.base_url), "hello?")
    assert code == 0
    objects = [valid(json.loads(line)) for line in out.splitlines()]
    [fallback] = [o for o in objects if o["type"] == "fallback"]
    assert (fallback["from"], fallback["to"]) == ("claude", "local")
    assert objects[-1]["backend"] == "local" and objects[-1]["fallback_from"] == "claude"


def test_a_failure_is_an_object_with_its_error_and_exit_1(fake: FakeAnthropic) -> None:
    fake.enqueue(OVERLOADED)
    code, out, err = ask("--json", *claude_flags(fake.base_url), "--set", "router.fallback=[]", "hello?")
    assert code == 1
    done = valid(json.loads(out))
    assert done["outcome"] == "error" and done["error"]["kind"] == "overloaded" and done["answer"] == ""
    assert len(err.strip().splitlines()) == 1  # and the one line on stderr


def test_a_cancelled_turn_keeps_its_partial_answer_and_exits_130(assistant_home: Path) -> None:
    with FakeAnthropic(api_key=TEST_KEY, tokens_per_second=20) as slow:
        slow.enqueue(Answer(" ".join(f"word{i}" for i in range(400))))
        proc = subprocess.Popen(
            [sys.executable, "-m", "assistant", "ask", "--stream-json", *claude_flags(slow.base_url), "a long story"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, "ASSISTANT_HOME": str(assistant_home)},
        )
        assert proc.stdout is not None
        while b'"type": "text"' not in proc.stdout.readline():  # the answer has started streaming
            pass
        proc.send_signal(signal.SIGINT)
        rest, _ = proc.communicate(timeout=PATIENCE)
    assert proc.returncode == 130
    done = valid(json.loads(rest.decode().splitlines()[-1]))
    assert done["outcome"] == "cancelled" and done["answer"].startswith("word")


@pytest.mark.parametrize("flags", [["--json", "--stream-json"]])
def test_json_and_stream_json_are_one_or_the_other(flags: list[str], capsys) -> None:
    from assistant.cli.commands import main

    with pytest.raises(SystemExit) as caught:
        main(["ask", *flags, "hi"])
    assert caught.value.code == 2
