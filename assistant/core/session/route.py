"""Routing a session's turn: every candidate's window is fitted, each backend's
profile built from measured figures, and the configured router chain asked; a
router that raises or decides nothing leaves the turn to the built-in rules."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.core import routing
from assistant.core.config import Config
from assistant.core.decisions import BudgetState, RouteContext, RouteDecision, TurnRequest
from assistant.core.routing.protocol import Router
from assistant.core.session.pool import BackendPool
from assistant.core.session.recorder import TurnRecorder
from assistant.core.session.runner import AUTO, TurnRunner
from assistant.core.session.turns import unavailable_reason

if TYPE_CHECKING:
    from assistant.core.window.sliding import Assembly, ContextTooLarge

log = logging.getLogger(__name__)

Fit = Callable[[str], "Assembly | ContextTooLarge"]


class SessionRouter:
    def __init__(
        self,
        config: Config,
        pool: BackendPool,
        recorder: TurnRecorder,
        runner: TurnRunner,
        project_root: Path,
        router: Router | None = None,
        *,
        named: tuple[str, str] = (AUTO, ""),
    ) -> None:
        """`named`: the backend the session was fixed on as it started, and how the user
        named it ("named with --backend"); a backend fixed later was named by `/model`."""
        self.config = config
        self.pool = pool
        self.recorder = recorder
        self.runner = runner
        self.project_root = project_root
        self._router = router
        self._default: Router | None = None  # the built-in rules, when the chain decides nothing
        self._problems: list[str] = []  # plugins that failed to load or raised
        self._problems_said = 0
        self._named = named

    def router(self) -> Router:
        if self._router is None:
            self._router, problems = routing.build_chain(self.config, self.project_root)
            self._problems = list(problems)
        return self._router

    def new_problems(self) -> list[str]:
        """Router problems not said yet (each is said once)."""
        problems = self._problems + list(getattr(self._router, "errors", []))
        fresh = problems[self._problems_said :]
        self._problems_said = len(problems)
        return fresh

    def route(
        self, request: TurnRequest, candidates: list[str], mode: str, fit: Fit
    ) -> tuple[RouteDecision, dict[str, Assembly | ContextTooLarge]]:
        """Fit the turn into every candidate's window and ask the router."""
        windows: dict[str, Assembly | ContextTooLarge] = {}
        profiles = []
        for name in candidates:
            backend = self.pool.get(name)
            unavailable = unavailable_reason(backend)  # first: a remote backend connects, and so knows its context
            windows[name] = window = fit(name)
            measured = self.recorder.measured(backend)
            found = routing.profile(backend, window, measured, self.runner.prices, self.config, unavailable=unavailable)
            profiles.append(replace(found, name=name, quality=self.recorder.quality(backend, request.kind)))
        budget = BudgetState(self.runner.totals.cost, self.recorder.day_spent())
        context = RouteContext(tuple(profiles), budget, self.recorder.history(request.kind))
        if mode != AUTO and request.forced is None:
            fixed, how = self._named
            request = replace(request, forced=mode, forced_by=how if how and fixed == mode else f"/model {mode}")
        try:
            decision = self.router().route(request, context)
        except Exception as exc:  # a plugin router must not take the turn down
            log.exception("router failed")
            self._problems.append(f"router failed: {type(exc).__name__}: {exc}")
            decision = None
        if decision is None:
            decision = self._rules().route(request, context)
            decision = replace(decision, decided_by=decision.decided_by or "rules")
        return replace(decision, kind=decision.kind or request.kind), windows

    def _rules(self) -> Router:
        if self._default is None:
            self._default = routing.default_router(self.config, self.project_root)
        return self._default
