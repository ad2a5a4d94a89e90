"""How many prompt tokens a backend takes, and what sets that.

A backend's window is its model's context less the tokens kept for the answer
(its `max_tokens`); a `window_tokens` setting may cap it lower. When a turn does
not fit, the error must name whichever of these is the limit and the setting
that changes it: "unpin something" helps nobody when nothing is pinned and the
limit is a 4,096-token `n_ctx`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from assistant.core.backends.protocol import Backend


@dataclass(frozen=True, slots=True)
class ContextBudget:
    backend: str  # its name, as messages say it
    context: int  # the model's context, in its tokens
    reserve: int = 0  # kept for the answer
    cap: int | None = None  # a `window_tokens` setting; None: no cap
    context_source: str = ""  # what sets `context`, with its setting (`Capabilities.context_source`)
    settings_table: str = ""  # "[backends.local]"; "" when it has none

    @property
    def room(self) -> int:
        """The context less the answer's reserve: what the prompt may fill at most."""
        return self.context - self.reserve

    @property
    def capped(self) -> bool:
        """Whether the `window_tokens` cap, not the context, is the limit."""
        return self.cap is not None and self.cap < self.room

    @property
    def tokens(self) -> int:
        return max(min(self.cap, self.room) if self.cap is not None else self.room, 1)

    def setting(self, key: str) -> str:
        """`key` as a config file names it for this backend ("[backends.local] max_tokens")."""
        return f"{self.settings_table} {key}" if self.settings_table else f"its {key}"

    def describe(self) -> str:
        """The budget and what sets it, e.g. "local takes 3,072 tokens, its context of
        4,096 (n_ctx, [backends.local] n_ctx) less 1,024 kept for the answer
        ([backends.local] max_tokens)"."""
        who = self.backend or "the backend"
        if self.capped:
            return (f"the {self.tokens:,}-token window of {who} is capped by {self.setting('window_tokens')} "
                    f"(0: its context of {self.context:,} less the answer's {self.reserve:,})")  # fmt: skip
        source = f" ({self.context_source})" if self.context_source else ""
        said = f"{who} takes {self.tokens:,} tokens, its context of {self.context:,}{source}"
        if self.reserve:
            said += f" less {self.reserve:,} kept for the answer ({self.setting('max_tokens')})"
        return said


def window_budget(backend: Backend) -> ContextBudget:
    """The budget of a backend's sliding window: its context less the answer's
    reserve, or its `window_tokens` cap when that is lower."""
    caps = backend.capabilities
    return ContextBudget(backend.name, caps.context_size, caps.answer_tokens, caps.window_tokens or None,
                         caps.context_source, caps.settings_table)  # fmt: skip


def task_budget(backend: Backend) -> ContextBudget:
    """The budget of a one-off prompt (a refactor's), sent whole or not at all: the
    backend's context less the answer's reserve, whatever its window's cap."""
    return replace(window_budget(backend), cap=None)
