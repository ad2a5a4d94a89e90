"""`budget`: once the session's or the day's spending nears its cap, turns go local.

The caps are this router's settings (`[routers.budget]`, 0 = no cap); what was
spent travels in the `BudgetState` of each `RouteContext`. Below the caps it passes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from assistant.core.config import Config
from assistant.core.options import DOLLARS_MAX, setting
from assistant.core.routing.protocol import RouteContext, RouteDecision, TurnRequest
from assistant.routers import local_only_decision


def _dollars(value: float) -> str:
    return f"${value:,.2f}"


@dataclass(frozen=True, slots=True)
class BudgetOptions:
    """`[routers.budget]`."""

    session_dollars: float = setting(0.0, "Spending cap per session in $; 0 = none.", minimum=0, maximum=DOLLARS_MAX)
    daily_dollars: float = setting(0.0, "Spending cap per day (local time) in $; 0 = none.", minimum=0,
                                   maximum=DOLLARS_MAX)  # fmt: skip
    near: float = setting(0.9, "Share of a cap from which turns go local.", minimum=0, maximum=1)


@dataclass(frozen=True, slots=True)
class BudgetRouter:
    session_dollars: float = 0.0  # 0: no cap
    daily_dollars: float = 0.0
    near: float = 0.9
    name: ClassVar[str] = "budget"
    Options: ClassVar[type] = BudgetOptions

    @classmethod
    def from_config(cls, config: Config, options: BudgetOptions) -> BudgetRouter:
        return cls(options.session_dollars, options.daily_dollars, options.near)

    def route(self, turn: TurnRequest, context: RouteContext) -> RouteDecision | None:
        budget = context.budget
        for label, spent, cap in (
            ("session", budget.session_spent, self.session_dollars),
            ("daily", budget.day_spent, self.daily_dollars),
        ):
            if cap and spent >= self.near * cap:
                return local_only_decision(context, f"budget: {_dollars(spent)} of the {_dollars(cap)} {label} cap spent")
        return None
