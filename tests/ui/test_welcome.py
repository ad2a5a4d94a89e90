"""The first minute: an empty transcript welcomes, says which backends can answer
and why the others cannot, and goes away with the first turn; it is never stored,
so a resumed chat shows its own turns instead."""

from __future__ import annotations

from assistant.backends.scripted import ScriptedBackend
from assistant.ui.app import make_app
from assistant.ui.widgets.transcript import Transcript
from tests.ui.helpers import entries, send, wait_for
from tests.ui.test_routing_app import auto_config, turns, two_backends


def welcome_text(app) -> str:  # noqa: ANN001
    welcome = app.query_one(Transcript).welcome
    return str(welcome.render()) if welcome is not None else ""


async def test_the_welcome_says_who_can_answer_and_why_not_and_goes_with_the_first_turn() -> None:
    seen: list = []
    local = ScriptedBackend(["Hi."], name="local")
    app = make_app(auto_config(), backends={"local": local})  # claude: the real one, without a key
    async with app.run_test(size=(130, 40), message_hook=seen.append) as pilot:
        await wait_for(pilot, lambda: "✓ local · scripted-model: ready" in welcome_text(app))
        text = welcome_text(app)
        assert "✗ claude:" in text and "ANTHROPIC_API_KEY" in text  # why not, and what to do
        assert "/refactor PATH" in text and "/cost" in text
        assert not [e for e in entries(app) if "Not available" in e.text]  # said once, in the welcome
        await turns(pilot, seen, "hello")
        assert app.query_one(Transcript).welcome is None


async def test_a_resumed_chat_has_no_welcome_and_stored_none() -> None:
    seen: list = []
    app = make_app(auto_config(), backends={"local": ScriptedBackend(["Hi."], name="local")})
    async with app.run_test(size=(130, 40), message_hook=seen.append) as pilot:
        await wait_for(pilot, lambda: "ready" in welcome_text(app))
        await turns(pilot, seen, "hello")
        session_id = app.session.session_id
    again = make_app(auto_config(), backends={"local": ScriptedBackend(["Again."], name="local")}, resume=session_id)
    async with again.run_test(size=(130, 40)) as pilot:
        await wait_for(pilot, lambda: any(e.kind == "answer" for e in entries(again)))
        assert again.query_one(Transcript).welcome is None
        assert [e.text for e in entries(again) if e.kind in ("user", "answer")] == ["hello", "Hi."]


async def test_the_welcome_says_where_each_kind_of_turn_goes_as_the_router_then_does() -> None:
    seen: list = []
    app = make_app(auto_config(), backends=two_backends())  # nothing rated yet
    async with app.run_test(size=(130, 40), message_hook=seen.append) as pilot:
        await wait_for(pilot, lambda: "Who answers now:" in welcome_text(app))
        said = welcome_text(app).splitlines()
        assert "  code: local's quality on code is not measured yet → claude" in said
        assert "  edit: local's quality on edit is not measured yet → claude" in said
        [cheap] = [line for line in said if line.startswith("  chat, explain: ")]
        assert cheap.endswith("→ local")
        assert "cheapest backend whose answers are good enough" not in welcome_text(app)
        await turns(pilot, seen, "write a function that parses dates")
        decision = app.session.last.decision
        assert (decision.backend, decision.kind) == ("claude", "code")
        assert f"  code: {decision.reason}" in said  # the welcome said it, the turn did it


async def test_with_one_backend_the_welcome_says_every_turn_goes_there_and_why() -> None:
    app = make_app(auto_config(), backends={"local": ScriptedBackend(["Hi."], name="local")})  # claude: no key
    async with app.run_test(size=(130, 40)) as pilot:
        await wait_for(pilot, lambda: "Who answers now:" in welcome_text(app))
        said = welcome_text(app)
        assert "  Every turn: claude is unavailable (no API key); only local is available → local" in said
