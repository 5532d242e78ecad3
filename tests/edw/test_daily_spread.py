"""Largest-remainder spreading: a month's days, or a profile's codes, add up to the month exactly."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from shared.connectors.edw.daily_spread import apportion, cents, minutes, spread_units
from shared.connectors.edw.job_profiles import MappingRule, map_profile

month_days = st.integers(min_value=28, max_value=31)
amounts = st.decimals(min_value=Decimal("-1e7"), max_value=Decimal("1e7"), places=2)


@given(total=st.integers(min_value=-(10**9), max_value=10**9), days=month_days)
def test_the_days_sum_to_the_month_and_differ_by_one_unit_at_most(total: int, days: int) -> None:
    spread = spread_units(total, days)
    assert len(spread) == days
    assert sum(spread) == total
    assert max(spread) - min(spread) <= 1
    assert all(abs(day * days - total) < days for day in spread)  # each day within a unit of total/days


@given(amount=amounts, days=month_days)
def test_a_months_cents_survive_the_spread(amount: Decimal, days: int) -> None:
    assert sum(Decimal(units) for units in spread_units(cents(amount), days)) / 100 == amount


@given(
    hours=st.decimals(min_value=Decimal(0), max_value=Decimal(50_000), places=2),
    days=month_days,
)
def test_a_months_minutes_survive_the_spread(hours: Decimal, days: int) -> None:
    total = minutes(hours)
    assert sum(spread_units(total, days)) == total
    assert abs(Decimal(total) - hours * 60) <= Decimal("0.5")


@given(
    total=st.integers(min_value=-(10**8), max_value=10**8),
    weights=st.lists(st.integers(min_value=0, max_value=400), min_size=1, max_size=12),
)
def test_shares_by_weight_sum_exactly_and_stay_within_one_unit_of_their_quota(
    total: int, weights: list[int]
) -> None:
    shares = apportion(total, weights)
    assert sum(shares) == total
    whole = sum(weights)
    for share, weight in zip(shares, weights, strict=True):
        quota = Decimal(total) * (weight if whole else 1) / (whole or len(weights))
        assert abs(Decimal(share) - quota) < 1


def test_a_hundred_over_three_days_is_not_ninety_nine_ninety_nine() -> None:
    assert spread_units(10_000, 3) == [3334, 3333, 3333]


def test_the_rules_apply_in_the_documented_order() -> None:
    active = {"GSA": 6, "SHUTL1": 3, "SHUTL2": 1, "CASH": 2, "MGR": 1}
    assert map_profile("GSA", active, hand_mapped="CASH").rule is MappingRule.HAND_MAPPED
    assert map_profile("gsa", active).codes == {"GSA": 1}
    closest = map_profile("CASHIER", active)
    assert (closest.rule, dict(closest.codes)) == (MappingRule.CLOSEST, {"CASH": 1})
    split = map_profile("SHUTL", active)
    assert (split.rule, dict(split.codes)) == (MappingRule.SPLIT, {"SHUTL1": 3, "SHUTL2": 1})
    assert map_profile("NIGHTAUD", active).rule is MappingRule.UNMAPPED
    assert map_profile("GSA SHIFT DIFF", active, hand_mapped="GSA").rule is MappingRule.SHIFT_DIFFERENTIAL
