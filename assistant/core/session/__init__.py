"""A chat session and its collaborators: the turn runner (route, attempt, fall back, record), what the
user typed, pinned files, compaction, and persistence of the chat."""
