"""One route for one question: `assistant ask` and the TUI open their sessions the
same way (core/session/opening.py), so on the same home they route a question
alike, from the same measured speeds and ratings; and a backend the user named
is explained by how it was named."""

from __future__ import annotations

import contextlib
import io
import json
import threading
from typing import Any

import pytest

from assistant.backends.llama.backend import LlamaCppBackend
from assistant.backends.scripted import ScriptedBackend
from assistant.cli import main
from assistant.cli.context import backend_named_by
from assistant.cli.parser import parse_command_line
from assistant.core.config import Config
from assistant.core.paths import Paths
from assistant.core.session.chat import ChatSession
from assistant.core.session.opening import open_session
from assistant.core.store.ledger import Ledger
from assistant.ui.app import make_app
from tests.cli.test_cli_input import ask
from tests.conftest import SMALL, TEST_KEY, small_options
from tests.fake_anthropic import Answer, FakeAnthropic
from tests.ui.helpers import entries, wait_for
from tests.ui.test_routing_app import turns, two_backends


def route_line(err: str) -> str:
    [line] = [line for line in err.splitlines() if line.startswith("route: ")]
    return line


# -- a backend the user named -----------------------------------------------------------


def test_a_backend_named_with_the_flag_is_explained_as_named_with_the_flag() -> None:
    code, _, err = ask("--backend", "local", "--why", "hello")
    assert code == 0, err
    assert "rules: named with --backend → local" in route_line(err)


def test_a_backend_named_with_set_says_so() -> None:
    code, _, err = ask("--set", "general.backend=local", "--why", "hello")
    assert code == 0, err
    assert "rules: named with --set general.backend → local" in route_line(err)


def test_a_backend_named_in_the_config_file_says_so() -> None:
    config_file = Paths.resolve().config_file
    config_file.parent.mkdir(parents=True, exist_ok=True)
    config_file.write_text('[general]\nbackend = "local"\n')
    code, _, err = ask("--why", "hello")
    assert code == 0, err
    assert "rules: named in the config ([general] backend) → local" in route_line(err)


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["--backend", "claude"], "named with --backend"),
        (["--set", "general.backend=claude"], "named with --set general.backend"),
        (["--backend", "local", "--set", "general.backend=claude"], "named with --set general.backend"),
        ([], ""),
        (["ask", "--backend", "claude", "hi"], "named with --backend"),
    ],
)
def test_how_the_command_line_named_the_backend(argv: list[str], said: str) -> None:
    assert backend_named_by(parse_command_line(argv)) == said


async def test_the_tui_says_the_flag_until_model_names_another() -> None:
    seen: list = []
    config = Config().with_overrides({"general.backend": "claude"})
    app = make_app(config, backends=two_backends(), named_by="named with --backend")
    async with app.run_test(size=(130, 40), message_hook=seen.append) as pilot:
        await wait_for(pilot, lambda: app.session.backend_named("local").loaded)
        await turns(pilot, seen, "hi")
        assert "rules: named with --backend → claude" in [e for e in entries(app) if e.kind == "answer"][-1].badge
        app.session.use("local")
        await turns(pilot, seen, "and you?")
        assert "/model local → local" in [e for e in entries(app) if e.kind == "answer"][-1].badge


# -- the same question, the same route --------------------------------------------------


def settings(fake: FakeAnthropic) -> dict[str, Any]:
    """What `ask` is given as `--set`s and the TUI as its config: small greedy answers
    from the real SmolLM2, Claude through the loopback Messages API."""
    return {
        **{f"backends.local.{key}": value for key, value in SMALL.items()},
        "backends.claude.base_url": fake.base_url,
        "backends.claude.api_key": TEST_KEY,
        "backends.claude.max_retries": 0,
    }


def seed_bad_local_answers(config: Config, count: int) -> str:
    """`count` chat turns answered by the real local model, each rated bad, as a
    user's `ask … ; assistant rate last last bad` leaves them; its model's name."""
    local = LlamaCppBackend(small_options())
    local.load()
    session = ChatSession(config, local, ledger=Ledger.open)
    try:
        for _ in range(count):
            result = session.run_turn("hello there", threading.Event())
            assert result.outcome == "ok" and result.decision is not None and result.decision.kind == "chat"
            session.rate("bad", result)
    finally:
        session.close()
    return result.model


def ask_json(options: dict[str, Any], question: str) -> dict[str, Any]:
    sets = [arg for key, value in options.items() for arg in ("--set", f"{key}={value}")]
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["ask", "--json", *sets, question])
    assert code == 0, err.getvalue()
    return json.loads(out.getvalue())


@pytest.mark.model
async def test_ask_and_the_tui_route_the_same_question_alike_from_the_same_ledger(fake: FakeAnthropic) -> None:
    options = settings(fake)
    config = Config().with_overrides(options)
    model = seed_bad_local_answers(config, 6)

    fake.enqueue(Answer("Hello from Claude."))
    asked = ask_json(options, "hello there")
    by_ask = asked["route"]
    # `ask` learned from what it recorded: local's ratings and its measured speed
    assert "local 0/6 good" in by_ask["reason"]
    [local_estimate] = [e for e in by_ask["estimates"] if e["backend"] == "local"]
    assert local_estimate["seconds"] is not None and local_estimate["basis"].startswith("measured over")
    assert (local_estimate["quality"]["good"], local_estimate["quality"]["bad"]) == (0, 6)

    fake.enqueue(Answer("Hello again from Claude."))
    seen: list = []
    app = make_app(config)  # the real local model, loaded as the TUI starts, and the real Claude backend
    async with app.run_test(size=(130, 40), message_hook=seen.append) as pilot:
        await wait_for(pilot, lambda: app.session.backend_named("local").loaded)
        assert app.session.backend_named("local").model_name == model
        await turns(pilot, seen, "hello there")
        decision = app.session.last.decision
    assert decision is not None
    assert (decision.backend, decision.decided_by, decision.reason, decision.kind) == (
        by_ask["backend"], by_ask["router"], by_ask["reason"], by_ask["kind"],
    )
    assert decision.backend == "claude"


@pytest.mark.model
def test_the_local_model_has_one_name_before_and_after_it_loads() -> None:
    local = LlamaCppBackend(small_options())
    before = local.model_name
    local.load()
    try:
        assert local.model_name == before
        assert before != local.model_path.stem  # the GGUF's own name, not the file's
    finally:
        local.close()


def test_ask_and_the_tui_offer_the_backends_in_one_order() -> None:
    """Ties (nothing measured) go to the first candidate: both see this machine's first."""
    session = open_session(Config(), ledger=False)
    app = make_app(Config(), ledger=False)
    try:
        assert session.backend_names() == app.session.backend_names()
        assert session.backend_names()[0] == "local"
    finally:
        session.close()
        app.session.close()


def test_a_backend_handed_in_fixes_the_session() -> None:
    backend = ScriptedBackend(["Hi."], name="local")
    session = open_session(Config(), backend=backend, ledger=False)
    try:
        assert session.mode == "local" and session.backend is backend
    finally:
        session.close()
