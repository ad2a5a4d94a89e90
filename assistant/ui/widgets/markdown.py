"""Markdown as the transcript renders it: Rich's `Markdown`, one block at a time.

While an answer streams, its tail is rendered again at every frame, and on a
small machine every millisecond of it is taken from the model's threads
(bench/tui_local.py). Rich renders each top-level block of a document (a
paragraph, a list, a code block...) on its own, and puts a blank line after
each block whose element asks for one. So a growing text's blocks that did not
change keep their lines, found by their source, and only the last, growing
block is rendered again (with the blank line Rich would put before it): the
same lines as rendering the whole text at once (tests/ui/test_rendered.py
checks it on generated Markdown), in a fraction of the time.

Imported on first use, or by `warm_markdown` once the app is up: markdown-it
and Pygments cost ~40 ms, which at start-up delay the first frame, and in the
first answer's first paint stall the model.
"""

from __future__ import annotations

import functools
from collections.abc import Hashable
from typing import Any

from rich.console import Console, ConsoleOptions
from rich.segment import Segment
from rich.style import Style

# (block type, block source, render key) -> the block's lines
BlockCache = dict[tuple[str, str, Hashable], list[list[Segment]]]


@functools.cache
def _rich() -> tuple[Any, type, type]:
    """The shared parser, the Markdown class that renders parsed tokens, Rich's
    fallback element. Rich builds a new markdown-it parser for each `Markdown`
    (~0.2 ms); a parser keeps no state between parses."""
    from markdown_it import MarkdownIt
    from rich.markdown import Markdown, UnknownElement

    parser = MarkdownIt().enable("strikethrough").enable("table")  # as Rich's own

    class ParsedMarkdown(Markdown):
        # Rich's `__init__`, given the tokens instead of a new parser's parse.
        def __init__(self, tokens: list, code_theme: str) -> None:
            self.markup = ""
            self.parsed = tokens
            self.code_theme = code_theme
            self.justify = None
            self.style = "none"
            self.hyperlinks = True
            self.inline_code_lexer = "text"
            self.inline_code_theme = code_theme

    return parser, ParsedMarkdown, UnknownElement


def warm_markdown() -> None:
    _rich()


def markdown(text: str, code_theme: str) -> Any:
    """A Rich renderable of `text` (the whole of it, as one document)."""
    parser, parsed_markdown, _ = _rich()
    return parsed_markdown(parser.parse(text), code_theme)


def _blocks(tokens: list) -> list[list]:
    """The top-level blocks: a token that opens one at level 0 up to its close, or a
    self-contained one (a fence, a rule)."""
    blocks: list[list] = []
    start = 0
    for i, token in enumerate(tokens):
        if token.level == 0 and token.nesting <= 0:  # a close, or self-contained
            blocks.append(tokens[start : i + 1])
            start = i + 1
    return blocks


def _is_leaf(block: list) -> bool:
    """Whether Rich renders no element of its own inside `block`: it holds only
    inline text (an empty one is an element to Rich)."""
    return all(t.type == "inline" and t.children for t in block[1:-1])


def _has_image(tokens: list) -> bool:
    return any(c.tag == "img" for t in tokens if t.children for c in t.children)


def render_lines(
    text: str,
    console: Console,
    options: ConsoleOptions,
    style: Style,
    code_theme: str,
    key: Hashable,
    cache: BlockCache | None = None,
) -> list[list[Segment]]:
    """The lines of `text` as Markdown, padded to the width. With `cache`, a block
    whose source is in it keeps its lines; the cache then holds this text's blocks."""
    parser, parsed_markdown, unknown = _rich()
    env: dict = {}
    tokens = parser.parse(text, env)
    # A reference definition changes other blocks; around an image Rich's spacing
    # follows other rules (and answers rarely hold one): those render whole.
    if cache is None or env.get("references") or _has_image(tokens):
        return console.render_lines(parsed_markdown(tokens, code_theme), options, style=style, pad=True)
    source = text.splitlines(keepends=True)
    kept: BlockCache = {}
    lines: list[list[Segment]] = []
    blank_after = False
    for block in _blocks(tokens):
        first = block[0]
        start, end = first.map or (0, 0)
        found = (first.type, "".join(source[start:end]), key)
        rendered = cache.get(found) if first.map else None
        if rendered is None:
            rendered = console.render_lines(parsed_markdown(block, code_theme), options, style=style, pad=True)
        if first.map:
            kept[found] = rendered
        # Rich puts a new line before a block when the last element it closed asks for
        # one: for a block of its own elements (a list's items, a quote's paragraphs)
        # the last of those, so rendering it alone shows it already; for a leaf (a
        # paragraph, a heading, a fence) the block before.
        if blank_after and _is_leaf(block):
            lines.append([Segment(" " * options.max_width, style)])
        lines.extend(rendered)
        blank_after = parsed_markdown.elements.get(first.type, unknown).new_line
    cache.clear()
    cache.update(kept)
    return lines
