"""The app asks before a message holding what looks like a key goes to the cloud
backend the person named (`@claude …`, `/model claude`): y sends it there; n, Enter
or Esc let the privacy router keep it on this machine. Without a backend named, it
stays here without asking."""

from __future__ import annotations

from assistant.ui.app import make_app
from assistant.ui.messages import TurnFinished
from assistant.ui.screens.secret import SecretScreen
from tests.ui.helpers import entries, send, wait_for
from tests.ui.test_routing_app import auto_config, turns, two_backends

KEY = "sk_live_51HxYzQ8rT2vLm9NbC4kW7pXs3AdEf6Gh"


def answers(app) -> list:
    return [e for e in entries(app) if e.kind == "answer"]


async def held(pilot, seen: list, text: str, key: str) -> None:
    """Send `text`, see the question, answer it with `key`, wait for the turn."""
    done = len([m for m in seen if isinstance(m, TurnFinished)]) + 1
    await send(pilot, text)
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, SecretScreen))
    said = str(pilot.app.screen.query_one("#said Static").render())
    assert "The message holds what looks like a Stripe live key." in said and KEY[8:] not in said
    await pilot.press(key)
    await wait_for(pilot, lambda: len([m for m in seen if isinstance(m, TurnFinished)]) >= done)


async def test_claude_over_a_typed_key_asks_first_and_n_or_esc_keep_it_here() -> None:
    backends = two_backends(local_answers=("Here.", "Here again."))
    seen: list = []
    app = make_app(auto_config(), backends=backends)
    async with app.run_test(size=(130, 40), message_hook=seen.append) as pilot:
        await wait_for(pilot, lambda: app.session.backend_named("local").loaded)
        for key in ("n", "escape"):
            await held(pilot, seen, f"@claude list charges with key {KEY}", key)
            last = answers(app)[-1]
            assert last.label.startswith("local") and "privacy: the message holds what looks like" in last.badge
        assert backends["claude"].seen == []


async def test_y_sends_it_to_the_backend_named() -> None:
    backends = two_backends()
    seen: list = []
    app = make_app(auto_config(), backends=backends)
    async with app.run_test(size=(130, 40), message_hook=seen.append) as pilot:
        await wait_for(pilot, lambda: app.session.backend_named("local").loaded)
        await held(pilot, seen, f"@claude list charges with key {KEY}", "y")
        assert answers(app)[-1].label.startswith("claude")
        [prompt] = backends["claude"].seen
        assert KEY in prompt[-1].content


async def test_without_a_backend_named_it_stays_here_unasked() -> None:
    backends = two_backends()
    seen: list = []
    app = make_app(auto_config(), backends=backends)
    async with app.run_test(size=(130, 40), message_hook=seen.append) as pilot:
        await wait_for(pilot, lambda: app.session.backend_named("local").loaded)
        await turns(pilot, seen, f"@quality list charges with key {KEY}")
        assert not any(isinstance(m, SecretScreen) for m in app.screen_stack)
        assert answers(app)[-1].label.startswith("local") and backends["claude"].seen == []
