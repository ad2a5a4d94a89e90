"""`assistant plan` uses the evaluations: each configuration's share of requests expected
to pass, over the requests whose kind was measured on the side that serves them."""

from __future__ import annotations

from assistant.core.accounting.workloads import PlanLimits, PlanRates, WorkItem, Workload, plan


def test_each_configuration_s_expected_pass_share_rests_on_the_side_that_serves_each_kind() -> None:
    work = Workload("w", "a week", (WorkItem("specs", "code", 30, 500), WorkItem("chats", "chat", 70, 100)))
    rates = PlanRates(claude_tps=50.0, claude_ttft=0.5, claude_per_million=10.0, local_tps=20.0, local_ttft=0.2,
                      local_per_hour=0.0, local_share=0.5, local_share_by_kind=(("code", 1 / 3), ("chat", 1.0)),
                      claude_passes=(("code", 0.9),), local_passes=(("code", 0.3),))  # fmt: skip
    claude, local, hybrid = plan(work, rates, PlanLimits(4, 2.0)).configurations
    assert (claude.passing, claude.passing_of) == (0.9, 30)  # chat is not measured: left out
    assert (local.passing, local.passing_of) == (0.3, 30)
    assert hybrid.passing_of == 30 and abs(hybrid.passing - (20 * 0.9 + 10 * 0.3) / 30) < 1e-9


def test_with_no_evaluation_there_is_no_figure() -> None:
    work = Workload("w", "t", (WorkItem("specs", "code", 3, 500),))
    [configuration, *_] = plan(work, PlanRates(), PlanLimits(4, 2.0)).configurations
    assert configuration.passing is None and configuration.passing_of == 0
