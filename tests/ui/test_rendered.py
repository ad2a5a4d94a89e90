"""What the transcript's rendered widgets cost the screen while an answer streams
(issue 11: on a small machine the model slows by as much time as the screen takes)."""

from __future__ import annotations

import asyncio
import os

from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console
from rich.markdown import Markdown
from rich.style import Style
from textual.app import App
from textual.geometry import Region
from textual.screen import Screen

from assistant.ui.widgets.markdown import markdown, render_lines
from assistant.ui.widgets.rendered import Entry, Figures, RenderedLines
from assistant.ui.widgets.transcript import AssistantMessage, Transcript

WIDTH = 60

# Markdown-ish text: the characters that make blocks and inline styles, words, lines.
MARKDOWN_BITS = st.sampled_from(
    ["word ", "**bold** ", "_em_ ", "`code` ", "~~gone~~ ", "\n", "\n\n", "# ", "- ", "1. ", "> ", "---\n",
     "```python\nx = 1\n```\n", "| a | b |\n|---|---|\n| 1 | 2 |\n", "[link](http://x) ", "![img](x.png)", "[x][r] ", "\n[r]: http://y\n", "é ", "\t", "    "]
)


def _console() -> tuple[Console, object]:
    console = Console(width=WIDTH, file=open(os.devnull, "w"), color_system="truecolor")  # noqa: SIM115
    return console, console.options.update_width(WIDTH)


def _shown(lines) -> list[list[tuple[str, str]]]:
    # A link's style carries a random id per render; what it shows is its text and style.
    return [[(segment.text, str(segment.style or Style())) for segment in line] for line in lines]


@given(st.lists(MARKDOWN_BITS, max_size=40).map("".join))
def test_markdown_renders_as_richs_own(text: str) -> None:
    console, options = _console()
    rich = Markdown(text, code_theme="monokai", inline_code_lexer="text", inline_code_theme="monokai")
    expected = _shown(console.render_lines(rich, options, pad=True))
    assert _shown(console.render_lines(markdown(text, "monokai"), options, pad=True)) == expected
    assert _shown(render_lines(text, console, options, Style(), "monokai", "k")) == expected


@given(st.lists(MARKDOWN_BITS, max_size=40).map("".join), st.lists(st.integers(1, 30), max_size=30))
def test_a_growing_text_rendered_block_by_block_shows_what_rendering_it_whole_shows(text, steps) -> None:
    """The streaming tail keeps the lines of its unchanged blocks (markdown.py): at
    every length it must show exactly what Rich shows for the whole text."""
    console, options = _console()
    style = Style(bgcolor="black")
    cache: dict = {}
    end = 0
    for step in [*steps, len(text)]:
        end = min(len(text), end + step)
        prefix = text[:end]
        whole = console.render_lines(markdown(prefix, "monokai"), options, style=style, pad=True)
        blockwise = render_lines(prefix, console, options, style, "monokai", "k", cache)
        assert _shown(blockwise) == _shown(whole), prefix


class OneAnswer(App):
    def compose(self):
        yield Transcript()


def line_of(words: int) -> str:
    return " ".join(["word"] * words)


async def test_a_streaming_answer_takes_rows_in_steps_and_a_line_within_them_costs_no_layout(monkeypatch) -> None:
    layouts = []
    real = Screen._refresh_layout
    monkeypatch.setattr(Screen, "_refresh_layout", lambda self, *a, **k: (layouts.append(1), real(self, *a, **k))[1])
    app = OneAnswer()
    async with app.run_test(size=(WIDTH, 20)) as pilot:
        step = int(20 * AssistantMessage.RESERVE_SHARE)
        transcript = app.query_one(Transcript)
        answer = AssistantMessage("local · model")
        await transcript.mount(answer)
        await pilot.pause()
        grew = kept = 0
        for _ in range(8):
            before = answer.size.height
            layouts.clear()
            await answer.write(line_of(10) + "\n\n")  # a paragraph more: two lines more
            await pilot.pause()
            await pilot.pause()
            lines = len(answer.lines_at(answer.content_size.width))
            assert answer.size.height % step == 0 and lines <= answer.size.height < lines + step
            if answer.size.height == before:
                kept += 1
                assert not layouts  # the new lines went onto reserved rows
            else:
                grew += 1
                assert len(layouts) == 1  # Textual on its own lays the screen out twice
        assert grew and kept
        answer.finish("took 1 s")
        answer.refresh(layout=True)
        await pilot.pause()
        assert answer.size.height == len(answer.lines_at(answer.content_size.width))  # no reserve once finished


ANSWER_BITS = st.sampled_from(
    ["word ", "wrapping words " * 6, "**bold** ", "`code` ", "\n", "\n\n", "# ", "- ", "> ", "---\n",
     "```python\nx = 1\n```\n", "| a | b |\n|---|---|\n| 1 | 2 |\n", "é ", "日本 "]
)


@settings(max_examples=max(1, settings.default.max_examples // 4))
@given(st.lists(ANSWER_BITS, min_size=1, max_size=50).map("".join), st.lists(st.integers(1, 60), min_size=1, max_size=25))
def test_what_the_terminal_shows_of_a_streaming_answer_is_its_text_drawn_whole(text, steps) -> None:
    """Frames paint only the rows that changed; a terminal that received them shows,
    after each one, what drawing the whole screen anew shows (no row left stale)."""
    from tests.ui.helpers import TerminalMirror

    async def run() -> None:
        app = OneAnswer()
        mirror = TerminalMirror(app)
        async with app.run_test(size=(WIDTH, 16)) as pilot:
            transcript = app.query_one(Transcript)
            transcript.history.add(Entry("answer", line_of(200), "earlier", "took 1 s"))  # a full screen
            answer = AssistantMessage("local · model")
            await transcript.mount(answer)
            await pilot.pause()
            at = 0
            for size in [*steps, len(text)]:
                await answer.write(text[at : at + size])
                at += size
                await pilot.pause()
                assert not mirror.stale_rows(answer), text[:at]
                if at >= len(text):
                    break

    asyncio.run(run())


async def test_text_growing_along_a_line_repaints_only_that_line(monkeypatch) -> None:
    app = OneAnswer()
    async with app.run_test(size=(WIDTH, 20)) as pilot:
        answer = AssistantMessage("local · model")
        await app.query_one(Transcript).mount(answer)
        await answer.write(line_of(20) + "\n\n" + "start")
        await pilot.pause()
        repainted: list[tuple[Region, ...]] = []
        real = RenderedLines.refresh

        def spy(self, *regions, **kwargs):
            repainted.append((regions, kwargs.get("layout", False)))
            return real(self, *regions, **kwargs)

        monkeypatch.setattr(RenderedLines, "refresh", spy)
        height = answer.size.height
        await answer.write(" more")  # the last line grows; nothing wraps
        await pilot.pause()
        assert answer.size.height == height
        (regions, layout), = repainted
        assert not layout
        width = answer.content_size.width
        last = len(answer.lines_at(width)) - 1
        assert regions == (Region(0, last, width, 1),)
        assert "start more" in answer.lines_at(width)[last].text


@given(width=st.integers(min_value=24, max_value=200))
def test_the_footer_wraps_between_figures_only(width: int):
    """A narrow screen shows `took 1.27 s` on the next line, never `took 1.27` and `s`."""
    footer = "98.2 tok/s · TTFT 120 ms · prompt 1,234 tok/s · 7 evaluated · 19 in / 45 out · $0.0000 · took 1.27 s"
    console = Console(width=width, file=None, color_system=None, legacy_windows=False)
    with console.capture() as captured:
        console.print(Figures(footer, style=None))  # type: ignore[arg-type]
    lines = captured.get().rstrip("\n").split("\n")
    figures = footer.split(" · ")
    # Every line is whole figures: joined back, the lines are the footer.
    assert " · ".join(line.rstrip() for line in lines) == footer
    for line in lines:
        assert all(part in figures for part in line.rstrip().split(" · "))
        assert len(line.rstrip()) <= width or " · " not in line  # only a single figure may overflow
