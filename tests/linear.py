"""The property "time grows at most linearly with the input", checked by doubling.

`assert_linear(work, make, sizes)` times `work(make(n))` for each size (best of a
few runs, in this process's CPU time: a process waiting for a busy core is not
working, so other processes' load does not count) and checks that each doubling of
the input costs at most `factor` times as much (linear is 2; quadratic is 4).
Inputs too small to time reliably are measured as at least `floor_s`. A check
that fails is measured again (`attempts` in all, keeping each size's best), so
a machine busy with other tests does not fail it; a quadratic cost still does.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any


def best_time(work: Callable[[Any], object], arg: Any, repeats: int = 3) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.process_time()
        work(arg)
        best = min(best, time.process_time() - start)
    return best


def assert_linear(
    work: Callable[[Any], object],
    make: Callable[[int], Any],
    sizes: Sequence[int] = (100_000, 200_000, 400_000),
    *,
    factor: float = 3.0,
    floor_s: float = 0.002,
    repeats: int = 3,
    attempts: int = 6,  # a parallel test on the other core can slow any one measurement
) -> list[float]:
    inputs = [make(n) for n in sizes]
    times = [float("inf")] * len(sizes)
    for _ in range(attempts):
        # Each size's best time over the attempts so far: a machine busy with other
        # tests slows one measurement; a quadratic stays quadratic however often measured.
        times = [min(t, max(best_time(work, arg, repeats), floor_s)) for t, arg in zip(times, inputs)]
        if not _too_steep(sizes, times, factor):
            return times
    problem = _too_steep(sizes, times, factor)
    raise AssertionError(problem)


def _too_steep(sizes: Sequence[int], times: Sequence[float], factor: float) -> str | None:
    for (n1, t1), (n2, t2) in zip(zip(sizes, times), zip(sizes[1:], times[1:])):
        allowed = factor * (n2 / n1) / 2  # `factor` per doubling
        if t2 / t1 > allowed:
            return f"size {n1} → {n2}: {t1 * 1e3:.1f} ms → {t2 * 1e3:.1f} ms (> {allowed:.1f}×)"
    return None
