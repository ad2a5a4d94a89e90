"""`fixed`: every turn goes to one backend (`[routers.fixed] backend`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from assistant.core.config import Config
from assistant.core.options import setting
from assistant.core.routing.protocol import RouteContext, RouteDecision, TurnRequest, estimates


@dataclass(frozen=True, slots=True)
class FixedOptions:
    """`[routers.fixed]`."""

    backend: str = setting("local", "The backend that takes every turn.")


@dataclass(frozen=True, slots=True)
class FixedRouter:
    backend: str = "local"
    name: ClassVar[str] = "fixed"
    Options: ClassVar[type] = FixedOptions

    @classmethod
    def from_config(cls, config: Config, options: FixedOptions) -> FixedRouter:
        return cls(options.backend)

    def route(self, turn: TurnRequest, context: RouteContext) -> RouteDecision:
        # "Always" means no other backend takes the turn, not even when this one
        # cannot start: a fixed local setup must never fall back to the cloud.
        return RouteDecision(
            self.backend,
            f"fixed: always {self.backend}",
            estimates=estimates(context),
            fallbacks=(),
            allow_any_fallback=False,
        )
