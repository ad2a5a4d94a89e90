"""A turn's result with every figure set, for tests of what is stored."""

from __future__ import annotations

from assistant.core.decisions import Estimate, RouteDecision
from assistant.core.events import Usage
from assistant.core.results import TurnResult, TurnStats


def answered_by(
    *, backend: str = "claude", model: str = "claude-sonnet-5-5", reason: str = "long prompt",
    fallback_from: str | None = None, cost: float | None = 0.0123, answer: str = "an answer", question: str = "q",
) -> TurnResult:
    stats = TurnStats(ttft=0.25, generation_tps=48.5, prompt_eval_tps=900.0, tokens_in=1200, tokens_out=64,
                      prompt_tokens_evaluated=None, elapsed=1.6, finished=True, usage_estimated=False,
                      generation_seconds=1.3)
    usage = Usage(1200, 64, None, cache_read_tokens=1000, cache_write_tokens=100, cache_write_1h_tokens=0, model=model)
    decision = RouteDecision(backend, reason, "rules", (Estimate(backend, 0.01, 1.5, "measured over 3 turns"),
                                                        Estimate("local", 0.0, None, "no measured speed yet")),
                             ("local",), False)
    return TurnResult(answer, stats, cost, "ok", "end_turn", None, backend=backend, model=model, usage=usage,
                      counterfactual_cost=0.02, fallback_from=fallback_from, decision=decision, routed_to=backend,
                      question=question)


def rated_answers(ledger) -> list[tuple[str, str, bool]]:  # noqa: ANN001 - a Ledger
    """(backend, kind, good?) for each answer the ledger counts as rated, sorted."""
    from assistant.core.store import ratings

    return sorted((backend, kind, good) for (backend, _, kind), (n_good, n_bad) in ratings.counts(ledger).items()
                  for good, n in ((True, n_good), (False, n_bad)) for _ in range(n))
