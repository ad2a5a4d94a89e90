"""A finished turn's footer: what was measured, the estimate said only once (in the badge)."""

from __future__ import annotations

from assistant.core.decisions import Estimate, RouteDecision
from assistant.core.results import TurnResult, TurnStats
from assistant.render.format import route_badge, turn_summary


def finished_turn(evaluated: int = 19) -> TurnResult:
    stats = TurnStats(ttft=0.12, generation_tps=98.2, prompt_eval_tps=1234.0, tokens_in=19, tokens_out=45,
                      prompt_tokens_evaluated=evaluated, elapsed=1.27, finished=True, usage_estimated=False)  # fmt: skip
    decision = RouteDecision("local", "local costs $0", "rules", (Estimate("local", 0.0, 15.27, "measured over 3 turns"),))
    return TurnResult("an answer", stats, 0.0, "ok", "stop", None, backend="local", model="SmolLM2",
                      decision=decision, routed_to="local")  # fmt: skip


def test_the_footer_does_not_repeat_the_badges_estimate():
    turn = finished_turn()
    assert "est. $0.0000 · 15.27 s" in route_badge(turn.decision)
    footer = turn_summary(turn)
    assert "est." not in footer and "15.27" not in footer
    assert footer.endswith("took 1.27 s")


def test_evaluated_is_said_only_when_the_cache_saved_some_of_the_prompt():
    assert "evaluated" not in turn_summary(finished_turn(evaluated=19))
    assert "7 evaluated" in turn_summary(finished_turn(evaluated=7))
