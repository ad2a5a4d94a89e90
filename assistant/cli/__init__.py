"""The `assistant` command: its parser tree and dispatch table (`commands`), what
every command starts from (`context`: the setting flags, config, logging) and how
it ends (`exits`), and a module per subcommand (`ask`, `tui`, `configure`,
`sessions`, `routers`, `cost`, `bench`, `report`, `refactor`).

Start-up stays fast: importing this package imports no subcommand's module;
Textual, llama.cpp and the Anthropic SDK come only with the subcommand that
needs them.
"""

from __future__ import annotations

from assistant.cli.commands import main

__all__ = ["main"]
