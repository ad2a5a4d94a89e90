"""`fixed`: every turn goes to one backend (`[router] fixed_backend`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from assistant.core.config import Config
from assistant.core.routing.protocol import RouteContext, RouteDecision, TurnRequest, estimates


@dataclass(frozen=True, slots=True)
class FixedRouter:
    backend: str = "local"
    name: ClassVar[str] = "fixed"

    @classmethod
    def from_config(cls, config: Config) -> FixedRouter:
        return cls(config.router.fixed_backend)

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
