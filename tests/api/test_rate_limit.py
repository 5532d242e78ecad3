"""The per-caller moving window: what a caller is told, and that callers do not share a window."""

from __future__ import annotations

import time

import pytest

from shared.api.rate_limit import RateLimiter


def test_a_caller_past_its_limit_is_told_when_its_oldest_call_leaves_the_window() -> None:
    limiter = RateLimiter(per_minute=3)
    assert [limiter.admit("flow-a") for _ in range(3)] == [None, None, None]
    wait = limiter.admit("flow-a")
    assert wait is not None and 59 <= wait <= 60
    assert limiter.admit("flow-b") is None  # another caller has a window of its own


def test_the_wait_shrinks_as_the_oldest_call_ages() -> None:
    limiter = RateLimiter(per_minute=1)
    assert limiter.admit("flow-a") is None
    first = limiter.admit("flow-a")
    time.sleep(1.1)
    later = limiter.admit("flow-a")
    assert first is not None and later is not None and later < first


def test_the_limit_must_allow_a_call() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        RateLimiter(per_minute=0)
