"""`budget`: once the session's or the day's spending nears its cap, turns go local.

The caps travel in the `BudgetState` of each `RouteContext` (from `[budget]`,
0 = no cap), so the router only compares; below the caps it passes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from assistant.core.config import Config
from assistant.core.routing.protocol import RouteContext, RouteDecision, TurnRequest
from assistant.routers import local_only_decision


def _dollars(value: float) -> str:
    return f"${value:,.2f}"


@dataclass(frozen=True, slots=True)
class BudgetRouter:
    name: ClassVar[str] = "budget"

    @classmethod
    def from_config(cls, config: Config) -> BudgetRouter:
        return cls()

    def route(self, turn: TurnRequest, context: RouteContext) -> RouteDecision | None:
        budget = context.budget
        for label, spent, cap in (
            ("session", budget.session_spent, budget.session_cap),
            ("daily", budget.day_spent, budget.day_cap),
        ):
            if cap and spent >= budget.near * cap:
                return local_only_decision(context, f"budget: {_dollars(spent)} of the {_dollars(cap)} {label} cap spent")
        return None
