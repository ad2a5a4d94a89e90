"""Rating answers in the app through Pilot: /good and /bad on the last answer, the
keys on an answer selected in the transcript (Shift+Tab, ↑, +/−), and /keep after
/retry other, each landing in the real ledger the quality router reads."""

from __future__ import annotations

from assistant.core.store.ledger import Ledger
from assistant.ui.app import make_app
from assistant.ui.widgets.prompt import PromptInput
from assistant.ui.widgets.rendered import SELECTED_HINT, History
from tests.stored import rated_answers
from tests.ui.helpers import send, transcript_text, wait_for
from tests.ui.test_routing_app import auto_config, turns, two_backends


def rated() -> list[tuple[str, str, bool]]:
    with Ledger.open() as ledger:
        return rated_answers(ledger)


async def test_good_and_bad_rate_the_last_answer() -> None:
    seen: list = []
    app = make_app(auto_config(), backends=two_backends(["One.", "Two."]))
    async with app.run_test(size=(130, 40), message_hook=seen.append) as pilot:
        await wait_for(pilot, lambda: app.session.backend_named("local").loaded)
        await send(pilot, "/good")
        await wait_for(pilot, lambda: "Not rated: there is no recorded answer" in transcript_text(app))
        await turns(pilot, seen, "why is the sky blue?")
        await send(pilot, "/good")
        await wait_for(pilot, lambda: "Rated good: the answer of local · scripted-model; the quality router counts it for explain turns" in transcript_text(app))
    assert rated() == [("local", "explain", True)]


async def test_an_answer_selected_in_the_transcript_is_rated_by_its_key() -> None:
    seen: list = []
    app = make_app(auto_config(), backends=two_backends(["One.", "Two."]))
    async with app.run_test(size=(130, 40), message_hook=seen.append) as pilot:
        await wait_for(pilot, lambda: app.session.backend_named("local").loaded)
        # @local: unrated, the local model is not trusted with code turns unasked
        await turns(pilot, seen, "why is the sky blue?", "@local write a function that adds two numbers")
        await pilot.press("shift+tab")
        history = app.query_one(History)
        assert app.focused is history and history.selected_entry.text == "Two."
        await pilot.press("up")
        assert history.selected_entry.text == "One."
        assert SELECTED_HINT.strip() in "\n".join(str(line.text) for line in history.lines_at(history.content_size.width))
        await pilot.press("minus")
        await wait_for(pilot, lambda: "Rated bad: the answer of local" in transcript_text(app))
        await pilot.press("down", "plus")
        await wait_for(pilot, lambda: "counts it for code turns" in transcript_text(app))
        await pilot.press("escape")
        assert isinstance(app.focused, PromptInput) and history.selected is None
    assert sorted(rated()) == [("local", "code", True), ("local", "explain", False)]


async def test_keep_after_retry_other_goes_on_from_the_first_answer() -> None:
    seen: list = []
    app = make_app(auto_config(), backends=two_backends())
    async with app.run_test(size=(130, 40), message_hook=seen.append) as pilot:
        await wait_for(pilot, lambda: app.session.backend_named("local").loaded)
        await turns(pilot, seen, "why is the sky blue?", "/retry other")
        await send(pilot, "/keep")
        await wait_for(pilot, lambda: "Kept the first answer (local · scripted-model)" in transcript_text(app))
        assert app.session.exchanges[-1].answer.content == "Local answer."
    assert sorted(rated()) == [("claude", "explain", False), ("local", "explain", True)]
