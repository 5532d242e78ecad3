"""The trending rules: one property test per invariant, and hand-computed months for every category.

The hand-computed figures were worked out on paper from DOMAIN.md §5 (shown in each comment), not
by running the rules.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.forecast.trending import (
    CATEGORIES,
    CLAIMS,
    EXTERNAL_REVENUE,
    FLC,
    INSURANCE,
    INTERNAL_REVENUE,
    OTHER_EXPENSE,
    PARKING_RENTS,
    PAYROLL,
    PTEB,
    ActualToDate,
    Figure,
    MonthInputs,
    actual_then_forecast,
    as_of_actual,
    budget_as_forecast,
    budget_lines,
    flc,
    forecast_month,
    greater_of_actual_and_forecast,
    insurance_forecast,
    pteb_forecast,
)

money = st.decimals(min_value=-(10**7), max_value=10**7, places=2, allow_nan=False, allow_infinity=False)
costs = st.decimals(min_value=0, max_value=10**7, places=2, allow_nan=False, allow_infinity=False)
month_days = st.integers(min_value=28, max_value=31)


def D(text: str) -> Decimal:
    return Decimal(text)


# ── Properties ──────────────────────────────────────────────────────────────────────────────────


@given(actual=money, forecast=money)
def test_the_greater_of_rule_never_goes_below_actual_or_forecast(actual: Decimal, forecast: Decimal) -> None:
    result = greater_of_actual_and_forecast(actual, forecast)
    assert result >= actual and result >= forecast and result in (actual, forecast)


@given(actual=money, forecast=money, days=month_days, data=st.data())
def test_actual_then_forecast_keeps_the_actuals_and_the_unloaded_days_share_of_the_forecast(
    actual: Decimal, forecast: Decimal, days: int, data: st.DataObject
) -> None:
    loaded = data.draw(st.integers(min_value=0, max_value=days))
    result = actual_then_forecast(actual, forecast, loaded, days)
    assert abs(result - actual - forecast * (days - loaded) / days) < D("1e-18")
    assert actual_then_forecast(actual, forecast, days, days) == actual  # a month loaded to its end
    assert actual_then_forecast(Decimal(0), forecast, 0, days) == forecast  # nothing loaded yet


@given(forecast=costs, days=month_days, data=st.data())
def test_actuals_on_the_forecasts_pace_leave_the_month_at_its_forecast(
    forecast: Decimal, days: int, data: st.DataObject
) -> None:
    loaded = data.draw(st.integers(min_value=0, max_value=days))
    on_pace = forecast * loaded / days
    assert abs(actual_then_forecast(on_pace, forecast, loaded, days) - forecast) < D("1e-20")


def test_actual_then_forecast_refuses_more_actual_days_than_the_month_has() -> None:
    with pytest.raises(ValueError, match="32 actual days"):
        actual_then_forecast(D("1"), D("1"), 32, 31)


@given(budget_pteb=costs, budget_payroll=costs, payroll=costs)
def test_pteb_keeps_the_budgets_share_of_payroll(
    budget_pteb: Decimal, budget_payroll: Decimal, payroll: Decimal
) -> None:
    result = pteb_forecast(budget_pteb, budget_payroll, payroll)
    if budget_payroll == 0:
        assert result == budget_pteb
        return
    assert abs(result * budget_payroll - budget_pteb * payroll) < D("1e-12") * max(budget_pteb * payroll, 1)
    assert abs(pteb_forecast(budget_pteb, budget_payroll, budget_payroll) - budget_pteb) < D("1e-20")


@given(payroll=costs, account=money)
def test_insurance_under_a_management_agreement_costs_1_32_percent_of_payroll_more(
    payroll: Decimal, account: Decimal
) -> None:
    agreement = insurance_forecast(payroll, account, management_agreement=True)
    other = insurance_forecast(payroll, account, management_agreement=False)
    assert agreement - other == D("0.0132") * payroll
    assert other - account == D("0.0445") * payroll


@given(amounts=st.fixed_dictionaries({category: money for category in CATEGORIES}))
def test_flc_and_the_costs_add_up_to_internal_revenue(amounts: dict[str, Decimal]) -> None:
    costs_total = sum(amounts[c] for c in (PAYROLL, CLAIMS, PARKING_RENTS, OTHER_EXPENSE, PTEB, INSURANCE))
    assert flc(amounts) + costs_total == amounts[INTERNAL_REVENUE]
    assert flc(amounts | {EXTERNAL_REVENUE: amounts[EXTERNAL_REVENUE] + 1}) == flc(amounts)  # not a cost


@given(actual=money, budget=money)
def test_claims_are_what_was_claimed_and_a_missing_forecast_is_the_budget(
    actual: Decimal, budget: Decimal
) -> None:
    assert as_of_actual(actual) == actual
    assert budget_as_forecast(budget) == budget


@given(
    budget=st.fixed_dictionaries({category: costs for category in CATEGORIES}),
    rents=costs,
    other=costs,
    claims=costs,
    payroll=costs,
    days=month_days,
    data=st.data(),
)
def test_an_open_month_never_forecasts_rents_or_other_expense_below_their_actuals_and_its_flc_adds_up(
    budget: dict[str, Decimal],
    rents: Decimal,
    other: Decimal,
    claims: Decimal,
    payroll: Decimal,
    days: int,
    data: st.DataObject,
) -> None:
    loaded = data.draw(st.integers(min_value=1, max_value=days))
    to_date = {
        PARKING_RENTS: ActualToDate(rents, loaded),
        OTHER_EXPENSE: ActualToDate(other, loaded),
        CLAIMS: ActualToDate(claims, loaded),
        PAYROLL: ActualToDate(payroll, loaded),
    }
    lines = forecast_month(MonthInputs(days=days, budget=budget, to_date=to_date))
    assert lines[PARKING_RENTS].amount >= rents and lines[OTHER_EXPENSE].amount >= other
    assert lines[CLAIMS].amount == claims
    assert lines[PAYROLL].amount >= payroll
    amounts = {category: lines[category].amount for category in CATEGORIES}
    assert lines[FLC].amount == flc(amounts)


# ── Hand-computed months ────────────────────────────────────────────────────────────────────────

BUDGET = {
    EXTERNAL_REVENUE: D("30000"),
    INTERNAL_REVENUE: D("50000"),
    PAYROLL: D("20000"),
    CLAIMS: D("0"),
    PARKING_RENTS: D("3000"),
    OTHER_EXPENSE: D("4000"),
    PTEB: D("3500"),
    INSURANCE: D("900"),
}


def amounts_and_rules(lines: dict[str, Figure]) -> dict[str, tuple[str, str]]:
    return {name: (str(line.amount), str(line.rule)) for name, line in lines.items()}


def test_a_month_part_actual_part_forecast() -> None:
    """A 30-day month loaded through day 12: payroll 9,000 and external revenue 14,000 so far, rent 3,200."""
    month = MonthInputs(
        days=30,
        budget=BUDGET,
        to_date={
            PAYROLL: ActualToDate(D("9000"), 12),
            EXTERNAL_REVENUE: ActualToDate(D("14000"), 12),
            PARKING_RENTS: ActualToDate(D("3200"), 12),
            CLAIMS: ActualToDate(D("1250"), 12),
        },
    )
    assert amounts_and_rules(forecast_month(month)) == {
        EXTERNAL_REVENUE: ("32000.00", "actual then forecast"),  # 14,000 + 30,000 x 18/30
        INTERNAL_REVENUE: ("50000.00", "budget"),  # no forecast: the budget
        PAYROLL: ("21000.00", "actual then forecast"),  # 9,000 + 20,000 x 18/30
        CLAIMS: ("1250.00", "as-of actual"),
        PARKING_RENTS: ("3200.00", "greater of actual and forecast"),  # 3,200 > budget 3,000
        OTHER_EXPENSE: ("4000.00", "greater of actual and forecast"),  # nothing yet < budget 4,000
        PTEB: ("3675.00", "PTEB share of forecast payroll"),  # 3,500 / 20,000 x 21,000
        INSURANCE: ("1834.50", "insurance share of forecast payroll"),  # 4.45% x 21,000 + 900
        FLC: ("15040.50", "FLC"),  # 50,000 - 21,000 - 1,250 - 3,200 - 4,000 - 3,675 - 1,834.50
    }


def test_a_management_agreement_month_not_loaded_yet_with_the_apps_payroll_forecast() -> None:
    month = MonthInputs(days=31, budget=BUDGET, forecast={PAYROLL: D("22000")}, management_agreement=True)
    lines = amounts_and_rules(forecast_month(month))
    assert lines[PAYROLL] == ("22000.00", "actual then forecast")  # the forecast, no actuals yet
    assert lines[EXTERNAL_REVENUE] == ("30000.00", "budget")
    assert lines[CLAIMS] == ("0.00", "as-of actual")
    assert lines[PTEB] == ("3850.00", "PTEB share of forecast payroll")  # 3,500 / 20,000 x 22,000
    assert lines[INSURANCE] == ("2169.40", "insurance share of forecast payroll")  # 5.77% x 22,000 + 900
    assert lines[FLC] == ("14980.60", "FLC")  # 50,000 - 22,000 - 0 - 3,000 - 4,000 - 3,850 - 2,169.40


def test_a_closed_month_is_its_gl_actuals() -> None:
    actual = {
        EXTERNAL_REVENUE: D("31012.40"),
        INTERNAL_REVENUE: D("49875.10"),
        PAYROLL: D("20410.55"),
        CLAIMS: D("430"),
        PARKING_RENTS: D("2900"),
        OTHER_EXPENSE: D("4120.35"),
        PTEB: D("3601.20"),
        INSURANCE: D("1702"),
    }
    lines = amounts_and_rules(forecast_month(MonthInputs(days=31, budget=BUDGET, closed_actual=actual)))
    assert {name: amount for name, (amount, _) in lines.items() if name != FLC} == {
        name: f"{amount:.2f}" for name, amount in actual.items()
    }
    assert {rule for name, (_, rule) in lines.items() if name != FLC} == {"closed actual"}
    assert lines[FLC] == (
        "16711.00",
        "FLC",
    )  # 49,875.10 - 20,410.55 - 430 - 2,900 - 4,120.35 - 3,601.20 - 1,702


def test_the_budget_has_its_own_flc() -> None:
    assert budget_lines(BUDGET)[FLC] == D("18600.00")  # 50,000 - 20,000 - 0 - 3,000 - 4,000 - 3,500 - 900
