"""The statement forecast check's routing rule (DOMAIN.md §7): both thresholds, strictly, and AR first."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.workflows.forecast_check.routing import StatementStatus, Thresholds, deviation, route

CONTRACT = Thresholds(percent=Decimal("10"), amount=Decimal("500"))
money = st.decimals(min_value=Decimal("-1e7"), max_value=Decimal("1e7"), places=2, allow_nan=False)


@pytest.mark.parametrize(
    ("statement", "forecast", "expected"),
    [
        ("11000.00", "10000.00", StatementStatus.READY_TO_SEND),  # exactly 10 %, exactly $1,000: % not above
        ("11000.01", "10000.00", StatementStatus.APPROVAL_TEAM),  # a cent past 10 % and past $500
        ("8999.99", "10000.00", StatementStatus.APPROVAL_TEAM),  # under the forecast counts the same
        ("5500.00", "5000.00", StatementStatus.READY_TO_SEND),  # exactly $500 (10 %): amount not above
        ("5500.01", "5000.00", StatementStatus.APPROVAL_TEAM),  # $500.01 and 10.0002 %: both above
        ("600.00", "100.00", StatementStatus.READY_TO_SEND),  # 500 % but exactly $500: amount not above
        ("1400.00", "1000.00", StatementStatus.READY_TO_SEND),  # 40 % but only $400
        ("100000.00", "95000.00", StatementStatus.READY_TO_SEND),  # $5,000 but only 5.26 %
        ("10.00", "0.00", StatementStatus.READY_TO_SEND),  # no forecast: 100 %, but $10
        ("700.00", "0.00", StatementStatus.APPROVAL_TEAM),  # no forecast: 100 % and $700
    ],
)
def test_approval_needs_both_thresholds_passed_strictly(
    statement: str, forecast: str, expected: StatementStatus
) -> None:
    off_by = deviation(Decimal(statement), Decimal(forecast))
    assert route(off_by, CONTRACT, arrears_comments=False).status is expected


def test_an_arrears_submission_with_comments_goes_to_ar_whatever_the_deviation() -> None:
    far = deviation(Decimal("50000"), Decimal("100"))
    assert route(far, CONTRACT, arrears_comments=True).status is StatementStatus.AR_REVIEW
    assert route(deviation(Decimal(1), Decimal(1)), CONTRACT, arrears_comments=True).status is (
        StatementStatus.AR_REVIEW
    )


def test_the_shown_percent_is_rounded_but_the_decision_is_not() -> None:
    off_by = deviation(Decimal("11000.40"), Decimal("10000.00"))  # 10.004 %
    assert off_by.shown_percent == Decimal("10.00")
    assert (
        route(off_by, Thresholds(Decimal("10"), Decimal("0")), False).status is StatementStatus.APPROVAL_TEAM
    )


@given(statement=money, forecast=money, percent=money.map(abs), amount=money.map(abs))
def test_approval_exactly_when_both_deviations_are_above_their_thresholds(
    statement: Decimal, forecast: Decimal, percent: Decimal, amount: Decimal
) -> None:
    off_by = deviation(statement, forecast)
    assert off_by.amount == abs(statement - forecast) and off_by.percent >= 0
    decided = route(off_by, Thresholds(percent, amount), arrears_comments=False).status
    difference = abs(statement - forecast)
    above_percent = (
        difference * 100 > percent * abs(forecast) if forecast else difference > 0 and percent < 100
    )
    assert (decided is StatementStatus.APPROVAL_TEAM) == (above_percent and difference > amount)
