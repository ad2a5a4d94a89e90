"""The `assistant` command: its parser tree and dispatch (`commands`), a module
per family of subcommands (`bench`, `report`, `refactor`), their light argument
definitions (`*_args`), and how every command ends (`exits`).

Start-up stays fast: importing this package imports no subcommand's module;
Textual, llama.cpp and the Anthropic SDK come only with the subcommand that
needs them.
"""

from __future__ import annotations

from assistant.cli.commands import main

__all__ = ["main"]
