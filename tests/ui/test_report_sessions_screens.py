"""/report and /sessions through Pilot."""

from __future__ import annotations

from assistant.backends.scripted import ScriptedBackend
from assistant.core.config import Config
from assistant.ui.app import make_app
from tests.ui.helpers import send, wait_for
from tests.ui.test_sessions import chat


async def test_report_screen_shows_the_tables_and_a_chart_per_backend() -> None:
    from textual.widgets import Sparkline

    from assistant.ui.screens.report import ReportScreen

    app = make_app(Config(), backend=ScriptedBackend(["one two three four five"] * 5, delay=0.001))
    await chat(app, "a", "b", "c", "d")
    second = make_app(Config(), backend=ScriptedBackend(["x"]))
    async with second.run_test(size=(140, 50)) as pilot:
        await wait_for(pilot, lambda: second.session.backend.loaded)
        await send(pilot, "/report")
        await wait_for(pilot, lambda: isinstance(second.screen, ReportScreen) and second.screen.rendered is not None)
        screen = second.screen
        assert "scripted · scripted-model" in screen.rendered
        assert list(screen.series) == ["scripted · scripted-model"] and len(screen.series["scripted · scripted-model"]) == 4
        await wait_for(pilot, lambda: len(screen.query(Sparkline)) == 1)
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(second.screen, ReportScreen))


async def test_sessions_screen_searches_and_resumes() -> None:
    from assistant.ui.screens.sessions import SessionsScreen

    first = make_app(Config(), backend=ScriptedBackend(["About lists."]))
    await chat(first, "tell me about lists")
    other = make_app(Config(), backend=ScriptedBackend(["About sets."]))
    await chat(other, "and sets")
    app = make_app(Config(), backend=ScriptedBackend(["x"]))
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_for(pilot, lambda: app.session.backend.loaded)
        await send(pilot, "/sessions")
        await wait_for(pilot, lambda: isinstance(app.screen, SessionsScreen) and len(app.screen.rows) == 2)
        screen = app.screen
        screen.query_one("#sessions-search").value = "lists"
        await wait_for(pilot, lambda: screen.rows == [first.session.session_id])
        screen.query_one("DataTable").focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.session.session_id == first.session.session_id)
        assert app.session.exchanges[0].user.content == "tell me about lists"


async def test_renaming_or_deleting_when_the_ledger_fails_is_one_line_and_the_screen_stays() -> None:
    """Before: a LedgerError (or no ledger at all) from rename/delete ended the app with a traceback."""
    from assistant.core.store.ledger import LedgerError
    from assistant.ui.screens.sessions import SessionsScreen

    first = make_app(Config(), backend=ScriptedBackend(["About lists."]))
    await chat(first, "tell me about lists")
    app = make_app(Config(), backend=ScriptedBackend(["x"]))
    async with app.run_test(size=(140, 40), notifications=True) as pilot:
        await wait_for(pilot, lambda: app.session.backend.loaded)
        await send(pilot, "/sessions")
        await wait_for(pilot, lambda: isinstance(app.screen, SessionsScreen) and len(app.screen.rows) == 1)
        screen = app.screen
        ledger = app.session.ledger()

        def failing(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
            raise LedgerError("cost ledger x: cannot write: disk I/O error")

        ledger.transaction = failing  # type: ignore[method-assign]
        screen.query_one("DataTable").focus()
        await pilot.press("ctrl+r")
        screen.query_one("#sessions-search").value = "new title"
        await pilot.press("enter")
        screen.query_one("DataTable").focus()
        await pilot.press("ctrl+d")
        await pilot.pause()
        said = [n.message for n in app._notifications]
        assert sum("cannot write: disk I/O error" in n for n in said) == 2, said
        assert all("\n" not in n for n in said)
        assert isinstance(app.screen, SessionsScreen) and app.return_code is None
