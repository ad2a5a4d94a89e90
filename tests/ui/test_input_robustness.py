"""Typed input through the real app (issue 10): a `~` in a sentence, a turn that
raises, a megabyte pasted in, and outside text with brackets in it. The app
answers or says one line, never hangs, and Esc always works."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.style import Style
from textual import events

from assistant.backends.scripted import ScriptedBackend
from assistant.core.config import Config
from assistant.core.events import BackendError, Notice
from assistant.ui.app import make_app
from assistant.ui.messages import TurnFinished, TurnNotice
from assistant.ui.widgets.prompt import PASTE_INLINE_CHARS, PromptInput
from assistant.ui.widgets.rendered import entry_parts
from tests.ui.helpers import entries, send, streaming, transcript_text, wait_for

BRACKETED = "[overloaded_error] the API is busy [/oops] see app/[id]/page.tsx [bold]"


def finished(seen: list) -> list:
    return [m.result for m in seen if isinstance(m, TurnFinished)]


def notices(app) -> list[str]:
    return [n.message for n in app._notifications]


def toasts(app) -> str:
    """What the toasts on screen show, as text (as markup, `[overloaded_error]` vanished)."""
    from textual.widgets._toast import Toast

    return "\n".join(toast.render().plain for toast in app.screen.query(Toast))


async def test_a_tilde_in_a_sentence_is_answered_with_no_home_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    # Before: mentioned_files raised in the worker and the turn stayed at "routing…".
    monkeypatch.delenv("HOME", raising=False)
    seen: list = []
    backend = ScriptedBackend(["Yes, fine."])
    app = make_app(Config(), backend=backend, ledger=False)
    async with app.run_test(size=(100, 30), message_hook=seen.append) as pilot:
        await wait_for(pilot, lambda: backend.loaded)
        await send(pilot, "it costs ~5/month, is that ok? and ~nobody/x.py ~/notes.md")
        await wait_for(pilot, lambda: finished(seen))
        assert finished(seen)[0].outcome == "ok"
        assert "Yes, fine." in transcript_text(app)


async def test_a_turn_that_raises_ends_with_one_line_and_the_app_goes_on() -> None:
    backend = ScriptedBackend(["Answered."])
    seen: list = []
    app = make_app(Config(), backend=backend, ledger=False)
    async with app.run_test(size=(100, 30), message_hook=seen.append) as pilot:
        await wait_for(pilot, lambda: backend.loaded)
        real = app.session.run_turn

        def broken(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
            raise RuntimeError("Could not determine home directory.\nsecond line")

        app.session.run_turn = broken  # type: ignore[method-assign]
        await send(pilot, "hello")
        await wait_for(pilot, lambda: not app.busy and app.stream.answer is None)
        await pilot.pause()
        text = transcript_text(app)
        assert "Error: RuntimeError: Could not determine home directory." in text
        assert "second line" not in text and "Traceback" not in text
        assert any("RuntimeError" in n for n in notices(app))
        assert app.state == "ready" and "routing…" not in text
        app.session.run_turn = real  # type: ignore[method-assign]
        await send(pilot, "again")
        await wait_for(pilot, lambda: finished(seen))
        assert "Answered." in transcript_text(app)


async def test_a_megabyte_paste_is_sent_in_full_while_the_app_stays_responsive_and_esc_cancels() -> None:
    """The mechanism that keeps the app responsive, which load cannot break: the prompt
    holds a marker and the transcript a shortened text (never a megabyte in a widget),
    the whole text goes to the backend, and Esc ends the answer long before its end.
    How long the loop pauses and how fast Esc lands are measured by bench/paste_stall.py."""
    words = 3000
    # a window that takes a megabyte (its whole context), so that a huge prompt is answered, not refused
    backend = ScriptedBackend([" ".join(f"w{i}" for i in range(words))], delay=0.01, context_size=10_000_000)
    seen: list = []
    app = make_app(Config(), backend=backend, ledger=False)
    async with app.run_test(size=(100, 30), message_hook=seen.append) as pilot:
        await wait_for(pilot, lambda: backend.loaded)
        big = ("lorem ipsum dolor " * 60_000)[:1_000_000]
        prompt = app.query_one(PromptInput)
        app.post_message(events.Paste(big))  # as a terminal's paste arrives: to the app
        await wait_for(pilot, lambda: "pasted #1" in prompt.text)
        assert len(prompt.text) < 100  # the prompt shows a marker, not a megabyte
        await pilot.press("enter")
        await wait_for(pilot, lambda: streaming(app, 3))
        await pilot.press("escape")
        await wait_for(pilot, lambda: finished(seen))
        (result,) = finished(seen)
        assert result.outcome == "cancelled"
        # Stopped between two tokens, long before the answer's 2 * 3,000 (words and spaces).
        assert 0 < len(entries(app)[1].text.split()) < words
        assert backend.seen[0][-1].content == big  # sent in full
        assert entries(app)[0].text == big  # kept in full...
        (shown,) = [part.make() for part in entry_parts(entries(app)[0], lambda _: Style())]
        assert len(shown.plain) < 5_000 and "(shortened: 1,000,000 characters in all" in shown.plain  # ...shown short


async def test_a_pasted_text_keeps_its_own_marker_like_words() -> None:
    app = make_app(Config(), backend=ScriptedBackend(), preload=False, ledger=False)
    async with app.run_test(size=(100, 30)) as pilot:
        prompt = app.query_one(PromptInput)
        first = "x" * 20_000 + " ‹pasted #2: 5 characters, 1 line›"
        app.post_message(events.Paste(first))
        app.post_message(events.Paste("y" * 20_000))
        await pilot.pause()
        assert prompt.expanded(prompt.text) == first + "y" * 20_000
        app.post_message(events.Paste("short"))
        await pilot.pause()
        assert prompt.expanded(prompt.text) == first + "y" * 20_000 + "short"


def generated_pastes() -> list[str]:
    """Short and long pastes, either side of the length that is kept behind a marker."""
    found: list[str] = []
    # Line breaks other than \n (\r, \x1e, \u2028, ...) become \n in a TextArea: left out.
    breaks = "".join(c for c in map(chr, range(0x3000)) if len(f"a{c}b".splitlines()) > 1 and c != "\n")
    text = st.text(st.characters(exclude_characters=breaks, exclude_categories=("Cs",)), max_size=40)

    @settings(max_examples=60, database=None)
    @given(text, st.sampled_from([0, 1, PASTE_INLINE_CHARS - 41, PASTE_INLINE_CHARS, PASTE_INLINE_CHARS + 1, 30_000]))
    def draw(words: str, length: int) -> None:
        found.append(words + "z" * length)

    draw()
    return found


async def test_a_paste_lands_in_the_prompt_once_whole() -> None:
    """A terminal's paste goes to the app, which hands it to the prompt: what the prompt
    then holds (its markers expanded) is the pasted text, once (a short paste was once
    inserted twice: by the prompt and again by TextArea's own handler)."""
    app = make_app(Config(), backend=ScriptedBackend(), preload=False, ledger=False)
    async with app.run_test(size=(100, 30)) as pilot:
        prompt = app.query_one(PromptInput)
        for pasted in generated_pastes():
            prompt.clear()
            app.post_message(events.Paste(pasted))
            await pilot.pause()
            assert prompt.expanded(prompt.text) == pasted, (len(pasted), len(prompt.expanded(prompt.text)))


async def test_bracketed_outside_text_shows_literally_in_toasts_and_the_transcript() -> None:
    failing = ScriptedBackend(failures=[BackendError(BRACKETED, kind="overloaded")])
    seen: list = []
    app = make_app(Config(), backend=failing, config_error=f"config.toml: {BRACKETED}", ledger=False)
    async with app.run_test(size=(140, 40), message_hook=seen.append, notifications=True) as pilot:
        await wait_for(pilot, lambda: failing.loaded)
        app.post_message(TurnNotice(Notice(f"router failed: {BRACKETED}")))
        await send(pilot, "hello")
        await wait_for(pilot, lambda: finished(seen))
        await pilot.pause()
        assert f"Error: {BRACKETED}" in transcript_text(app)
        assert f"config.toml: {BRACKETED} — using defaults" in notices(app)
        assert f"router failed: {BRACKETED}" in notices(app)
        await wait_for(pilot, lambda: f"router failed: {BRACKETED}" in toasts(app))
        assert f"config.toml: {BRACKETED} — using defaults" in toasts(app)


async def test_a_model_that_fails_to_load_with_brackets_shows_them() -> None:
    backend = ScriptedBackend(load_error=f"cannot open {BRACKETED}")
    app = make_app(Config(), backend=backend, ledger=False)
    async with app.run_test(size=(140, 40), notifications=True) as pilot:
        await wait_for(pilot, lambda: f"cannot open {BRACKETED}" in transcript_text(app))
        await pilot.pause()
        await wait_for(pilot, lambda: f"cannot open {BRACKETED}" in toasts(app))


async def test_a_session_titled_with_brackets_lists_literally(tmp_path: Path) -> None:
    from textual.widgets import DataTable

    from assistant.ui.screens.sessions import SessionsScreen

    seen: list = []
    backend = ScriptedBackend(["ok"])
    app = make_app(Config(), backend=backend)
    async with app.run_test(size=(140, 40), message_hook=seen.append) as pilot:
        await wait_for(pilot, lambda: backend.loaded)
        await send(pilot, f"{BRACKETED} title")
        await wait_for(pilot, lambda: finished(seen))
        await send(pilot, "/sessions")
        await wait_for(pilot, lambda: isinstance(app.screen, SessionsScreen))
        table = app.screen.query_one(DataTable)
        await wait_for(pilot, lambda: table.row_count >= 1)
        await pilot.pause()
        cells = [str(c) for c in table.get_row_at(0)]
        assert any("[/oops]" in c and "[overloaded_error]" in c for c in cells)


async def test_the_command_palette_shows_usages_with_their_brackets() -> None:
    from textual.content import Content

    from assistant.ui.palette import SlashCommandProvider

    app = make_app(Config(), backend=ScriptedBackend(), preload=False, ledger=False)
    async with app.run_test(size=(120, 40)):
        provider = SlashCommandProvider(app.screen)
        # As the palette draws a hit: Content.from_markup of its prompt (before: "/theme ").
        found = [Content.from_markup(hit.prompt).plain async for hit in provider.search("theme")]
        listed = [Content.from_markup(hit.prompt).plain async for hit in provider.discover()]
        assert "/theme [NAME]" in found
        assert {"/theme [NAME]", "/refactor PATH [instruction]"} <= set(listed)


async def test_an_unhandled_error_ends_the_app_with_one_line_not_a_traceback() -> None:
    """Textual's own end for an error in a handler prints a traceback with locals;
    ours is one line naming the log file (and Textual still calls this hook)."""
    app = make_app(Config(), backend=ScriptedBackend(["x"]), ledger=False)
    with pytest.raises(ZeroDivisionError):
        async with app.run_test(size=(100, 30)) as pilot:
            app.call_later(lambda: 1 / 0)
            await pilot.pause()
    assert not app._exit_renderables  # Textual would print a traceback from these
    said = app.fatal_error
    assert said.startswith("internal error: ZeroDivisionError: division by zero")
    assert "\n" not in said and "assistant.log" in said
