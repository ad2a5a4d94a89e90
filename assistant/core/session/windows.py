"""Each backend's sliding window over the session's conversation, counted in
that backend's own tokens, and the last prompt assembled for each (`/context`);
the files a turn's message names, fitted into each window (`assemble_turn`,
`route_with_files`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from functools import partial

from assistant.core.config import Config
from assistant.core.conversation import Exchange, Message
from assistant.core.decisions import RouteDecision
from assistant.core.results import TurnStats
from assistant.core.backends.budget import task_budget, window_budget
from assistant.core.session.attached import FileFit, FileText
from assistant.core.session.pinned import turn_message
from assistant.core.session.pool import BackendPool
from assistant.core.window.counters import window_counter
from assistant.core.window.sliding import Assembly, ContextTooLarge, SlidingWindow


class SessionWindows:
    def __init__(self, config: Config, pool: BackendPool) -> None:
        self.config = config
        self.pool = pool
        self.windows: dict[str, SlidingWindow] = {}
        self.assemblies: dict[str, Assembly] = {}  # each backend's last window, for /context
        self.fits: dict[str, FileFit] = {}  # how each backend's last window took its turn's named files
        self._exact: dict[str, bool] = {}
        self._resume_starts: dict[str, int] = {}

    def window(self, name: str) -> SlidingWindow:
        """The backend's sliding window; rebuilt (same start) when its counter
        changes kind (a local model that was not loaded is now)."""
        backend = self.pool.get(name)
        exact = backend.loaded or not backend.capabilities.local
        window = self.windows.get(name)
        if window is not None and window.limit != (budget := window_budget(backend)):
            window.set_budget(budget)  # a server that came up since says its context now
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

    def assemble_turn(
        self, name: str, system: Message | None, pinned: Sequence[Message], exchanges: Sequence[Exchange],
        question: str, files: Sequence[FileText], *, whole: bool,
    ) -> Assembly | ContextTooLarge:
        """The chat's prompt for a turn whose message names `files`: they go into the
        turn's own message, ahead of the question, so they count as the turn does (never
        slid out, as a pinned file is not) and the cached prefix stays as it was.
        `whole`: every file or no prompt; else each file that fits, in order, and the
        others left out with why. `fits[name]` says which went in, with their tokens."""
        if not files:
            self.fits.pop(name, None)
            return self.assemble(name, system, pinned, exchanges, Message("user", question))
        window = self.window(name)
        tokens = [window.counter.message_tokens(Message("user", f.block)) for f in files]
        estimated = not window.counter.exact_is_cheap  # such a counter's per-message counts are estimates

        def fitted(chosen: Sequence[int], left_out: list[tuple[str, str]]) -> Assembly | ContextTooLarge:
            current = turn_message(question, [files[i].block for i in chosen])
            prompt = self.assemble(name, system, pinned, exchanges, current)
            if isinstance(prompt, Assembly):
                added = tuple((files[i].path, tokens[i]) for i in chosen)
                self.fits[name] = FileFit(added, tuple(left_out), estimated)
            return prompt

        prompt = fitted(range(len(files)), [])
        if whole or isinstance(prompt, Assembly):
            return prompt
        # What the files may take: the budget less what the rest of that prompt needed.
        room = window.budget - max(prompt.needed - sum(tokens), 0)
        chosen: list[int] = []
        left_out: list[tuple[str, str]] = []
        for i, count in enumerate(tokens):
            if count <= room:
                chosen.append(i)
                room -= count
            else:
                left_out.append((files[i].path, _no_room(count, window)))
        while isinstance(prompt := fitted(chosen, left_out), ContextTooLarge) and chosen:
            i = chosen.pop()  # the counts fell short of the whole prompt's: the last one goes
            left_out.append((files[i].path, _no_room(tokens[i], window)))
        return prompt

    def fit_task(self, name: str, messages: Sequence[Message]) -> Assembly | ContextTooLarge:
        """A one-off prompt (a refactor's), whole or not at all: it must fit the
        backend's context minus its answer's reserve."""
        backend = self.pool.get(name)
        count = window_counter(backend).prompt_tokens(messages)
        budget = task_budget(backend)
        if count.tokens > budget.tokens:
            return ContextTooLarge(count.tokens, budget, name)
        return Assembly(tuple(messages), count.tokens, count.estimated, budget.tokens, 0, 0, False, ())

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


Routed = tuple[RouteDecision, dict[str, Assembly | ContextTooLarge]]
FitTurn = Callable[..., Assembly | ContextTooLarge]  # (name, *, whole) → the prompt: `assemble_turn`, bound


def route_with_files(route: Callable[[Callable[[str], Assembly | ContextTooLarge]], Routed], fit: FitTurn) -> Routed:
    """Route a turn whose message names files: first on the prompts that hold every
    file (a backend that cannot take them all is no candidate), so that one that can
    answers; when the chosen one cannot, again on the prompts that hold what fits
    each. A backend that could not take every file gets what fits it, should the
    turn fall back to it."""
    decision, windows = route(partial(fit, whole=True))
    if isinstance(windows.get(decision.backend), ContextTooLarge):
        return route(partial(fit, whole=False))
    return decision, {name: fit(name, whole=False) if isinstance(window, ContextTooLarge) else window
                      for name, window in windows.items()}  # fmt: skip


def _no_room(tokens: int, window: SlidingWindow) -> str:
    """Why a file did not fit: its tokens, and what sets the window's size."""
    limit = window.limit.describe() if window.limit else f"{window.name}'s window takes {window.budget:,} tokens"
    return f"{tokens:,} tokens, more than is left of the window ({limit})"
