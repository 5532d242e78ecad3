"""Where a generated statement goes after its forecast check (DOMAIN.md §7, "Statement generation").

Towne Park's child flow compares the statement with the forecast's internal
revenue for the site and month and routes it: deviation % greater than the
contract's ``bs_deviationpercentage`` **and** deviation amount greater than its
``bs_deviationamount`` → APPROVAL_TEAM, otherwise READY_TO_SEND; an arrears
statement whose revenue submission carries comments → AR_REVIEW. Both
comparisons are strict, as the flow's "greater than" is: a deviation exactly
at a threshold does not need approval.

The comments rule is applied first: AR has to clear arrears before anyone
judges the amount. The deviation is taken against the forecast, so a forecast
of zero makes any non-zero statement 100 % off (never a division by zero).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import Enum

_HUNDRED = Decimal(100)
_CENT = Decimal("0.01")


class StatementStatus(Enum):
    """``bs_statementstatus`` (DOMAIN.md §7) with its option value."""

    GENERATING = 126840000
    NEEDS_REVIEW = 126840001
    APPROVED = 126840002
    SENT = 126840003
    AR_REVIEW = 126840004
    APPROVAL_TEAM = 126840005
    READY_TO_SEND = 126840006
    FAILED = 126840007


@dataclass(frozen=True)
class Thresholds:
    """The contract's ``bs_deviationpercentage`` (percent, e.g. 10 for 10 %) and ``bs_deviationamount`` (USD)."""

    percent: Decimal
    amount: Decimal


@dataclass(frozen=True)
class Deviation:
    """How far apart, exactly: the thresholds are compared with these, never with rounded figures."""

    amount: Decimal  # |statement - forecast|
    percent: Decimal  # that amount as a percentage of |forecast|

    @property
    def shown_percent(self) -> Decimal:
        return self.percent.quantize(_CENT)


@dataclass(frozen=True)
class Routing:
    status: StatementStatus
    reason: str


def deviation(statement: Decimal, forecast: Decimal) -> Deviation:
    """How far the statement is from the forecast, in dollars and as a share of the forecast."""
    amount = abs(statement - forecast)
    percent = (_HUNDRED if amount else Decimal(0)) if forecast == 0 else amount / abs(forecast) * _HUNDRED
    return Deviation(amount, percent)


def route(off_by: Deviation, thresholds: Thresholds, arrears_comments: bool) -> Routing:
    """The status a checked statement moves to, and why, in words an Account Manager reads."""
    if arrears_comments:
        return Routing(StatementStatus.AR_REVIEW, "the arrears site's revenue submission has comments")
    if off_by.percent > thresholds.percent and off_by.amount > thresholds.amount:
        return Routing(
            StatementStatus.APPROVAL_TEAM,
            f"{off_by.shown_percent} % and ${off_by.amount} off the forecast, both above the contract's "
            f"{thresholds.percent} % and ${thresholds.amount}",
        )
    return Routing(
        StatementStatus.READY_TO_SEND,
        f"{off_by.shown_percent} % and ${off_by.amount} off the forecast: not both above the contract's "
        f"{thresholds.percent} % and ${thresholds.amount}",
    )
