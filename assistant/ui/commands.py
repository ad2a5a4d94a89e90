"""Slash commands: the same list feeds the prompt's completion, /help and the command palette."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content
from textual.fuzzy import Matcher
from textual.markup import escape

if TYPE_CHECKING:
    from assistant.ui.app import AssistantApp


@dataclass(frozen=True, slots=True)
class SlashCommand:
    name: str
    usage: str
    help: str


SLASH_COMMANDS: tuple[SlashCommand, ...] = (
    SlashCommand("/help", "/help", "List commands and keys."),
    SlashCommand("/clear", "/clear", "Start a new conversation (the session's costs are kept)."),
    SlashCommand(
        "/model",
        "/model [auto | BACKEND | PATH.gguf]",
        "Show the backend and model; let the router choose, fix a backend, or load a GGUF file.",
    ),
    SlashCommand("/retry", "/retry other", "Ask the last question again on the other backend (both answers kept)."),
    SlashCommand("/context", "/context", "What the window sent last: each item and its tokens."),
    SlashCommand("/compact", "/compact", "Summarise the turns the window dropped into one pinned message."),
    SlashCommand("/add", "/add PATH…", "Pin files (globs allowed) into every prompt."),
    SlashCommand("/drop", "/drop PATH…", "Unpin files."),
    SlashCommand("/files", "/files", "The pinned files and their tokens."),
    SlashCommand("/refactor", "/refactor PATH [instruction]", "Ask for an edit of a file, review the diff, apply and commit."),
    SlashCommand("/undo", "/undo", "Take back the last applied edit (its commit, or its backup outside git)."),
    SlashCommand("/sessions", "/sessions", "Browse, search, resume, rename and delete stored chats."),
    SlashCommand("/report", "/report", "Measured speed, latency, cost and capacity per backend, with a chart."),
    SlashCommand("/cost", "/cost", "What this session cost, per backend, from the ledger."),
    SlashCommand("/theme", "/theme [NAME]", "List the themes, or switch to one and save it in the config file."),
    SlashCommand("/quit", "/quit", "Leave (a running answer is cancelled first)."),
)

PREFIX_HELP = (
    "Start a message with @claude or @local to send it there, @auto to let the router choose, "
    "@quality for the best answer, @batch for bulk work."
)

KEYS_HELP = (
    "Enter send · Shift+Enter / Ctrl+J newline · ↑/↓ history · Tab complete /command · "
    "Esc cancel the answer · Ctrl+P command palette · Ctrl+Q quit"
)


def help_text() -> str:
    width = max(len(c.usage) for c in SLASH_COMMANDS)
    lines = [f"{c.usage.ljust(width)}  {c.help}" for c in SLASH_COMMANDS]
    return "\n".join(lines + ["", PREFIX_HELP, KEYS_HELP])


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
    def _app(self) -> AssistantApp:
        return self.app  # type: ignore[return-value]

    async def discover(self) -> Hits:
        for command in SLASH_COMMANDS:
            yield DiscoveryHit(
                Content(command.usage),
                partial(self._app.run_slash_command, command.name),
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
                    partial(self._app.run_slash_command, command.name),
                    help=escape(command.help),
                )
