"""Each backend's sliding window over the session's conversation, counted in
that backend's own tokens, and the last prompt assembled for each (`/context`)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from assistant.core.config import Config
from assistant.core.conversation import Exchange, Message
from assistant.core.results import TurnStats
from assistant.core.session.pool import BackendPool, answer_reserve, window_budget
from assistant.core.window.counters import window_counter
from assistant.core.window.sliding import Assembly, ContextTooLarge, SlidingWindow


class SessionWindows:
    def __init__(self, config: Config, pool: BackendPool) -> None:
        self.config = config
        self.pool = pool
        self.windows: dict[str, SlidingWindow] = {}
        self.assemblies: dict[str, Assembly] = {}  # each backend's last window, for /context
        self._exact: dict[str, bool] = {}
        self._resume_starts: dict[str, int] = {}

    def window(self, name: str) -> SlidingWindow:
        """The backend's sliding window; rebuilt (same start) when its counter
        changes kind (a local model that was not loaded is now)."""
        backend = self.pool.get(name)
        exact = backend.loaded or not backend.capabilities.local
        window = self.windows.get(name)
        if window is None or self._exact.get(name) != exact:
            fresh = SlidingWindow(
                window_counter(backend),
                window_budget(backend),
                slide_fraction=self.config.window.slide_fraction,
                name=name,
            )
            if window is not None:
                fresh.reset(window.start)
            elif name in self._resume_starts:
                fresh.reset(self._resume_starts.pop(name))
            self.windows[name], self._exact[name] = fresh, exact
            window = fresh
        return window

    def warm(self, names: Iterable[str]) -> None:
        """Ready each backend's token counter now: the first turn counts its prompt
        for each (to route it and price it), and loading tiktoken's tables alone took
        0.4 s of that turn's time to first token."""
        probe = Message("user", "")
        for name in names:  # the counters, not the windows: a turn may be making those
            window_counter(self.pool.get(name)).message_tokens(probe)

    def assemble(
        self, name: str, system: Message | None, pinned: Sequence[Message], exchanges: Sequence[Exchange],
        current: Message,
    ) -> Assembly | ContextTooLarge:
        try:
            assembly = self.window(name).assemble(system, pinned, exchanges, current)
        except ContextTooLarge as exc:
            return exc
        self.assemblies[name] = assembly
        return assembly

    def fit_task(self, name: str, messages: Sequence[Message]) -> Assembly | ContextTooLarge:
        """A one-off prompt (a refactor's), whole or not at all: it must fit the
        backend's context minus its answer's reserve."""
        backend = self.pool.get(name)
        count = window_counter(backend).prompt_tokens(messages)
        budget = max(backend.capabilities.context_size - answer_reserve(backend), 1)
        if count.tokens > budget:
            return ContextTooLarge(count.tokens, budget, name)
        return Assembly(tuple(messages), count.tokens, count.estimated, budget, 0, 0, False, ())

    def fill(self, name: str | None, stats: TurnStats | None) -> float | None:
        """The prompt's tokens over the budget of `name`'s last window."""
        assembly = self.assemblies.get(name or "")
        if stats is None or stats.tokens_in is None or assembly is None:
            return None
        return stats.tokens_in / assembly.budget

    def dropped(self, name: str) -> int:
        """How many exchanges `name`'s window has slid past."""
        window = self.windows.get(name)
        return window.start if window else 0

    def reset(self) -> None:
        """Every window from the first exchange again (after /clear, /compact)."""
        for window in self.windows.values():
            window.reset()

    def forget(self, name: str) -> None:
        """`name` is another backend now: its window is made again."""
        self.windows.pop(name, None)

    def starts(self) -> dict[str, int]:
        return {name: w.start for name, w in self.windows.items()}

    def resume(self, starts: dict[str, int]) -> None:
        """Windows made from now on start where a stored session's did."""
        self.windows.clear()
        self._resume_starts = dict(starts)
