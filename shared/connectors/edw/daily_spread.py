"""A month's budget spread evenly over its days, so the days add up to the month exactly.

DOMAIN.md §5: "Monthly budget is spread evenly across days". Dividing and
rounding each day on its own loses or invents cents (100.00 over 3 days is
33.33 three times, 99.99). The month is counted in whole units instead (cents
for money and statistics, minutes for hours) and divided by largest remainder:
every day gets the even share rounded down, and the units left over go one
each to the days with the largest remainder. An even split leaves every day
the same remainder, so the leftover units go to the month's first days: a
deterministic answer, the same on every run, so a run with no change in the
source writes nothing. A job profile's month shared among several job codes
by their active employees is divided the same way (:func:`apportion`).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def apportion(total_units: int, weights: Sequence[int]) -> list[int]:
    """``total_units`` shared in proportion to ``weights`` by largest remainder; the shares sum exactly.

    Ties in remainder go to the earlier share. A negative total (a credit) is
    shared as its opposite is, negated. All-zero weights share evenly.
    """
    if not weights or any(weight < 0 for weight in weights):
        raise ValueError("apportioning needs at least one share and no negative weight")
    if total_units < 0:
        return [-units for units in apportion(-total_units, weights)]
    if not any(weights):
        weights = [1] * len(weights)
    whole = sum(weights)
    shares = [total_units * weight // whole for weight in weights]
    remainders = [total_units * weight % whole for weight in weights]
    by_remainder = sorted(range(len(weights)), key=lambda index: (-remainders[index], index))
    for index in by_remainder[: total_units - sum(shares)]:
        shares[index] += 1
    return shares


def spread_units(total_units: int, days: int) -> list[int]:
    """``total_units`` over ``days`` days: each day within one unit of the others, the sum exact."""
    if days < 1:
        raise ValueError("a month has at least one day")
    return apportion(total_units, [1] * days)


def cents(amount: Decimal) -> int:
    """An amount (money, or a statistic kept to two places) in whole hundredths, rounded half up."""
    return int(amount.quantize(CENT, ROUND_HALF_UP) / CENT)


def minutes(hours: Decimal) -> int:
    """Hours in whole minutes, rounded half up."""
    return int((hours * 60).quantize(Decimal(1), ROUND_HALF_UP))
