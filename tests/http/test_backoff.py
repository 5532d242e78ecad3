"""Backoff bounds and Retry-After parsing, for every input hypothesis can think of."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

from hypothesis import given
from hypothesis import strategies as st

from shared.http.backoff import backoff_ceiling, full_jitter, parse_retry_after

NOW = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)
bases = st.floats(min_value=0.001, max_value=60, allow_nan=False)
caps = st.floats(min_value=0.001, max_value=3600, allow_nan=False)
retries = st.integers(min_value=0, max_value=200)


@given(retry=retries, base=bases, cap=caps, seed=st.integers())
def test_full_jitter_stays_between_zero_and_the_capped_ceiling(
    retry: int, base: float, cap: float, seed: int
) -> None:
    base = min(base, cap)
    wait = full_jitter(retry, base, cap, random.Random(seed).uniform)
    assert 0.0 <= wait <= min(cap, base * 2.0 ** min(retry, 64)) <= cap


@given(retry=retries, base=bases, cap=caps)
def test_the_ceiling_doubles_until_the_cap_and_never_shrinks(retry: int, base: float, cap: float) -> None:
    base = min(base, cap)
    this, following = backoff_ceiling(retry, base, cap), backoff_ceiling(retry + 1, base, cap)
    assert base <= this <= cap
    assert this <= following
    assert following == cap or following == 2 * this


def test_the_draw_covers_the_whole_range() -> None:
    draw = random.Random(7).uniform
    waits = [full_jitter(3, 1.0, 100.0, draw) for _ in range(2000)]
    assert all(0.0 <= wait <= 8.0 for wait in waits)
    assert min(waits) < 0.5 and max(waits) > 7.5


@given(seconds=st.integers(min_value=1, max_value=10**9))
def test_delta_seconds(seconds: int) -> None:
    assert parse_retry_after(str(seconds), NOW) == float(seconds)
    assert parse_retry_after(f"  {seconds} ", NOW) == float(seconds)


@given(seconds=st.integers(min_value=1, max_value=10**7))
def test_a_future_http_date_is_the_seconds_until_it(seconds: int) -> None:
    header = format_datetime(NOW + timedelta(seconds=seconds), usegmt=True)
    assert parse_retry_after(header, NOW) == float(seconds)


@given(seconds=st.integers(min_value=0, max_value=10**7))
def test_now_or_a_past_date_is_no_hint(seconds: int) -> None:
    header = format_datetime(NOW - timedelta(seconds=seconds), usegmt=True)
    assert parse_retry_after(header, NOW) is None


def test_zero_negative_and_missing_are_no_hint() -> None:
    for value in (None, "", "   ", "0", "0.0", "-5", "-0"):
        assert parse_retry_after(value, NOW) is None
    assert parse_retry_after("1.5", NOW) == 1.5


@given(value=st.text())
def test_anything_else_is_parsed_or_ignored_never_raised(value: str) -> None:
    result = parse_retry_after(value, NOW)
    assert result is None or result > 0
