"""A backend's answer quality on one kind of turn, as a figure the router can trust.

Each rated turn is good or bad (what counts as a rated turn, and which way it
went, is decided elsewhere from the ledger's ratings; see core/store). We treat
a backend's good rate on a kind of turn as unknown and give it a uniform prior,
Beta(1, 1); after `good` good and `bad` bad turns the posterior is
Beta(1 + good, 1 + bad). From it we report three figures:

- the posterior mean, (1 + good) / (2 + good + bad): the best single guess;
- the lower credible bound, the posterior's 10th percentile: we are 90% sure
  the true good rate is at least that;
- the upper credible bound, its 90th percentile: 90% sure the rate is at most
  that, which is what it takes to say a backend falls short.

The router trusts a backend on a kind only by the lower bound, because the
mean rewards luck: three good turns out of three have a mean of 0.8, but the
posterior is still wide and its 10th percentile is only about 0.56, while 31
good out of 33 earns about 0.85. A lucky streak does not count as proof; a long
record does. Below `MIN_RATED` rated turns the figure is marked not `enough`
and the router says "not enough data" instead of ranking on it.

Stdlib only: the regularized incomplete beta function is computed by its
continued fraction and inverted by bisection.
"""

from __future__ import annotations

import math
from functools import lru_cache

from assistant.core.decisions import Quality

# Beta(1, 1): every good rate equally likely before any turn is rated.
PRIOR: tuple[float, float] = (1.0, 1.0)
# Below this many rated turns the router says "not enough data".
MIN_RATED = 5
# The lower bound is the posterior's (1 - CREDIBLE) quantile, the upper one its CREDIBLE quantile.
CREDIBLE = 0.9

# The continued fraction's relative tolerance, and the floor that keeps the
# modified Lentz recurrences from dividing by zero.
_EPSILON = 1e-15
_TINY = 1e-300
# Bisection stops when the bracket is this narrow.
_QUANTILE_TOLERANCE = 1e-10
# From here on the front factor uses Stirling's series instead of lgamma differences.
_STIRLING_FROM = 10.0
_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


# -- the Beta distribution -----------------------------------------------------------


def beta_cdf(x: float, a: float, b: float) -> float:
    """The regularized incomplete beta function I_x(a, b): P(X <= x) for X ~ Beta(a, b).

    The continued fraction converges fast only below the distribution's bulk,
    for x < (a + 1) / (a + b + 2); above it we use I_x(a, b) = 1 - I_{1-x}(b, a),
    which puts the argument back on the fast side.
    """
    _check_shape(a, b)
    if math.isnan(x):
        raise ValueError("x is NaN")
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    if x < (a + 1.0) / (a + b + 2.0):
        return _front_factor(x, a, b) * _continued_fraction(x, a, b) / a
    return 1.0 - _front_factor(x, a, b) * _continued_fraction(1.0 - x, b, a) / b


def beta_quantile(p: float, a: float, b: float) -> float:
    """The x with beta_cdf(x, a, b) == p, to within 1e-10.

    Plain bisection over [0, 1] (34 halvings): every p tests the same midpoints
    until it parts from another p, so the answer is monotone in p even where the
    cdf's last digits are not, and it cannot diverge where the density is nearly
    flat or very steep (as a Newton step could)."""
    _check_shape(a, b)
    if not 0.0 <= p <= 1.0:  # also rejects NaN
        raise ValueError(f"p must be in [0, 1], not {p}")
    if p == 0.0:
        return 0.0
    if p == 1.0:
        return 1.0
    low, high = 0.0, 1.0
    while high - low > _QUANTILE_TOLERANCE:
        middle = 0.5 * (low + high)
        if beta_cdf(middle, a, b) < p:
            low = middle
        else:
            high = middle
    return 0.5 * (low + high)


def _check_shape(a: float, b: float) -> None:
    if not (a > 0.0 and b > 0.0 and math.isfinite(a) and math.isfinite(b)):
        raise ValueError(f"Beta shape parameters must be positive and finite, not ({a}, {b})")


def _front_factor(x: float, a: float, b: float) -> float:
    """x^a (1 - x)^b / B(a, b), the factor in front of the continued fraction."""
    if min(a, b) >= _STIRLING_FROM:
        return math.exp(_log_front_factor_large(x, a, b))
    return math.exp(a * math.log(x) + b * math.log1p(-x) - _log_beta(a, b))


def _log_beta(a: float, b: float) -> float:
    """log B(a, b), for min(a, b) < _STIRLING_FROM.

    With one count large, lgamma(big) - lgamma(big + small) is the difference
    of two numbers of order big * log(big), and lgamma's rounding alone would
    cost about 1e-9 of relative accuracy at a million; the Stirling form of the
    difference keeps it to rounding."""
    small, big = sorted((a, b))
    if big < _STIRLING_FROM:
        return math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)
    return math.lgamma(small) + _log_gamma_ratio(big, small)


def _log_gamma_ratio(big: float, small: float) -> float:
    """log(Gamma(big) / Gamma(big + small)) by Stirling's series, for big >= _STIRLING_FROM."""
    return (
        -(big - 0.5) * math.log1p(small / big)
        - small * math.log(big + small)
        + small
        + _stirling_tail(big)
        - _stirling_tail(big + small)
    )


def _log_front_factor_large(x: float, a: float, b: float) -> float:
    """log(x^a (1 - x)^b / B(a, b)) for a, b >= _STIRLING_FROM (as in TOMS 708's brcomp).

    Written around the mean a / (a + b), where the large terms a log x and
    b log(1 - x) cancel against log B(a, b) exactly rather than in rounding:
    with shift = a - (a + b) x, it is
    -a g(-shift / a) - b g(shift / b) + log sqrt(ab / (2 pi (a + b))) - tails,
    with g(t) = t - log(1 + t), which is small and flat near the mean."""
    total = a + b
    shift = a - total * x
    return (
        -a * _log1p_shortfall(-shift / a)
        - b * _log1p_shortfall(shift / b)
        + 0.5 * math.log(a * b / total)
        - _LOG_SQRT_2PI
        - (_stirling_tail(a) + _stirling_tail(b) - _stirling_tail(total))
    )


def _log1p_shortfall(t: float) -> float:
    """t - log(1 + t) >= 0; infinite where 1 + t rounds to 0 or below (a factor that is 0)."""
    return t - math.log1p(t) if t > -1.0 else math.inf


def _stirling_tail(z: float) -> float:
    """lgamma(z) - ((z - 1/2) log z - z + log sqrt(2 pi)), for z >= _STIRLING_FROM
    (the next term of the series is below 2e-14 there)."""
    inverse = 1.0 / z
    square = inverse * inverse
    return inverse * (
        1 / 12 - square * (1 / 360 - square * (1 / 1260 - square * (1 / 1680 - square / 1188)))
    )


def _max_terms(a: float, b: float) -> int:
    """Enough terms for the continued fraction: it needs about sqrt(max(a, b)) of them."""
    return 200 + 10 * math.isqrt(int(max(a, b)) + 1)


def _continued_fraction(x: float, a: float, b: float) -> float:
    """The continued fraction for I_x(a, b), by the modified Lentz method
    (Numerical Recipes' betacf); converges fast for x < (a + 1) / (a + b + 2)."""
    c = 1.0
    d = _not_tiny(1.0 - (a + b) * x / (a + 1.0))
    d = 1.0 / d
    result = d
    for m in range(1, _max_terms(a, b) + 1):
        # The even step, then the odd one.
        even = m * (b - m) * x / ((a + 2 * m - 1.0) * (a + 2 * m))
        d = 1.0 / _not_tiny(1.0 + even * d)
        c = _not_tiny(1.0 + even / c)
        result *= d * c
        odd = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1.0))
        d = 1.0 / _not_tiny(1.0 + odd * d)
        c = _not_tiny(1.0 + odd / c)
        step = d * c
        result *= step
        if abs(step - 1.0) < _EPSILON:
            return result
    raise ArithmeticError(f"incomplete beta did not converge for x={x}, a={a}, b={b}")


def _not_tiny(value: float) -> float:
    return value if abs(value) >= _TINY else _TINY


# -- quality figures -----------------------------------------------------------------


@lru_cache(maxsize=4096)
def estimate(good: int, bad: int) -> Quality:
    """The quality figure for `good` good and `bad` bad rated turns (kept: the router
    asks for every backend's on every turn, and the bounds take a continued fraction)."""
    if good < 0 or bad < 0:
        raise ValueError(f"counts must not be negative, not good={good}, bad={bad}")
    a, b = PRIOR[0] + good, PRIOR[1] + bad
    return Quality(
        good=good,
        bad=bad,
        mean=a / (a + b),
        lower=beta_quantile(1.0 - CREDIBLE, a, b),
        upper=beta_quantile(CREDIBLE, a, b),
        enough=good + bad >= MIN_RATED,
    )
