"""`rules`, the default decider, after "Smart Task Routing" in the throughput analysis.

In order: a backend the user asked for; a highest-quality turn with a short
context → Claude; batch work or a long context → local; else the backend with
the lower estimated cost × time, from measured figures only. A chosen backend
that cannot take the turn is skipped for the next one, and the reason says so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from assistant.render import format as fmt
from assistant.core.config import Config
from assistant.core.options import TOKENS_MAX, setting
from assistant.core.routing.protocol import (
    QUALITY,
    BackendProfile,
    Estimate,
    RouteContext,
    RouteDecision,
    TurnRequest,
    estimates,
)
from assistant.routers import money, tokens, unavailable


def _first(context: RouteContext, test: Callable[[BackendProfile], bool], preferred: str) -> BackendProfile | None:
    """The backend named `preferred` if it passes `test`, else the first that does."""
    named = context.profile(preferred)
    if named is not None and test(named):
        return named
    return next((b for b in context.backends if test(b)), None)


def _missing(profile: BackendProfile) -> str:
    """Why a candidate's cost × time is unknown, in words."""
    m = profile.measured
    if m.tokens_per_second is None or m.tokens_per_second <= 0 or m.ttft is None:
        return f"no measured speed for {profile.name} yet"
    if not profile.local and (profile.input_price is None or profile.output_price is None):
        return f"no price for {profile.name}"
    return f"no measured answer length for {profile.name} yet"


def _surely_lowest(values: dict[str, float | None]) -> str | None:
    """The one candidate whose value is known to be the lowest, if there is one.

    With some values unknown only a known 0 is surely lowest (nothing costs less).
    """
    known = {k: v for k, v in values.items() if v is not None}
    if not known:
        return None
    low = min(known.values())
    winners = [k for k, v in known.items() if v == low]
    if len(winners) != 1 or (len(known) < len(values) and low > 0):
        return None
    return winners[0]


@dataclass(frozen=True, slots=True)
class RulesOptions:
    """`[routers.rules]`."""

    quality_max_context: int = setting(
        8000, "A highest-quality turn whose context is under this many tokens goes to a remote backend (Claude).",
        minimum=0, maximum=TOKENS_MAX,
    )
    local_min_context: int = setting(
        10000, "A context over this many tokens (or batch work) goes to the local model.",
        minimum=0, maximum=TOKENS_MAX,
    )


@dataclass(frozen=True, slots=True)
class RulesRouter:
    quality_max_context: int = 8000
    local_min_context: int = 10000
    name: ClassVar[str] = "rules"
    Options: ClassVar[type] = RulesOptions

    @classmethod
    def from_config(cls, config: Config, options: RulesOptions) -> RulesRouter:
        return cls(options.quality_max_context, options.local_min_context)

    def route(self, turn: TurnRequest, context: RouteContext) -> RouteDecision:
        ests = estimates(context)
        backend, reason = self._choose(turn, context, ests)
        fallbacks = tuple(b.name for b in context.available if b.name != backend)
        return RouteDecision(backend, reason, estimates=ests, fallbacks=fallbacks)

    def _choose(self, turn: TurnRequest, context: RouteContext, ests: tuple[Estimate, ...]) -> tuple[str, str]:
        notes: list[str] = []  # rules that would have decided but could not, in words
        told: set[str] = set()  # backends whose unavailability a note already gives
        if turn.forced:
            if context.profile(turn.forced) is not None:
                asked = f"{turn.forced_by} → {turn.forced}" if turn.forced_by else f"you asked for {turn.forced}"
                return self._take(turn.forced, asked, context)
            notes.append(f"you asked for {turn.forced}, but there is no backend named {turn.forced}")

        remote = _first(context, lambda b: not b.local, "claude")
        if QUALITY in turn.flags and remote is not None and remote.context_tokens < self.quality_max_context:
            why = f"highest quality and {tokens(remote.context_tokens)} tokens < {tokens(self.quality_max_context)}"
            if remote.available:
                return remote.name, f"{why} → {remote.name}"
            notes.append(f"{why}, but {unavailable(remote)}")
            told.add(remote.name)

        local = _first(context, lambda b: b.local, "local")
        if local is not None and (turn.kind == "batch" or local.context_tokens > self.local_min_context):
            why = (
                "batch work"
                if turn.kind == "batch"
                else f"{tokens(local.context_tokens)} tokens > {tokens(self.local_min_context)}"
            )
            backend, reason = self._take(local.name, f"{why} → {local.name}", context)
        else:
            backend, reason = self._cheapest(context, ests, told)
        return backend, "; ".join([*notes, reason])

    def _take(self, name: str, reason: str, context: RouteContext) -> tuple[str, str]:
        """`name` with `reason` if it is available, else the next available backend, saying why."""
        profile = context.profile(name)
        if profile is not None and profile.available:
            return name, reason
        skipped = unavailable(profile) if profile is not None else f"there is no backend named {name}"
        other = next(iter(context.available), None)
        if other is None:
            return name, f"{reason}, but {skipped} and no other backend is available"
        return other.name, f"{reason}, but {skipped} → {other.name}"

    def _cheapest(self, context: RouteContext, ests: tuple[Estimate, ...], told: set[str]) -> tuple[str, str]:
        """The candidate with the lower cost × time; with figures missing, by what is known:
        a surely lower cost, then a surely lower time, then local."""
        candidates = context.available
        said = [unavailable(b) for b in context.backends if not b.available and b.name not in told]
        if not candidates:
            local = _first(context, lambda b: b.local, "local")
            name = local.name if local else (context.backends[0].name if context.backends else "local")
            return name, "; ".join(said or ["no backend is available"]) + f" → {name}, which will say why"
        if len(candidates) == 1:
            only = candidates[0].name
            return only, "; ".join([*said, f"only {only} is available"]) + f" → {only}"

        by_name = {e.backend: e for e in ests}
        cost = {b.name: by_name[b.name].cost for b in candidates}
        time = {b.name: by_name[b.name].seconds for b in candidates}
        product = {
            n: None if cost[n] is None or time[n] is None else cost[n] * time[n]  # type: ignore[operator]
            for n in cost
        }
        if all(v is not None for v in product.values()):
            order = sorted(candidates, key=lambda b: (product[b.name], not b.local))
            figures = " vs ".join(
                f"{b.name} {money(cost[b.name])} × {fmt.seconds(time[b.name])}" for b in order  # type: ignore[arg-type]
            )
            return order[0].name, "; ".join([*said, f"lowest cost × time: {figures} → {order[0].name}"])

        said += [_missing(b) for b in candidates if product[b.name] is None]
        cheapest = _surely_lowest(cost)
        fastest = _surely_lowest(time)
        if cheapest is not None:
            rest = [f"{n} {money(v)}" for n, v in cost.items() if n != cheapest and v is not None]
            versus = f" (vs {', '.join(rest)})" if rest else ""
            backend, why = cheapest, f"{cheapest} costs {money(cost[cheapest])}{versus}"  # type: ignore[arg-type]
        elif fastest is not None:
            rest = [f"{n} {fmt.seconds(v)}" for n, v in time.items() if n != fastest]
            backend, why = fastest, f"{fastest} is faster ({fmt.seconds(time[fastest])} vs {', '.join(rest)})"
        else:
            pick = next((b for b in candidates if b.local), candidates[0])
            backend = pick.name
            why = "nothing measured to compare" + (", local first" if pick.local else "")
        return backend, "; ".join([*said, f"{why} → {backend}"])
