"""The slash commands in Textual's command palette (the table is in slash.py)."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content
from textual.fuzzy import Matcher
from textual.markup import escape

from assistant.ui.slash import SLASH_COMMANDS, run_slash_command

if TYPE_CHECKING:
    from assistant.ui.host import ChatHost


def literal_highlight(matcher: Matcher, text: str) -> Content:
    """`text` with the query's letters highlighted, read literally: `Matcher.highlight`
    reads it as markup, and `/theme [NAME]` would show as `/theme `."""
    content = Content(text)
    _, offsets = matcher.fuzzy_search.match(matcher.query, text)
    for offset in offsets:
        if not text[offset].isspace():
            content = content.stylize(matcher.match_style, offset, offset + 1)
    return content


class SlashCommandProvider(Provider):
    """The slash commands in Textual's command palette (their usage has brackets:
    shown as `Content`, never as markup)."""

    @property
    def _host(self) -> ChatHost:
        return self.app  # type: ignore[return-value]

    async def discover(self) -> Hits:
        for command in SLASH_COMMANDS:
            yield DiscoveryHit(
                Content(command.usage),
                partial(run_slash_command, self._host, command.name),
                help=escape(command.help),
            )

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for command in SLASH_COMMANDS:
            score = matcher.match(command.usage)
            if score > 0:
                yield Hit(
                    score,
                    literal_highlight(matcher, command.usage),
                    partial(run_slash_command, self._host, command.name),
                    help=escape(command.help),
                )
