"""A chat session and its collaborators: the turn runner (route, attempt, fall back, record), what the
user typed, pinned files, compaction, and persistence of the chat.
Other packages read how a session is opened, and the secret check before a turn, from the
package (`session.open_session`): the TUI's first frame waits for neither (see core/lazy.py)."""

from assistant.core.lazy import exports

__getattr__, __dir__ = exports(globals(), {"open_session": "opening", "secret_hold": "secret_hold"})
