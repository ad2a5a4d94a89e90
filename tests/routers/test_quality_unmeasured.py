"""`quality` on a kind nobody has measured yet: code and edit turns go to the strongest
backend until the cheap one is measured (`[router] unmeasured`), chat and explain
to the cheapest; the strongest is read from prices and windows, never from a name."""

from __future__ import annotations

from dataclasses import replace

import pytest

from assistant.core.config import Config, ConfigError
from assistant.core.decisions import BudgetState, KindHistory, Measured, TurnRequest
from assistant.core.routing.chain import RouterChain, build_chain
from assistant.core.routing.discovery import load_router
from assistant.core.words import QUALITY
from assistant.routers.budget import BudgetRouter
from assistant.routers.rules import RulesRouter
from tests.routers.test_quality_router import MEETS, MIDDLING, SHORT, STRONG, claude, ctx, decide, local, router

code = TurnRequest("write a function that parses dates", kind="code")
edit = TurnRequest("rename foo to bar in utils.py", kind="edit")
chat = TurnRequest("thanks!", kind="chat")
explain = TurnRequest("why does this loop never end?", kind="explain")
UNMEASURED = Measured()  # a first run: no speed, no answer length


@pytest.mark.parametrize("turn", [code, edit], ids=["code", "edit"])
def test_with_nothing_rated_code_and_edit_go_to_the_strongest_and_say_why(turn: TurnRequest) -> None:
    d = decide(turn, ctx(local(), claude()))
    assert d.backend == "claude"
    assert d.reason == f"local's quality on {turn.kind} is not measured yet → claude"
    assert d.kind == turn.kind and d.explored is False
    assert d.fallbacks == ("local",)


def test_it_holds_on_a_first_run_with_nothing_measured_at_all() -> None:
    d = decide(edit, ctx(local(measured=UNMEASURED), claude(measured=UNMEASURED)))
    assert (d.backend, d.reason) == ("claude", "local's quality on edit is not measured yet → claude")


@pytest.mark.parametrize("turn", [chat, explain], ids=["chat", "explain"])
def test_with_nothing_rated_chat_and_explain_are_left_to_the_cheapest(turn: TurnRequest) -> None:
    assert router().route(turn, ctx(local(), claude())) is None  # `rules`: cost × time


def test_unmeasured_cheapest_leaves_code_and_edit_to_the_cheapest_too() -> None:
    for turn in (code, edit):
        assert router(unmeasured="cheapest").route(turn, ctx(local(), claude())) is None
    d = decide(edit, ctx(local((2, 0)), claude()), unmeasured="cheapest")
    assert d.backend == "local" and d.reason.startswith("edit: local: not enough data (2 rated), unsure")


def test_a_few_ratings_do_not_make_it_measured() -> None:
    d = decide(edit, ctx(local((3, 0)), claude()))
    assert (d.backend, d.reason) == ("claude", "local's quality on edit is not measured yet (3 rated) → claude")


def test_once_measured_good_enough_the_cheap_one_takes_it() -> None:
    d = decide(edit, ctx(local(MEETS), claude()))
    assert d.backend == "local" and d.reason.startswith("edit: local 31/33 good (≥ 0.85) ≥ floor 0.80 → local")


def test_once_measured_but_unsure_the_cheap_one_is_measured_further() -> None:
    # enough ratings, bounds either side of the floor: it is measured, so it is not passed over unseen
    d = decide(edit, ctx(local(MIDDLING), claude()))
    assert d.backend == "local" and d.reason.startswith("edit: local 14/16 good (≥ 0.71), unsure")


def test_a_measured_good_backend_wins_over_an_unmeasured_stronger_one() -> None:
    mid = claude(STRONG, name="mid", input_price=1e-6, output_price=5e-6)
    dear = claude(name="dear", input_price=15e-6, output_price=75e-6)
    d = decide(edit, ctx(local(), mid, dear))
    assert d.backend == "mid" and "≥ floor" in d.reason


def test_a_cheap_one_measured_short_is_named_before_the_unmeasured_one() -> None:
    server = local(name="gpu-box", local=False, private=True, priced_by_time=True, window_tokens=32_000)
    d = decide(edit, ctx(local(SHORT), server, claude(window_tokens=190_000)))
    assert d.backend == "claude"
    assert d.reason == (
        "local 2/12 good (≥ 0.08) < floor 0.80; gpu-box's quality on edit is not measured yet → claude"
    )


def test_the_strongest_is_the_dearest_output_token_not_a_name() -> None:
    # a free backend named "claude" on this machine, and two priced remote ones
    free = local(name="claude")
    cheap = claude(name="haiku", input_price=1e-6, output_price=5e-6)
    dear = claude(name="opus", input_price=15e-6, output_price=75e-6)
    for order in ((free, cheap, dear), (dear, free, cheap), (cheap, dear, free)):
        d = decide(edit, ctx(*order))
        assert d.backend == "opus"
        assert d.reason == "claude's quality on edit is not measured yet → opus"


def test_a_machine_priced_by_its_time_is_below_any_priced_model_and_windows_break_ties() -> None:
    server = local(name="gpu-box", local=False, private=True, priced_by_time=True, window_tokens=32_000)
    small = local(window_tokens=3_000)
    assert decide(edit, ctx(small, server)).backend == "gpu-box"  # neither priced: the larger window
    assert decide(edit, ctx(small, server, claude(window_tokens=8_000))).backend == "claude"
    unpriced = claude(input_price=None, output_price=None, window_tokens=8_000)
    assert decide(edit, ctx(small, unpriced)).backend == "claude"  # unpriced: its window still says more


def test_two_equal_backends_leave_it_to_the_cheapest() -> None:
    twin = local(name="twin")
    assert router().route(edit, ctx(local(), twin)) is None  # nothing rated: `rules` decides


def test_the_unmeasured_cheap_one_is_still_measured_on_a_share_of_the_turns() -> None:
    context = ctx(local(), claude(), history=KindHistory(turns=1000))
    decisions = [decide(edit, context, s) for s in range(200)]
    explored = [d for d in decisions if d.explored]
    assert {d.backend for d in decisions if not d.explored} == {"claude"}
    assert explored and {d.backend for d in explored} == {"local"}
    assert all(d.reason.startswith("edit: measuring local: not enough data (0 rated)") for d in explored)


def test_the_first_turns_are_never_spent_measuring() -> None:
    context = ctx(local(), claude(), history=KindHistory(turns=0))
    assert {(d.backend, d.explored) for d in (decide(edit, context, s) for s in range(100))} == {("claude", False)}


@pytest.mark.parametrize(
    "turn",
    [
        replace(edit, forced="local", forced_by="@local"),
        replace(edit, flags=frozenset({QUALITY})),
    ],
    ids=["named", "@quality"],
)
def test_a_named_backend_or_quality_flag_is_left_to_rules(turn: TurnRequest) -> None:
    assert router().route(turn, ctx(local(), claude())) is None


def test_without_a_stronger_backend_available_it_passes() -> None:
    down = claude(available=False, unavailable_reason="no API key")
    assert router().route(edit, ctx(local(), down)) is None


def test_in_the_chain_a_spent_budget_still_keeps_it_local() -> None:
    chain = RouterChain([BudgetRouter(session_dollars=1.0), router()], default=RulesRouter())
    spent = ctx(local(), claude(), budget=BudgetState(session_spent=1.0))
    assert chain.route(edit, spent).backend == "local"
    d = chain.route(edit, ctx(local(), claude()))
    assert (d.backend, d.decided_by) == ("claude", "quality")


def test_the_setting_is_read_from_the_router_section() -> None:
    assert load_router("quality", Config()).unmeasured == "strongest"
    cheapest = Config().with_overrides({"router.unmeasured": "cheapest"})
    assert load_router("quality", cheapest).route(edit, ctx(local(), claude())) is None
    chain, problems = build_chain(Config())
    assert problems == [] and chain.route(edit, ctx(local(), claude())).backend == "claude"


def test_a_wrong_setting_is_one_line_naming_the_choices() -> None:
    with pytest.raises(ConfigError, match=r"unmeasured.*strongest.*cheapest|unmeasured.*cheapest.*strongest"):
        Config().with_overrides({"router.unmeasured": "best"})
