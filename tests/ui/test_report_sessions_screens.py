"""/report and /sessions through Pilot."""

from __future__ import annotations

from assistant.backends.scripted import ScriptedBackend
from assistant.core.config import Config
from assistant.ui.app import make_app
from tests.render.test_cost import render
from tests.ui.helpers import send, wait_for
from tests.ui.test_sessions import chat


async def test_report_screen_shows_the_tables_and_a_chart_per_backend() -> None:
    from textual.widgets import Sparkline

    from assistant.render.report import series_label
    from assistant.ui.screens.report import ReportScreen

    app = make_app(Config(), backend=ScriptedBackend(["one two three four five"] * 5, delay=0.001))
    await chat(app, "a", "b", "c", "d")
    second = make_app(Config(), backend=ScriptedBackend(["x"]))
    async with second.run_test(size=(140, 50)) as pilot:
        await wait_for(pilot, lambda: second.session.backend.loaded)
        await send(pilot, "/report")
        await wait_for(pilot, lambda: isinstance(second.screen, ReportScreen) and second.screen.body is not None)
        screen = second.screen
        assert "scripted · scripted-model" in render(screen.body)
        (series,) = screen.series
        assert (series.backend, series.model, len(series.tps)) == ("scripted", "scripted-model", 4)
        await wait_for(pilot, lambda: len(screen.query(Sparkline)) == 1)
        # The chart is core's series, labelled with core's figures: the screen computes none.
        assert screen.query_one(Sparkline).data == series.tps
        assert [label.content for label in screen.query(".chart-label")] == [series_label(series)]
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(second.screen, ReportScreen))


async def test_a_model_named_like_markup_is_shown_as_written_on_the_report_screen() -> None:
    """The screen's console parses markup, the CLI's does not: a name from the ledger
    such as `[bold]m[/] [/x]` is text in both, and draws without an error."""
    import time

    from assistant.core.paths import Paths
    from assistant.core.store.ledger import Ledger, TurnRecord
    from assistant.ui.screens.report import ReportScreen

    name = "[bold]m[/] [/x] :smile:"
    ledger_file = Paths.resolve().ledger_file
    ledger_file.parent.mkdir(parents=True, exist_ok=True)
    with Ledger.open(ledger_file) as ledger:
        for i in range(3):
            ledger.record_turn(TurnRecord("s1", time.time() - 60 + i, "local", name, "ok", prompt_tokens=10,
                                          completion_tokens=5, tokens_per_second=20.0 + i, ttft=0.1))
    app = make_app(Config(), backend=ScriptedBackend(["x"]))
    async with app.run_test(size=(140, 50)) as pilot:
        await wait_for(pilot, lambda: app.session.backend.loaded)
        await send(pilot, "/report")
        await wait_for(pilot, lambda: isinstance(app.screen, ReportScreen) and app.screen.body is not None)
        await pilot.pause()
        assert f"local · {name}" in render(app.screen.body)
        assert [s.tps for s in app.screen.series] == [(20.0, 21.0, 22.0)]
        assert app.return_code is None and isinstance(app.screen, ReportScreen)


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
