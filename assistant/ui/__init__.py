"""The Textual TUI. It renders messages from workers; figures come from the core."""
