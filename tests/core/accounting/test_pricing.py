"""Cost arithmetic against hand-computed figures, one price component at a time."""

from __future__ import annotations

import pytest

from assistant.core.events import Usage
from assistant.core.accounting.pricing import (
    PriceError,
    claude_cost,
    local_turn_cost,
    parse_price_table,
    price_table,
    shipped_prices,
    turn_costs,
)

TABLE = parse_price_table(
    """
updated = "2026-11-30"
[models."m"]
input = 3.0
output = 15.0
cache_write_5m = 3.75
cache_write_1h = 6.0
cache_read = 0.3
context_window = 200_000
[models."m".long_prompt]
above_tokens = 1000
input = 6.0
output = 22.5
cache_write_5m = 7.5
cache_write_1h = 12.0
cache_read = 0.6
""",
    "test",
)
M = TABLE.lookup("m")


def test_each_component_at_its_own_rate() -> None:
    assert M is not None
    # 100 uncached input tokens at $3/M = $0.0003
    assert claude_cost(M, Usage(100, 0)) == pytest.approx(0.0003)
    # 200 output tokens at $15/M = $0.003
    assert claude_cost(M, Usage(0, 200)) == pytest.approx(0.003)
    # 400 cache reads at $0.30/M = $0.00012 (the prompt is all cache read: nothing uncached)
    assert claude_cost(M, Usage(400, 0, cache_read_tokens=400)) == pytest.approx(0.00012)
    # 500 5-minute cache writes at $3.75/M = $0.001875
    assert claude_cost(M, Usage(500, 0, cache_write_tokens=500)) == pytest.approx(0.001875)
    # 500 writes of which 300 with 1-hour TTL: 200 x 3.75 + 300 x 6 = 750 + 1800 = $0.00255
    assert claude_cost(M, Usage(500, 0, cache_write_tokens=500, cache_write_1h_tokens=300)) == pytest.approx(0.00255)


def test_a_whole_turn() -> None:
    # prompt 900 = 100 uncached + 600 read + 200 written (5m); 50 out
    # 100*3 + 600*0.3 + 200*3.75 + 50*15 = 300 + 180 + 750 + 750 = 1980 -> $0.00198
    usage = Usage(900, 50, cache_read_tokens=600, cache_write_tokens=200)
    assert usage.uncached_prompt_tokens == 100
    assert claude_cost(M, usage) == pytest.approx(0.00198)


def test_long_prompts_pay_the_long_rates_on_every_token() -> None:
    # prompt 1,001 > 1,000: 1001*6 + 10*22.5 = 6006 + 225 = 6231 -> $0.006231
    assert claude_cost(M, Usage(1001, 10)) == pytest.approx(0.006231)
    # exactly at the threshold: normal rates, 1000*3 + 10*15 = 3150 -> $0.00315
    assert claude_cost(M, Usage(1000, 10)) == pytest.approx(0.00315)


def test_local_cost_is_machine_time() -> None:
    assert local_turn_cost(3.6, 10.0) == pytest.approx(0.01)  # $3.60/h for 10 s
    assert local_turn_cost(0.0, 10.0) == 0.0


def test_unknown_model_cost_is_unknown_never_zero() -> None:
    cost, counterfactual = turn_costs(
        TABLE, local=False, model="nope", usage=Usage(100, 10), billed=True,
        elapsed=1.0, machine_per_hour=0.0, reference_model="m",
    )
    assert cost is None
    assert counterfactual == pytest.approx((100 * 3 + 10 * 15) / 1e6)


def test_counterfactual_prices_a_local_turn_as_uncached_claude_input() -> None:
    cost, counterfactual = turn_costs(
        TABLE, local=True, model="smollm", usage=Usage(500, 100, prompt_tokens_evaluated=20),
        billed=True, elapsed=36.0, machine_per_hour=1.0, reference_model="m",
    )
    assert cost == pytest.approx(0.01)  # $1/h for 36 s
    assert counterfactual == pytest.approx((500 * 3 + 100 * 15) / 1e6)


def test_a_claude_turn_keeps_its_cache_figures_in_the_counterfactual() -> None:
    usage = Usage(900, 50, cache_read_tokens=600, cache_write_tokens=200)
    cost, counterfactual = turn_costs(
        TABLE, local=False, model="m", usage=usage, billed=True,
        elapsed=1.0, machine_per_hour=0.0, reference_model="m",
    )
    assert cost == counterfactual == pytest.approx(0.00198)


def test_a_request_refused_before_any_usage_is_not_billed() -> None:
    assert turn_costs(
        TABLE, local=False, model="m", usage=Usage(900, 0, estimated=True), billed=False,
        elapsed=1.0, machine_per_hour=0.0, reference_model="m",
    ) == (0.0, 0.0)


def test_dated_ids_use_their_alias() -> None:
    prices = shipped_prices()
    assert prices.lookup("claude-sonnet-4-5-20250929").model == "claude-sonnet-4-5"
    assert prices.lookup("claude-opus-4-20250514").model == "claude-opus-4-0"
    assert prices.lookup("gpt-4o") is None


def test_shipped_table_is_complete_and_dated() -> None:
    prices = shipped_prices()
    assert prices.updated
    default = prices.lookup("claude-sonnet-5-5")
    assert default is not None and default.context_window
    for price in prices.models.values():
        assert price.rates.output > price.rates.input > price.rates.cache_read


def test_user_overrides_change_one_rate_or_add_a_model() -> None:
    table = price_table({"claude-sonnet-5-5": {"cache_read": 0.2}, "mine": {
        "input": 1, "output": 2, "cache_write_5m": 1.25, "cache_write_1h": 2, "cache_read": 0.1}})
    sonnet = table.lookup("claude-sonnet-5-5")
    assert sonnet.rates.cache_read == 0.2 and sonnet.rates.input == shipped_prices().lookup("claude-sonnet-5-5").rates.input
    assert table.lookup("mine").rates.output == 2.0


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"new": {"input": 1}}, "missing output"),
        ({"claude-sonnet-5-5": {"input": -1}}, "at least 0"),
        ({"claude-sonnet-5-5": {"inptu": 1}}, "unknown key 'inptu'"),
        ({"claude-sonnet-5-5": 3}, "expected a table"),
    ],
)
def test_bad_overrides_are_one_clear_line(overrides: dict, message: str) -> None:
    with pytest.raises(PriceError, match=message) as info:
        price_table(overrides)
    assert "\n" not in str(info.value)
