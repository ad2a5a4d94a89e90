"""`RouterChain`: routers asked in order (`[router] chain`); the first that decides wins.

A router that raises is reported in `errors` (and the log) and skipped, so a
broken plugin costs a line, not the turn. When every router passes, the
built-in `rules` decides. The chain is a mechanism of the core; the routers,
`rules` too, are plugins it loads by name (core/routing/discovery.py), so the core
imports none of them.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from assistant.core.config import Config
from assistant.core.decisions import RouteContext, RouteDecision, TurnRequest
from assistant.core.routing.discovery import load_router
from assistant.core.routing.protocol import Router, RouterError

log = logging.getLogger(__name__)
DEFAULT_ROUTER = "rules"  # decides when every router of the chain passes


class RouterChain:
    name = "chain"

    def __init__(self, routers: Sequence[Router], default: Router | None = None) -> None:
        self.routers: list[Router] = list(routers)
        self.default: Router = default if default is not None else default_router(Config())
        self.errors: list[str] = []  # one line per failure, oldest first

    @property
    def names(self) -> list[str]:
        return [r.name for r in self.routers]

    def route(self, turn: TurnRequest, context: RouteContext) -> RouteDecision:
        for router in [*self.routers, self.default]:
            decision = self._ask(router, turn, context)
            if decision is not None:
                return decision
        # Only reached when the default router itself failed: never leave a turn undecided.
        ready = context.available
        backend = ready[0].name if ready else "local"
        return RouteDecision(backend, f"no router decided → {backend}", decided_by=self.name)

    def _ask(self, router: Router, turn: TurnRequest, context: RouteContext) -> RouteDecision | None:
        name = getattr(router, "name", type(router).__name__)
        try:
            decision = router.route(turn, context)
            if decision is not None and not isinstance(decision, RouteDecision):
                raise TypeError(f"returned a {type(decision).__name__}, not a RouteDecision or None")
        except Exception as exc:
            text = " ".join(str(exc).split())
            message = f"router {name!r} failed: {type(exc).__name__}" + (f": {text}" if text else "")
            self.errors.append(message)
            log.warning("%s (skipped)", message, exc_info=exc)
            return None
        if decision is not None and not decision.decided_by:
            decision = replace(decision, decided_by=name)
        return decision


def build_chain(config: Config, project_root: Path | None = None) -> tuple[RouterChain, list[str]]:
    """The chain `[router] chain` names, and one line for each router that failed
    to load (it is left out). With nothing left, `rules` alone."""
    routers: list[Router] = []
    problems: list[str] = []
    for name in config.router.chain:
        try:
            routers.append(load_router(name, config, project_root=project_root))
        except RouterError as exc:
            problems.append(str(exc))
            log.warning("%s", exc)
    rules = default_router(config, project_root)
    return RouterChain(routers or [rules], default=rules), problems


def default_router(config: Config, project_root: Path | None = None) -> Router:
    """`rules`, as configured: the router that decides when no other does."""
    return load_router(DEFAULT_ROUTER, config, project_root=project_root)
