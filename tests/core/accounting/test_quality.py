from __future__ import annotations

import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.core.accounting.quality import (
    CREDIBLE,
    MIN_RATED,
    PRIOR,
    beta_cdf,
    beta_quantile,
    estimate,
)
from assistant.core.decisions import Quality

# -- an independent reference: Simpson's rule on the Beta density ------------------


def beta_density(t: float, a: float, b: float) -> float:
    """For a, b >= 1 (finite at both ends)."""
    log_norm = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
    if t <= 0.0:
        return math.exp(log_norm) if a == 1 else 0.0
    if t >= 1.0:
        return math.exp(log_norm) if b == 1 else 0.0
    return math.exp(log_norm + (a - 1) * math.log(t) + (b - 1) * math.log1p(-t))


def simpson_cdf(x: float, a: float, b: float, intervals: int = 4000) -> float:
    """P(X <= x) for X ~ Beta(a, b), a, b >= 1, by Simpson's rule from 40 standard
    deviations below the mean (the mass below that is far under 1e-12)."""
    mean = a / (a + b)
    sd = math.sqrt(a * b / ((a + b) ** 2 * (a + b + 1)))
    start = max(0.0, mean - 40 * sd)
    if x <= start:
        return 0.0
    h = (x - start) / intervals
    total = beta_density(start, a, b) + beta_density(x, a, b)
    for i in range(1, intervals):
        total += (4 if i % 2 else 2) * beta_density(start + i * h, a, b)
    return total * h / 3


def points_around_the_bulk(a: float, b: float) -> list[float]:
    mean = a / (a + b)
    sd = math.sqrt(a * b / ((a + b) ** 2 * (a + b + 1)))
    candidates = [mean + k * sd for k in (-3, -1.5, -0.5, 0, 0.7, 1.5, 2.5)]
    return [x for x in candidates if 0.0 < x < 1.0]


SIMPSON_SHAPES = [
    (15, 3),
    (32, 3),
    (2.5, 7.5),
    (7.5, 2.5),
    (1.5, 1.5),
    (400, 30),
    (100_001, 5_001),
    (1e6, 3e5),
    (1e6, 1e6),
]


@pytest.mark.parametrize(("a", "b"), SIMPSON_SHAPES)
def test_cdf_matches_numerical_integration_of_the_density(a: float, b: float) -> None:
    for x in points_around_the_bulk(a, b):
        assert beta_cdf(x, a, b) == pytest.approx(simpson_cdf(x, a, b), abs=1e-6), x


@pytest.mark.parametrize(("a", "b"), [(15, 3), (32, 3), (2.5, 7.5), (400, 30)])
def test_quantile_matches_numerical_integration_of_the_density(a: float, b: float) -> None:
    for p in (0.01, 0.1, 0.5, 0.9):
        assert simpson_cdf(beta_quantile(p, a, b), a, b) == pytest.approx(p, abs=1e-6)


# -- closed forms ------------------------------------------------------------------

GRID = [0.0, 1e-9, 0.01, 0.1, 0.25, 0.5, 0.73, 0.9, 0.999, 1.0 - 1e-9, 1.0]


@pytest.mark.parametrize("x", GRID)
def test_uniform_cdf_is_x(x: float) -> None:
    assert beta_cdf(x, 1, 1) == pytest.approx(x, abs=1e-14)


@pytest.mark.parametrize("a", [0.3, 1.0, 2.0, 4.0, 15.0, 250.0, 1e6])
def test_beta_a_1_is_x_to_the_a(a: float) -> None:
    for x in GRID:
        assert beta_cdf(x, a, 1) == pytest.approx(x**a, rel=1e-12, abs=1e-14)
    for p in (0.01, 0.1, 0.5, 0.9, 0.99):
        assert beta_quantile(p, a, 1) == pytest.approx(p ** (1 / a), abs=1e-9)


@pytest.mark.parametrize("b", [0.3, 1.0, 2.0, 4.0, 15.0, 250.0, 1e6])
def test_beta_1_b_is_one_minus_the_complement_to_the_b(b: float) -> None:
    for x in GRID:
        # 1 - (1 - x)**b, written so that rounding 1 - x does not spoil it for large b
        expected = -math.expm1(b * math.log1p(-x)) if x < 1 else 1.0
        assert beta_cdf(x, 1, b) == pytest.approx(expected, rel=1e-12, abs=1e-14)
    for p in (0.01, 0.1, 0.5, 0.9, 0.99):
        assert beta_quantile(p, 1, b) == pytest.approx(1 - (1 - p) ** (1 / b), abs=1e-9)


@pytest.mark.parametrize("x", GRID)
def test_arcsine_distribution(x: float) -> None:
    # Beta(1/2, 1/2): the density is infinite at both ends.
    # (2 / pi) asin(sqrt(x)), in a form that stays accurate near x = 1
    expected = 2 / math.pi * math.atan2(math.sqrt(x), math.sqrt(1 - x))
    assert beta_cdf(x, 0.5, 0.5) == pytest.approx(expected, abs=1e-13)


def negative_binomial_cdf(x: float, a: int, n: int) -> float:
    """I_x(a, n) for a whole n: x^a * sum over j < n of C(a + j - 1, j) (1 - x)^j
    (the binomial coefficients exact, as lgamma differences are not for large a)."""
    terms = (math.comb(a + j - 1, j) * (1 - x) ** j for j in range(n))
    return math.exp(a * math.log(x)) * sum(terms)


@pytest.mark.parametrize(("a", "n"), [(15, 3), (1_000_000, 3), (100_001, 7)])
def test_large_a_with_a_whole_b_matches_the_finite_sum(a: int, n: int) -> None:
    for x in points_around_the_bulk(a, n):
        assert beta_cdf(x, a, n) == pytest.approx(negative_binomial_cdf(x, a, n), rel=1e-9)
        # and the mirror image
        assert beta_cdf(1 - x, n, a) == pytest.approx(1 - negative_binomial_cdf(x, a, n), abs=1e-9)


@pytest.mark.parametrize("a", [1.0, 3.5, 40.0, 1e4, 1e6])
def test_symmetric_shapes_put_half_below_one_half(a: float) -> None:
    assert beta_cdf(0.5, a, a) == pytest.approx(0.5, abs=1e-12)
    assert beta_quantile(0.5, a, a) == pytest.approx(0.5, abs=1e-10)


def test_exact_ends() -> None:
    for a, b in [(1, 1), (15, 3), (0.2, 5), (1e6, 1e6)]:
        assert beta_cdf(0.0, a, b) == 0.0
        assert beta_cdf(-3.0, a, b) == 0.0
        assert beta_cdf(1.0, a, b) == 1.0
        assert beta_cdf(7.0, a, b) == 1.0
        assert beta_quantile(0.0, a, b) == 0.0
        assert beta_quantile(1.0, a, b) == 1.0


ROUND_TRIP_SHAPES = [(1, 1), (15, 3), (32, 3), (2.5, 7.5), (0.5, 0.5), (400, 30), (100_001, 5_001)]


@pytest.mark.parametrize(("a", "b"), ROUND_TRIP_SHAPES)
def test_quantile_undoes_cdf(a: float, b: float) -> None:
    for x in points_around_the_bulk(a, b):
        assert beta_quantile(beta_cdf(x, a, b), a, b) == pytest.approx(x, abs=1e-9)


# -- properties --------------------------------------------------------------------

shapes = st.floats(min_value=-1.0, max_value=6.0).map(lambda e: 10.0**e)  # 0.1 .. 1e6
unit = st.floats(min_value=0.0, max_value=1.0)


@given(a=shapes, b=shapes, x=unit)
def test_symmetry(a: float, b: float, x: float) -> None:
    x = 1 - (1 - x)  # so that x and 1 - x are exact complements
    assert beta_cdf(x, a, b) == pytest.approx(1 - beta_cdf(1 - x, b, a), abs=1e-11)


@given(a=shapes, b=shapes, x=unit, y=unit)
def test_cdf_is_a_monotone_probability(a: float, b: float, x: float, y: float) -> None:
    low, high = sorted((x, y))
    at_low, at_high = beta_cdf(low, a, b), beta_cdf(high, a, b)
    assert 0.0 <= at_low <= 1.0 and 0.0 <= at_high <= 1.0
    assert at_low <= at_high + 1e-12


@settings(max_examples=60, deadline=None)
@given(a=shapes, b=shapes, p=unit, q=unit)
def test_quantile_is_monotone(a: float, b: float, p: float, q: float) -> None:
    low, high = sorted((p, q))
    assert beta_quantile(low, a, b) <= beta_quantile(high, a, b)


@settings(max_examples=60, deadline=None)
@given(a=shapes, b=shapes, p=unit)
def test_quantile_brackets_p(a: float, b: float, p: float) -> None:
    x = beta_quantile(p, a, b)
    assert 0.0 <= x <= 1.0
    assert beta_cdf(x - 1e-10, a, b) <= p + 1e-12
    assert beta_cdf(x + 1e-10, a, b) >= p - 1e-12


counts = st.integers(min_value=0, max_value=1000)


@settings(max_examples=60, deadline=None)
@given(good=counts, bad=counts)
def test_the_bounds_hold_the_mean_between_them(good: int, bad: int) -> None:
    q = estimate(good, bad)
    assert 0.0 < q.lower <= q.mean <= q.upper < 1.0
    # good and bad swap places under the mirror image
    assert q.upper == pytest.approx(1 - estimate(bad, good).lower, abs=2e-10)
    assert q.mean == pytest.approx((1 + good) / (2 + good + bad))


@settings(max_examples=60, deadline=None)
@given(good=counts, bad=counts)
def test_lower_bound_rises_with_good_and_falls_with_bad(good: int, bad: int) -> None:
    q = estimate(good, bad)
    assert estimate(good + 1, bad).lower > q.lower
    assert estimate(good, bad + 1).lower < q.lower
    assert estimate(good + 1, bad).upper > q.upper
    assert estimate(good, bad + 1).upper < q.upper


@given(good=counts, bad=counts)
def test_enough_exactly_from_the_minimum(good: int, bad: int) -> None:
    assert estimate(good, bad).enough is (good + bad >= MIN_RATED)


# -- estimate and the table --------------------------------------------------------


def test_constants() -> None:
    assert PRIOR == (1.0, 1.0)
    assert MIN_RATED == 5
    assert CREDIBLE == 0.9


def test_enough_at_the_minimum() -> None:
    assert not estimate(MIN_RATED - 1, 0).enough
    assert estimate(MIN_RATED, 0).enough
    assert estimate(2, MIN_RATED - 2).enough


def test_no_ratings_is_the_prior() -> None:
    q = estimate(0, 0)
    assert isinstance(q, Quality)
    assert (q.good, q.bad, q.rated, q.mean, q.enough) == (0, 0, 0, 0.5, False)
    assert (q.lower, q.upper) == pytest.approx((0.1, 0.9), abs=1e-10)  # Beta(1, 1) is uniform


def test_a_lucky_streak_is_not_proof() -> None:
    # 3/3 has the higher rate but the lower bound says 31/33 is the better bet.
    streak, record = estimate(3, 0), estimate(31, 2)
    assert streak.lower == pytest.approx(0.1**0.25, abs=1e-9)  # Beta(4, 1)
    assert streak.mean < record.mean and streak.lower < record.lower - 0.25
    assert estimate(12, 0).lower == pytest.approx(0.1 ** (1 / 13), abs=1e-9)  # Beta(13, 1)


def test_the_bounds_are_the_tenth_and_ninetieth_percentiles() -> None:
    for good, bad in [(14, 2), (31, 2), (7, 7), (0, 9)]:
        q = estimate(good, bad)
        assert simpson_cdf(q.lower, 1 + good, 1 + bad) == pytest.approx(1 - CREDIBLE, abs=1e-6)
        assert simpson_cdf(q.upper, 1 + good, 1 + bad) == pytest.approx(CREDIBLE, abs=1e-6)


def test_a_large_ledger_gives_a_tight_bound() -> None:
    q = estimate(100_000, 5_000)  # about 2 ms: cheap enough to compute every turn
    assert q.mean == pytest.approx(100_001 / 105_002)
    assert simpson_cdf(q.lower, 100_001, 5_001) == pytest.approx(0.1, abs=1e-6)
    # the posterior is nearly normal here: about mean - 1.2816 sd (skew moves it by 2e-6)
    sd = math.sqrt(q.mean * (1 - q.mean) / 105_003)
    assert q.lower == pytest.approx(q.mean - 1.2815516 * sd, abs=5e-6)


# -- bad input ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b"), [(0, 1), (1, 0), (-1, 2), (2, -0.5), (math.nan, 1), (1, math.inf)]
)
def test_bad_shapes_are_rejected(a: float, b: float) -> None:
    with pytest.raises(ValueError):
        beta_cdf(0.5, a, b)
    with pytest.raises(ValueError):
        beta_quantile(0.5, a, b)


@pytest.mark.parametrize("p", [-0.01, 1.01, math.nan, math.inf])
def test_bad_probabilities_are_rejected(p: float) -> None:
    with pytest.raises(ValueError):
        beta_quantile(p, 2, 3)


def test_nan_x_is_rejected() -> None:
    with pytest.raises(ValueError):
        beta_cdf(math.nan, 2, 3)


@pytest.mark.parametrize(("good", "bad"), [(-1, 0), (0, -1), (-3, -3)])
def test_negative_counts_are_rejected(good: int, bad: int) -> None:
    with pytest.raises(ValueError):
        estimate(good, bad)
