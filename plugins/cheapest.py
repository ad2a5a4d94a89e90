"""cheapest: a router that sends each turn to the backend that costs least.

A worked example of a third-party router as a single file. To use it, copy it
into your plugins folder (`plugins/` in the config directory; this
checkout's `plugins/` is searched too) and name it in the chain:

    [router]
    chain = ["privacy", "budget", "cheapest", "rules"]

It decides only when it knows: every available backend's cost is estimated
(from measured speed, answer length and prices; see
`assistant.core.routing.protocol.estimate`), or one of them surely costs nothing.
Otherwise it passes, and the next router in the chain decides. Ties go to the
faster backend.

Its one setting shows how a router declares options (`Options`, read under
`[routers.cheapest]`, checked at start-up, handed to `from_config`):

    [routers.cheapest]
    min_saving = 0.001  # decide only when the cheapest saves at least $0.001 a turn
"""

from __future__ import annotations

from dataclasses import dataclass

from assistant.core.config import Config
from assistant.core.options import DOLLARS_MAX, setting
from assistant.core.routing.protocol import RouteContext, RouteDecision, TurnRequest, estimates


def _dollars(value: float) -> str:
    return "$0" if value == 0 else f"${value:.4f}"


@dataclass(frozen=True, slots=True)
class CheapestOptions:
    """`[routers.cheapest]`: each field a setting, with its help, default and range."""

    min_saving: float = setting(
        0.0, "Decide only when the cheapest backend saves at least this many $ a turn over the next "
        "cheapest; below that, pass to the next router. 0 = always decide.", minimum=0, maximum=DOLLARS_MAX,
    )


class CheapestRouter:
    name = "cheapest"
    Options = CheapestOptions

    def __init__(self, min_saving: float = 0.0) -> None:
        self.min_saving = min_saving

    @classmethod
    def from_config(cls, config: Config, options: CheapestOptions) -> CheapestRouter:
        return cls(options.min_saving)

    def route(self, turn: TurnRequest, context: RouteContext) -> RouteDecision | None:
        if turn.forced:
            return None  # the user chose; let `rules` honour it
        ests = estimates(context)
        ready = {b.name for b in context.available}
        candidates = [e for e in ests if e.backend in ready]
        known = [e for e in candidates if e.cost is not None]
        if not known:
            return None
        # An unknown cost might be lower than every known one, unless a known one is $0.
        if len(known) < len(candidates) and min(e.cost for e in known) > 0:  # type: ignore[type-var]
            return None
        never = float("inf")
        best = min(known, key=lambda e: (e.cost, e.seconds if e.seconds is not None else never))
        rest = [e.cost for e in known if e is not best]
        if rest and min(rest) - best.cost < self.min_saving:  # type: ignore[operator]
            return None  # too little saved to be worth deciding on cost alone
        others = ", ".join(f"{e.backend} {_dollars(e.cost)}" for e in known if e is not best)  # type: ignore[arg-type]
        versus = f" (vs {others})" if others else ""
        return RouteDecision(
            best.backend,
            f"cheapest: {best.backend} {_dollars(best.cost)}{versus} → {best.backend}",  # type: ignore[arg-type]
            estimates=ests,
            fallbacks=tuple(e.backend for e in candidates if e.backend != best.backend),
        )


# What the app loads: a class is built with `from_config(config, options)`.
ROUTER = CheapestRouter
