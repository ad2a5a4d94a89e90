"""What a turn cost. Cost formulas live here, never in display code.

Claude prices come from `assistant/data/prices.toml` (shipped in the package,
with its `updated` date) overlaid with the user's `[prices."MODEL"]` tables
from the config file. A model found in neither has an unknown cost (`None`),
which the app shows as "unknown", never as $0.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import lru_cache
from importlib import resources
from typing import Any

from assistant.core.events import Usage
from assistant.core.text import named, shown
from assistant.core.tomlfile import TomlProblem, parse_toml

SECONDS_PER_HOUR = 3600.0
PER_MILLION = 1_000_000.0
RATE_KEYS = ("input", "output", "cache_write_5m", "cache_write_1h", "cache_read")
_DATE_SUFFIX = re.compile(r"-\d{8}$")


class PriceError(Exception):
    """A prices table is malformed; one line naming where and what."""


@dataclass(frozen=True, slots=True)
class Rates:
    """Dollars per million tokens."""

    input: float
    output: float
    cache_write_5m: float
    cache_write_1h: float
    cache_read: float


@dataclass(frozen=True, slots=True)
class ModelPrice:
    model: str
    rates: Rates
    context_window: int | None = None
    # Rates for a request whose whole prompt is over `long_prompt_above` tokens.
    long_prompt_rates: Rates | None = None
    long_prompt_above: int | None = None

    def rates_for(self, prompt_tokens: int) -> Rates:
        if self.long_prompt_rates is not None and prompt_tokens > (self.long_prompt_above or 0):
            return self.long_prompt_rates
        return self.rates


@dataclass(frozen=True, slots=True)
class PriceTable:
    models: Mapping[str, ModelPrice]
    updated: str = ""
    source: str = ""

    def lookup(self, model: str) -> ModelPrice | None:
        """The price of `model`; dated ids ("…-20250929") fall back to their alias."""
        for candidate in _aliases(model):
            if candidate in self.models:
                return self.models[candidate]
        return None

    def with_overrides(self, overrides: Mapping[str, Mapping[str, Any]], where: str) -> PriceTable:
        models = dict(self.models)
        for model, table in overrides.items():
            models[model] = _override(models.get(model), model, table, where)
        return replace(self, models=models)


def _aliases(model: str) -> list[str]:
    names = [model]
    undated = _DATE_SUFFIX.sub("", model)
    if undated != model:
        names.append(undated)
    names.append(f"{undated}-0")  # "claude-opus-4-20250514" is listed as "claude-opus-4-0"
    return names


def _number(where: str, key: str, value: Any) -> float:
    try:
        number = float(value) if not isinstance(value, bool) and isinstance(value, int | float) else math.nan
    except OverflowError:  # an integer beyond any float
        number = math.inf
    if not (math.isfinite(number) and number >= 0):
        raise PriceError(f"{where}: {key}: expected a finite price of at least 0, got {shown(value)}")
    return number


def _rates(where: str, table: Mapping[str, Any], base: Rates | None = None) -> Rates:
    values = {k: _number(where, k, table[k]) for k in RATE_KEYS if k in table}
    if base is not None:
        return replace(base, **values)
    missing = [k for k in RATE_KEYS if k not in values]
    if missing:
        raise PriceError(f"{where}: missing {', '.join(missing)} (a new model needs all of {', '.join(RATE_KEYS)})")
    return Rates(**values)


_KNOWN = set(RATE_KEYS) | {"context_window", "long_prompt"}


def _model_price(model: str, table: Mapping[str, Any], where: str) -> ModelPrice:
    return _override(None, model, table, where)


def _override(base: ModelPrice | None, model: str, table: Mapping[str, Any], where: str) -> ModelPrice:
    here = f'{where}."{named(model)}"'
    if not isinstance(table, Mapping):
        raise PriceError(f"{here}: expected a table of prices, got {shown(table)}")
    unknown = sorted(set(table) - _KNOWN)
    if unknown:
        raise PriceError(f"{here}: unknown key {shown(unknown[0])} (known: {', '.join(sorted(_KNOWN))})")
    rates = _rates(here, table, base.rates if base else None)
    window = table.get("context_window", base.context_window if base else None)
    if window is not None and (isinstance(window, bool) or not isinstance(window, int) or not 0 < window <= 2**31):
        raise PriceError(f"{here}: context_window: expected an integer from 1 to {2**31}, got {shown(window)}")
    long_rates, above = (base.long_prompt_rates, base.long_prompt_above) if base else (None, None)
    if "long_prompt" in table:
        long = table["long_prompt"]
        if not isinstance(long, Mapping) or "above_tokens" not in long:
            raise PriceError(f"{here}: long_prompt: expected a table with above_tokens and rates")
        above = int(_number(here, "long_prompt.above_tokens", long["above_tokens"]))
        long_rates = _rates(f"{here}.long_prompt", {k: v for k, v in long.items() if k != "above_tokens"}, long_rates)
    return ModelPrice(model, rates, window, long_rates, above)


def parse_price_table(text: str, where: str) -> PriceTable:
    try:
        data = parse_toml(text)
    except TomlProblem as exc:
        raise PriceError(f"{where}: {exc}") from None
    models = data.get("models", {})
    if not isinstance(models, Mapping):
        raise PriceError(f"{where}: [models] must be a table")
    return PriceTable(
        {name: _model_price(name, table, f"{where}: models") for name, table in models.items()},
        updated=str(data.get("updated", "")),
        source=str(data.get("source", "")),
    )


@lru_cache(maxsize=1)
def shipped_prices() -> PriceTable:
    """The price table shipped in the package."""
    text = resources.files("assistant.data").joinpath("prices.toml").read_text(encoding="utf-8")
    return parse_price_table(text, "assistant/data/prices.toml")


def price_table(overrides: Mapping[str, Mapping[str, Any]] | None = None, where: str = "config") -> PriceTable:
    table = shipped_prices()
    return table.with_overrides(overrides, f"{where}: prices") if overrides else table


# -- formulas ------------------------------------------------------------------


def claude_cost(price: ModelPrice, usage: Usage) -> float:
    """A Claude turn's cost from the API's usage: uncached input, both cache
    write TTLs, cache reads and output, each at its own rate."""
    rates = price.rates_for(usage.prompt_tokens)
    write_1h = min(usage.cache_write_1h_tokens, usage.cache_write_tokens)
    write_5m = usage.cache_write_tokens - write_1h
    dollars = (
        usage.uncached_prompt_tokens * rates.input
        + write_5m * rates.cache_write_5m
        + write_1h * rates.cache_write_1h
        + usage.cache_read_tokens * rates.cache_read
        + usage.completion_tokens * rates.output
    )
    return dollars / PER_MILLION


def local_turn_cost(machine_dollars_per_hour: float, seconds: float) -> float:
    """A local turn's cost: the machine's hourly cost spread over the turn's measured time."""
    return machine_dollars_per_hour * max(seconds, 0.0) / SECONDS_PER_HOUR


def counterfactual_usage(usage: Usage, *, from_claude: bool) -> Usage:
    """The usage the same turn would have had on Claude.

    A Claude turn keeps its real figures, cache included. A local turn's prompt
    is priced as uncached input: the local model has no prompt cache to bill,
    and a cache hit on Claude cannot be assumed for a turn it never saw.
    """
    if from_claude:
        return usage
    return Usage(prompt_tokens=usage.prompt_tokens, completion_tokens=usage.completion_tokens)


def turn_costs(
    prices: PriceTable,
    *,
    local: bool,
    model: str,
    usage: Usage | None,
    billed: bool,
    elapsed: float,
    machine_per_hour: float,
    reference_model: str,
) -> tuple[float | None, float | None]:
    """A turn's (cost, counterfactual cost on the reference Claude model).

    `billed` is False for a request the API refused before reporting any usage:
    failed requests are not charged, so both costs are $0. Otherwise a remote
    turn without usage, or on a model without a price, costs `None` (unknown).
    """
    if not billed:
        return (local_turn_cost(machine_per_hour, elapsed) if local else 0.0), 0.0
    if local:
        cost: float | None = local_turn_cost(machine_per_hour, elapsed)
    else:
        price = prices.lookup(model)
        cost = claude_cost(price, usage) if price is not None and usage is not None else None
    reference = prices.lookup(reference_model)
    counterfactual = None
    if reference is not None and usage is not None:
        counterfactual = claude_cost(reference, counterfactual_usage(usage, from_claude=not local))
    return cost, counterfactual


__all__ = [
    "ModelPrice",
    "PriceError",
    "PriceTable",
    "Rates",
    "claude_cost",
    "counterfactual_usage",
    "local_turn_cost",
    "parse_price_table",
    "price_table",
    "shipped_prices",
    "turn_costs",
]
