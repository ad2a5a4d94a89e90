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
"""

from __future__ import annotations

from assistant.core.config import Config
from assistant.core.routing.protocol import RouteContext, RouteDecision, TurnRequest, estimates


def _dollars(value: float) -> str:
    return "$0" if value == 0 else f"${value:.4f}"


class CheapestRouter:
    name = "cheapest"

    @classmethod
    def from_config(cls, config: Config) -> CheapestRouter:
        return cls()

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
        others = ", ".join(f"{e.backend} {_dollars(e.cost)}" for e in known if e is not best)  # type: ignore[arg-type]
        versus = f" (vs {others})" if others else ""
        return RouteDecision(
            best.backend,
            f"cheapest: {best.backend} {_dollars(best.cost)}{versus} → {best.backend}",  # type: ignore[arg-type]
            estimates=ests,
            fallbacks=tuple(e.backend for e in candidates if e.backend != best.backend),
        )


# What the app loads: a class is built with `from_config(config)`.
ROUTER = CheapestRouter
