"""`quality`: each kind of turn to the cheapest backend whose answers are measured to be good enough.

For the turn's kind (core/routing/kinds.py), each available backend's measured
quality (`BackendProfile.quality`: its rated answers on that kind under a
Beta(1, 1) prior, core/accounting/quality.py) is held against the kind's floor
(`[routers.quality] floor_<kind>`, else `floor`):

- it *meets* the floor with enough rated answers and a lower bound at or above it;
- it *falls short* with enough rated answers and an upper bound below it;
- it is *unsure* otherwise (too few rated answers, or bounds either side).

The choice: the cheapest backend (by estimated cost × time) that meets the
floor; else the cheapest unsure one (answering is how it gets measured; on code
and edit turns, see below); else, when every one falls short, the one with the
highest estimated quality.

Another backend may take the turn to be measured instead (Thompson sampling:
each backend's quality drawn from its posterior, the cheapest draw at or above
the floor wins): one cheaper than the choice, or, when the choice falls short
of the floor, a dearer one too (one written off by a few unlucky answers gets
to show otherwise), never one known to fall short while another may not; on at
most `[routers.quality] explore_share` of the kind's recent routed turns.

Code and edit turns are not trusted to a backend that is not measured on them
(`[router] unmeasured = "strongest"`, the default): while the cheapest hopeful
backend has too few rated answers on the kind, the strongest available one
takes the turn instead ("local's quality on edit is not measured yet → claude"),
until ratings measure the cheaper one (exploration still sends it a share of
the turns). *Strongest* is read from what is known, never from a name: the
dearest output token in the price table (what a provider charges follows what
its model can do; a machine of the user's is priced by its time, not by its
tokens, and ranks below any priced model), then the larger context window.
With `unmeasured = "cheapest"`, and on chat and explain turns always, the
cheapest takes it and its answers measure it.

It passes (the next router decides) when no backend has a rated answer on this
kind yet and the cheapest may take it (chat and explain; every kind with
`unmeasured = "cheapest"`), when the user named a backend or asked for
`@quality` (the best there is: `rules`), or when fewer than two backends can
answer.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import ClassVar

from assistant.core.config import Config
from assistant.core.options import setting
from assistant.core.routing.protocol import (
    KINDS,
    QUALITY,
    BackendProfile,
    Estimate,
    RouteContext,
    RouteDecision,
    TurnRequest,
    estimates,
)
from assistant.routers import money

STRONGEST = "strongest"  # `[router] unmeasured`: the other choice is "cheapest"
# The kinds a backend must be measured on before it is trusted with them: a wrong
# answer there costs a broken edit, not a sentence.
DISTRUSTED_KINDS = frozenset({"code", "edit", "task"})


def describe(profile: BackendProfile) -> str:
    """`local 14/16 good (≥ 0.71)`, or `claude: not enough data (2 rated)`. The bound
    is rounded down, so that it never reads as meeting a floor it misses."""
    q = profile.quality
    tested = f"; eval {q.eval_passed}/{q.evaluated} passed" if q.evaluated else ""
    if not q.enough:
        return f"{profile.name}: not enough data ({q.rated} rated{tested})"
    return f"{profile.name} {q.good}/{q.rated} good (≥ {math.floor(q.lower * 100) / 100:.2f}{tested})"


def passed_over(profile: BackendProfile, floor: float) -> str:
    """Why a cheaper backend did not take the turn: below the floor, or not measured enough."""
    said = describe(profile)
    return said if not profile.quality.enough else f"{said} < floor {floor:.2f}"


def _meets(profile: BackendProfile, floor: float) -> bool:
    return profile.quality.enough and profile.quality.lower >= floor


def _short(profile: BackendProfile, floor: float) -> bool:
    return profile.quality.enough and profile.quality.upper < floor


def _strength(profile: BackendProfile) -> tuple[float, int]:
    """How capable a backend's model is, by what is known of it without rated answers:
    what its output token costs in the price table (a machine of the user's is
    priced by its time, not by its tokens: 0 here, below any priced model), then
    the context window it takes."""
    per_token = 0.0 if profile.priced_by_time or profile.output_price is None else profile.output_price
    return per_token, profile.window_tokens


def _price(estimate: Estimate | None) -> float:
    """What the ranking sorts on: cost × time where both are known, a known zero
    cost (nothing costs less), else unknown (last)."""
    if estimate is None or estimate.cost is None:
        return math.inf
    if estimate.cost == 0:
        return 0.0
    return math.inf if estimate.seconds is None else estimate.cost * estimate.seconds


def _floor(what: str) -> float:
    return setting(-1.0, f"The floor for {what}; negative = floor.", minimum=-1, maximum=1)


@dataclass(frozen=True, slots=True)
class QualityOptions:
    """`[routers.quality]`."""

    floor: float = setting(
        0.8, "The share of good answers a backend must surely reach on a kind of turn to take it.", minimum=0, maximum=1
    )
    floor_chat: float = _floor("chat turns")
    floor_explain: float = _floor("questions (explain)")
    floor_code: float = _floor("new code (code)")
    floor_edit: float = _floor("edits of existing code")
    floor_batch: float = _floor("batch work")
    floor_task: float = _floor("tasks (the model acts with tools)")
    explore_share: float = setting(
        0.1, "At most this share of a kind's turns goes to a backend to measure it.", minimum=0, maximum=1
    )


@dataclass(frozen=True, slots=True)
class QualityRouter:
    floor: float = 0.8
    floors: Mapping[str, float] = field(default_factory=dict)  # per kind, where set
    explore_share: float = 0.1
    unmeasured: str = STRONGEST  # `[router] unmeasured`
    rng: random.Random = field(default_factory=random.Random, compare=False)
    name: ClassVar[str] = "quality"
    Options: ClassVar[type] = QualityOptions

    @classmethod
    def from_config(cls, config: Config, options: QualityOptions) -> QualityRouter:
        floors = {kind: value for kind in KINDS if (value := getattr(options, f"floor_{kind}")) >= 0}
        return cls(options.floor, floors, options.explore_share, config.router.unmeasured)

    def floor_for(self, kind: str) -> float:
        return self.floors.get(kind, self.floor)

    def route(self, turn: TurnRequest, context: RouteContext) -> RouteDecision | None:
        ready = context.available
        if turn.forced or QUALITY in turn.flags or len(ready) < 2:
            return None
        ests = estimates(context)
        by_name = {e.backend: e for e in ests}
        order = sorted(ready, key=lambda b: (_price(by_name.get(b.name)), not b.local))
        floor = self.floor_for(turn.kind)
        if not any(b.quality.rated for b in ready) and self._stronger(order, floor, turn.kind) is None:
            return None  # nothing measured, and the cheapest may take it: `rules` weighs cost and time
        chosen, why = self._choose(order, floor, turn.kind)
        explored = self._explore(order, chosen, floor, context)
        if explored is not None:
            history = context.history
            reason = (
                f"{turn.kind}: measuring {describe(explored)} "
                f"({history.explored + 1} of {history.turns + 1} recent {turn.kind} turns, at most {self.explore_share:.0%})"
                f" → {explored.name}"
            )
            chosen = explored
        else:
            reason = f"{why} → {chosen.name}{self._saving(chosen, order, by_name)}"
        fallbacks = tuple(b.name for b in order if b.name != chosen.name)
        return RouteDecision(chosen.name, reason, estimates=ests, fallbacks=fallbacks, explored=explored is not None,
                             kind=turn.kind)  # fmt: skip

    def _choose(self, order: Sequence[BackendProfile], floor: float, kind: str) -> tuple[BackendProfile, str]:
        """The backend, and why in words (naming the kind), before any exploration."""
        meets = [b for b in order if _meets(b, floor)]
        cheaper = order[: order.index(meets[0])] if meets else list(order)
        skipped = "; ".join(passed_over(b, floor) for b in cheaper if b.quality.rated)
        if meets:
            said = f"{describe(meets[0])} ≥ floor {floor:.2f}"
            return meets[0], f"{kind}: " + (f"{skipped}; {said}" if skipped else said)
        unsure = [b for b in order if not _short(b, floor)]
        if unsure:
            short = "; ".join(passed_over(b, floor) for b in order[: order.index(unsure[0])])
            stronger = self._stronger(order, floor, kind)
            if stronger is not None:  # the reason names the kind itself
                rated = f" ({unsure[0].quality.rated} rated)" if unsure[0].quality.rated else ""
                said = f"{unsure[0].name}'s quality on {kind} is not measured yet{rated}"
                return stronger, f"{short}; {said}" if short else said
            said = f"{describe(unsure[0])}, unsure: its answers measure it"
            return unsure[0], f"{kind}: " + (f"{short}; {said}" if short else said)
        best = max(order, key=lambda b: b.quality.mean)
        return best, f"{kind}: none meets floor {floor:.2f}; the best measured is {describe(best)}"

    def _stronger(self, order: Sequence[BackendProfile], floor: float, kind: str) -> BackendProfile | None:
        """The strongest hopeful backend, where it takes a code or edit turn from the
        cheapest hopeful one, which is not measured on the kind yet; None when the
        cheapest may take it (`[router] unmeasured = "cheapest"`, another kind, a
        measured cheapest, or none stronger)."""
        if self.unmeasured != STRONGEST or kind not in DISTRUSTED_KINDS:
            return None
        hopeful = [b for b in order if not _short(b, floor)]
        if not hopeful or hopeful[0].quality.enough:
            return None
        strongest = max(hopeful, key=_strength)  # the first of equals: the cheapest
        return None if strongest is hopeful[0] else strongest

    def _explore(
        self, order: Sequence[BackendProfile], chosen: BackendProfile, floor: float, context: RouteContext
    ) -> BackendProfile | None:
        """Another backend to measure on this turn, when its draw makes it the better
        choice and the share allows: a cheaper one; or, when the choice itself falls
        short, a dearer one too (a backend written off by a few unlucky answers must
        get the chance to show otherwise). An unsure choice is measured by taking the
        turn: nothing dearer is tried while it may still prove good enough; and one
        known to fall short is not tried again while another may not."""
        history = context.history
        # (with a margin for the float product: 29 of 100 at 29% is allowed)
        if history.explored + 1 > self.explore_share * (history.turns + 1) + 1e-9:
            return None
        # A backend known to fall short is not measured further, unless every one does.
        hopeful = [b for b in order if not _short(b, floor)] or list(order)
        draws = {b.name: self.rng.betavariate(1 + b.quality.good, 1 + b.quality.bad) for b in hopeful}
        good_enough = [b for b in hopeful if draws[b.name] >= floor]
        pick = good_enough[0] if good_enough else max(hopeful, key=lambda b: draws[b.name])
        if pick is chosen or (order.index(pick) > order.index(chosen) and not _short(chosen, floor)):
            return None
        return pick

    @staticmethod
    def _saving(chosen: BackendProfile, order: Sequence[BackendProfile], by_name: Mapping[str, Estimate]) -> str:
        """` (saves ≈ $0.012)` against the dearest other candidate, where both costs are known."""
        mine = by_name.get(chosen.name)
        others = [e.cost for b in order if b.name != chosen.name and (e := by_name.get(b.name)) and e.cost is not None]
        if mine is None or mine.cost is None or not others or max(others) <= mine.cost:
            return ""
        return f" (saves ≈ {money(max(others) - mine.cost)})"
