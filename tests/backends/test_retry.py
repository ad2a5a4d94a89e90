from __future__ import annotations

import pytest

from assistant.backends.retry import RetryBudget, backoff_delay, retry_after_seconds


def test_retry_after_headers() -> None:
    assert retry_after_seconds({"retry-after-ms": "250"}) == 0.25
    assert retry_after_seconds({"retry-after": "3"}) == 3.0
    assert retry_after_seconds({"retry-after": "Mon, 30 Nov 2026 10:00:10 GMT"}, now=lambda: 1796032800.0) == 10.0
    assert retry_after_seconds({"retry-after": "soon"}) is None
    assert retry_after_seconds({}) is None


def test_backoff_follows_the_sdk() -> None:
    # 0.5 * 2**n capped at 8 s, minus up to 25% jitter; the server's wait wins.
    assert backoff_delay(0, {}, rand=lambda: 0.0) == 0.5
    assert backoff_delay(2, {}, rand=lambda: 0.0) == 2.0
    assert backoff_delay(10, {}, rand=lambda: 0.0) == 8.0
    assert backoff_delay(0, {}, rand=lambda: 1.0) == pytest.approx(0.375)
    assert backoff_delay(0, {"retry-after": "2"}) == 2.0


def test_budget_bounds_attempts_and_total_time() -> None:
    budget = RetryBudget(max_retries=2, max_seconds=3.0)
    assert budget.next_wait({"retry-after": "1"}) == 1.0
    budget.spend(1.0)
    assert budget.next_wait({"retry-after": "2.5"}) is None  # 1 + 2.5 > 3: not worth starting
    assert budget.next_wait({"retry-after": "2"}) == 2.0
    budget.spend(2.0)
    assert budget.next_wait({}) is None  # two retries done
