"""The Textual TUI. It renders messages from workers; figures come from the core.

The slash commands' table and the command palette are read from the package
(`ui.SLASH_COMMANDS`): they load with the first command, not before the first
frame (see core/lazy.py); so do `loading` and `actions`, which work on the
session, opened once the first frame is drawn.
"""

from assistant.core.lazy import exports

__getattr__, __dir__ = exports(globals(), {
    "SLASH_COMMANDS": "slash", "run_slash_command": "slash", "command_names": "slash",
    "SlashCommandProvider": "palette", "loading": "loading", "actions": "actions",
})  # fmt: skip
