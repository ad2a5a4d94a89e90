"""The part of a conversation that is sent: a cache-friendly sliding window.

The prompt is system, pinned items, history, current turn (Aider's order).
The system prompt, the pinned items and the current turn are always sent;
history is dropped oldest turn first, a whole turn (question and answer) at a
time, because half a turn reads as a non sequitur to the model.

Both backends reuse work for an unchanged prompt prefix: llama.cpp keeps its
KV cache, Claude reads its prompt cache. Dropping one turn per turn would
change the prefix every time and throw that away, so the window's start only
moves forward, and in chunks: when the prompt stops fitting, the start skips
enough turns to bring it down to `(1 - slide_fraction) * budget`, and the
following turns fit, with the same prefix, until that room is used up.

Counting stays cheap in a long session: each message is counted once and its
count cached, and the whole prompt is counted exactly (which a backend may
have to do by tokenizing everything, or over the network) at most a couple of
times per turn, and only near the budget when that is expensive.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

from assistant.core.backends.budget import ContextBudget
from assistant.core.backends.protocol import TokenCount
from assistant.core.conversation import Exchange, Message

DEFAULT_SLIDE_FRACTION = 0.25
# A sum of per-message counts this close to the budget is checked against an
# exact count, even when that count is expensive: template markup and
# approximate counts can tip a nearly full prompt over.
VERIFY_MARGIN = 0.10
# Counts of messages that left the window are forgotten once the cache holds
# this many times the messages in the window (plus a little slack).
CACHE_SLACK = 2

ItemKind = Literal["system", "pinned", "history", "current"]


@runtime_checkable
class WindowCounter(Protocol):
    """Token counts for one backend, as the window needs them."""

    #: False when `prompt_tokens` is costly (e.g. a network call): it is then
    #: only asked when the prompt is near the budget.
    exact_is_cheap: bool

    def message_tokens(self, message: Message) -> int:
        """Tokens one message adds to a prompt, template markup included.

        An approximation is fine; the window caches it per (role, content).
        """
        ...

    def prompt_tokens(self, messages: Sequence[Message]) -> TokenCount:
        """The count of a whole prompt: exact when the backend can tell.

        Should not raise: a counter that cannot reach its exact source answers
        with an estimate (`estimated=True`) instead.
        """
        ...


@dataclass(frozen=True, slots=True)
class WindowItem:
    """One line of `/context`: a message that is sent and what it costs."""

    label: str
    role: str
    tokens: int
    kind: ItemKind


@dataclass(frozen=True, slots=True)
class Assembly:
    """The prompt of one turn and how it was cut to fit."""

    # System (if any), pinned..., kept history flattened, current.
    messages: tuple[Message, ...]
    # The whole prompt: the counter's own count when it was asked, else the sum
    # of the per-message counts.
    tokens: int
    estimated: bool
    budget: int
    # Index into the exchanges of the first one sent (== how many were dropped).
    first_kept: int
    dropped: int
    # True when this assembly moved the window's start forward (a cache miss).
    slid: bool
    items: tuple[WindowItem, ...]

    @property
    def fill(self) -> float:
        """How full the window is, 0.0-1.0 (above 1.0 never leaves `assemble`)."""
        return self.tokens / self.budget if self.budget else 0.0


class ContextTooLarge(Exception):
    """Even with every droppable turn dropped the prompt does not fit.

    The message says what the turn is made of and what limits the budget, with the
    setting that changes it (`ContextBudget.describe`); it offers /drop only when
    something is pinned. `budget` as a bare count (tests, benches) says no more
    than its size.
    """

    def __init__(
        self, needed: int, budget: int | ContextBudget, name: str = "", message: int = 0, pinned: int = 0
    ) -> None:
        self.limit = budget if isinstance(budget, ContextBudget) else None
        self.needed = needed
        self.budget = budget.tokens if isinstance(budget, ContextBudget) else budget
        self.name = name or (self.limit.backend if self.limit else "")
        self.message = message  # the new message's tokens (0: not counted apart)
        self.pinned = pinned  # the pinned items' tokens
        super().__init__(self._said())

    def _said(self) -> str:
        parts = [f"the message {self.message:,}"] if self.message else []
        parts += [f"pinned items {self.pinned:,}"] if self.pinned else []
        made_of = f" ({', '.join(parts)})" if parts else ""
        if self.limit is not None:
            over = f"; {self.limit.describe()}"
        else:
            over = f", more than the {self.budget:,}-token window" + (f" of {self.name}" if self.name else "")
        ways = ["unpin files (/drop)"] if self.pinned else []
        ways += ["raise that cap"] if self.limit is not None and self.limit.capped else []
        advice = f"{', '.join(ways)} or shorten the message" if ways else "shorten the message"
        return f"this turn needs {self.needed:,} tokens{made_of}{over}; {advice}"

    def __reduce__(self) -> tuple[type[ContextTooLarge], tuple[int, int | ContextBudget, str, int, int]]:
        # The message is built from the figures, so rebuild from them (for
        # pickling across a worker boundary).
        return (type(self), (self.needed, self.limit or self.budget, self.name, self.message, self.pinned))


class SlidingWindow:
    """Chooses which turns are sent to one backend, keeping the prefix stable.

    One instance per backend and session: it remembers where the window
    starts and the counts of the messages it has seen.
    """

    def __init__(
        self,
        counter: WindowCounter,
        budget: int | ContextBudget,
        *,
        slide_fraction: float = DEFAULT_SLIDE_FRACTION,
        name: str = "",
    ) -> None:
        """`budget`: a backend's `ContextBudget`, whose error names what sets it; a
        bare count (tests, benches) says only its size."""
        if not 0.0 <= slide_fraction < 1.0:
            raise ValueError(f"slide_fraction must be in [0, 1), not {slide_fraction}")
        self.counter = counter
        self.slide_fraction = slide_fraction
        self.name = name
        self.set_budget(budget)
        self._start = 0
        self._counts: dict[tuple[str, str], int] = {}

    @property
    def start(self) -> int:
        """Index of the first exchange sent; only `reset` moves it back."""
        return self._start

    def reset(self, start: int = 0) -> None:
        """Start over, after /clear or after a compaction replaced the history."""
        if start < 0:
            raise ValueError(f"start must be >= 0, not {start}")
        self._start = start

    def set_budget(self, budget: int | ContextBudget) -> None:
        """Change the budget; the start stays, and a smaller budget slides next turn."""
        self.limit = budget if isinstance(budget, ContextBudget) else None
        self.budget = _positive(budget.tokens if isinstance(budget, ContextBudget) else budget)

    def assemble(
        self,
        system: Message | None,
        pinned: Sequence[Message],
        exchanges: Sequence[Exchange],
        current: Message,
    ) -> Assembly:
        """The prompt for this turn; raises `ContextTooLarge` when none fits.

        The window's state changes only when an assembly succeeds.
        """
        budget = self.budget
        start = self._start if self._start <= len(exchanges) else 0
        head = ([system] if system is not None else []) + list(pinned)
        fixed = sum(map(self._count, head)) + self._count(current)
        if fixed > budget:
            raise self._too_large(fixed, pinned, current)

        # Costs of the exchanges from the old start on; the ones before it
        # are never counted again.
        costs = [self._exchange_tokens(e) for e in exchanges[start:]]
        base = start
        history = sum(costs)
        target = budget * (1.0 - self.slide_fraction)
        slid = False
        if fixed + history > budget:
            start, history = _advance(costs, base, start, history, target - fixed)
            slid = True

        messages = _flatten(head, exchanges, start, current)
        exact: TokenCount | None = None
        near = fixed + history > (1.0 - VERIFY_MARGIN) * budget
        if self.counter.exact_is_cheap or near:
            exact = self.counter.prompt_tokens(messages)
            while exact.tokens > budget:
                if start == len(exchanges):
                    raise self._too_large(exact.tokens, pinned, current)
                # The sum fell short of the real count. Slide as if the sum
                # were right, less the measured gap, so the next turns fit
                # too, instead of each dropping one more turn (a cache miss
                # every turn). Usually one recount then confirms it.
                gap = exact.tokens - (fixed + history)
                history -= costs[start - base]
                start += 1
                start, history = _advance(costs, base, start, history, target - fixed - gap)
                slid = True
                messages = _flatten(head, exchanges, start, current)
                exact = self.counter.prompt_tokens(messages)

        self._start = start
        items = self._items(system, pinned, exchanges, start, current)
        self._forget_outside(messages)
        return Assembly(
            messages=messages,
            tokens=exact.tokens if exact is not None else fixed + history,
            estimated=exact.estimated if exact is not None else True,
            budget=budget,
            first_kept=start,
            dropped=start,
            slid=slid,
            items=items,
        )

    def _too_large(self, needed: int, pinned: Sequence[Message], current: Message) -> ContextTooLarge:
        return ContextTooLarge(needed, self.limit or self.budget, self.name, self._count(current),
                               sum(map(self._count, pinned)))  # fmt: skip

    def _count(self, message: Message) -> int:
        key = (message.role, message.content)
        tokens = self._counts.get(key)
        if tokens is None:
            tokens = self._counts[key] = self.counter.message_tokens(message)
        return tokens

    def _exchange_tokens(self, exchange: Exchange) -> int:
        answer = self._count(exchange.answer) if exchange.answer is not None else 0
        return self._count(exchange.user) + answer

    def _items(
        self,
        system: Message | None,
        pinned: Sequence[Message],
        exchanges: Sequence[Exchange],
        start: int,
        current: Message,
    ) -> tuple[WindowItem, ...]:
        def item(label: str, message: Message, kind: ItemKind) -> WindowItem:
            return WindowItem(label, message.role, self._count(message), kind)

        items = [item("system prompt", system, "system")] if system is not None else []
        items += [item(f"pinned: {_gist(m.content)}", m, "pinned") for m in pinned]
        for number, exchange in enumerate(exchanges[start:], start + 1):
            items.append(item(f"turn {number} (question)", exchange.user, "history"))
            if exchange.answer is not None:
                items.append(item(f"turn {number} (answer)", exchange.answer, "history"))
        items.append(item("this turn", current, "current"))
        return tuple(items)

    def _forget_outside(self, messages: Sequence[Message]) -> None:
        """Drop the counts of messages that left the window, now and then.

        The start never moves back over them (a reset comes with a new
        history), so they would only grow the cache; pruning rarely keeps
        the cost per turn constant.
        """
        if len(self._counts) > CACHE_SLACK * len(messages) + 64:
            self._counts = {
                key: self._counts[key]
                for key in {(m.role, m.content) for m in messages}
            }


def _advance(
    costs: Sequence[int], base: int, start: int, history: int, limit: float
) -> tuple[int, int]:
    """Skip whole exchanges until `history <= limit` or none is left."""
    end = base + len(costs)
    while history > limit and start < end:
        history -= costs[start - base]
        start += 1
    return start, history


def _flatten(
    head: Sequence[Message], exchanges: Sequence[Exchange], start: int, current: Message
) -> tuple[Message, ...]:
    messages = list(head)
    for exchange in exchanges[start:]:
        messages.append(exchange.user)
        if exchange.answer is not None:
            messages.append(exchange.answer)
    messages.append(current)
    return tuple(messages)


def _gist(content: str, width: int = 40) -> str:
    """A pinned item's first non-empty line, short enough for one row."""
    line = next((s.strip() for s in content.splitlines() if s.strip()), "")
    return line if len(line) <= width else line[: width - 1] + "…"


def _positive(budget: int) -> int:
    if budget <= 0:
        raise ValueError(f"budget must be positive, not {budget}")
    return budget
