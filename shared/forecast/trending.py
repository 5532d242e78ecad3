"""Towne Park's trending rules: how each summary category of a month is forecast (DOMAIN.md §5).

Each rule is one pure function on exact ``Decimal`` amounts and cites the line
of DOMAIN.md §5 it comes from; ``forecast_month`` applies them to one site's
month and names the rule behind each figure, so a variance can say why a
number is what it is. Amounts are rounded to the cent only there, once.

How the rules meet a calendar (the hub's reading of §5, which states the rules
but not the months they apply to):

- a **closed** month (its GL actuals are in ``bs_glactual``) is its actuals,
  every category: the trending rules forecast what is not known yet;
- an **open** month has actuals to date only for external revenue and payroll
  (the daily feeds, loaded through ``DW_LOADED_DTTM``); the other categories
  have none yet, so their "actual" is 0 and their rule decides alone;
- where no forecast exists for a category, its budget is the forecast
  (§5 "Forecast defaults" says so for rents and other expense; the hub does the
  same for external and internal revenue and payroll, which §5 leaves open).

Insurance adds "the budget in account 7082" to its share of payroll; the hub
reads that as the month's INSURANCE budget (7082 is the insurance account,
DOMAIN.md §4 names no other), which is *unconfirmed*.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

EXTERNAL_REVENUE = "EXTERNAL REVENUE"
INTERNAL_REVENUE = "INTERNAL REVENUE"
PAYROLL = "PAYROLL"
CLAIMS = "CLAIMS"
PARKING_RENTS = "PARKING RENTS"
OTHER_EXPENSE = "OTHER EXPENSE"
PTEB = "PTEB"
INSURANCE = "INSURANCE"
FLC = "FLC"
CATEGORIES = (
    EXTERNAL_REVENUE,
    INTERNAL_REVENUE,
    PAYROLL,
    CLAIMS,
    PARKING_RENTS,
    OTHER_EXPENSE,
    PTEB,
    INSURANCE,
)
LINES = (*CATEGORIES, FLC)  # the eight summary categories and the contribution they leave

MANAGEMENT_AGREEMENT_INSURANCE = Decimal("0.0577")
OTHER_CONTRACT_INSURANCE = Decimal("0.0445")
_CENT = Decimal("0.01")


class Rule(StrEnum):
    """Which rule produced a figure, as a variance answer names it."""

    CLOSED_ACTUAL = "closed actual"
    ACTUAL_THEN_FORECAST = "actual then forecast"
    AS_OF_ACTUAL = "as-of actual"
    GREATER_OF_ACTUAL_AND_FORECAST = "greater of actual and forecast"
    PTEB_SHARE_OF_PAYROLL = "PTEB share of forecast payroll"
    INSURANCE_SHARE_OF_PAYROLL = "insurance share of forecast payroll"
    BUDGET = "budget"
    FLC = "FLC"


# ── The rules ───────────────────────────────────────────────────────────────────────────────────


def actual_then_forecast(actual_to_date: Decimal, forecast: Decimal, days_actual: int, days: int) -> Decimal:
    """External revenue and payroll: "actual up to DW_LOADED_DTTM, then forecast" (DOMAIN.md §5, line 172).

    The month's forecast is spread evenly over its days ("Monthly budget is
    spread evenly across days", line 181), so the days after the load keep
    their share of it and the days up to it are replaced by what happened.
    """
    if not 0 <= days_actual <= days or days <= 0:
        raise ValueError(f"{days_actual} actual days do not fit a month of {days}")
    return actual_to_date + forecast * (days - days_actual) / days


def as_of_actual(actual_to_date: Decimal) -> Decimal:
    """Claims: "as-of actual" (DOMAIN.md §5, line 173): what has been claimed so far; budgeted claims are 0 (line 164)."""
    return actual_to_date


def greater_of_actual_and_forecast(actual_to_date: Decimal, forecast: Decimal) -> Decimal:
    """Rents and other expense: "greater of actual and forecast" (DOMAIN.md §5, line 173)."""
    return max(actual_to_date, forecast)


def budget_as_forecast(budget: Decimal) -> Decimal:
    """Where no forecast exists: "Rents and other expense = budget" (DOMAIN.md §5, line 167)."""
    return budget


def pteb_forecast(budget_pteb: Decimal, budget_payroll: Decimal, forecast_payroll: Decimal) -> Decimal:
    """ "PTEB = (budget PTEB / budget payroll) x forecast payroll" (DOMAIN.md §5, line 168).

    With no budgeted payroll there is no share to apply, so the budget PTEB stands.
    """
    if budget_payroll == 0:
        return budget_pteb
    return budget_pteb / budget_payroll * forecast_payroll


def insurance_forecast(
    forecast_payroll: Decimal, budget_insurance_account: Decimal, *, management_agreement: bool
) -> Decimal:
    """ "Insurance = 5.77% (Management Agreement) or 4.45% (others) of forecast payroll, plus the budget
    in account 7082" (DOMAIN.md §5, line 169)."""
    share = MANAGEMENT_AGREEMENT_INSURANCE if management_agreement else OTHER_CONTRACT_INSURANCE
    return share * forecast_payroll + budget_insurance_account


def flc(amounts: Mapping[str, Decimal]) -> Decimal:
    """ "FLC = IR - payroll - claims - rents - other - PTEB - insurance" (DOMAIN.md §5, line 174)."""
    costs = (PAYROLL, CLAIMS, PARKING_RENTS, OTHER_EXPENSE, PTEB, INSURANCE)
    return amounts.get(INTERNAL_REVENUE, Decimal(0)) - sum(
        (amounts.get(c, Decimal(0)) for c in costs), Decimal(0)
    )


# ── One site's month ────────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class ActualToDate:
    """A daily feed's actuals in an open month: their sum and how many of the month's days they cover."""

    amount: Decimal
    days: int


@dataclass(frozen=True)
class MonthInputs:
    """What the rules need for one site's month; categories missing from a mapping count as 0 or absent."""

    days: int  # days in the month
    budget: Mapping[str, Decimal]
    closed_actual: Mapping[str, Decimal] | None = None  # GL actuals, once the month is closed
    to_date: Mapping[str, ActualToDate] = field(default_factory=dict)  # external revenue, payroll
    forecast: Mapping[str, Decimal] = field(default_factory=dict)  # a forecast the app has; else budget
    management_agreement: bool = False


@dataclass(frozen=True)
class Figure:
    """One line of a forecast month: its amount (to the cent) and the rule that produced it."""

    amount: Decimal
    rule: Rule


def forecast_month(month: MonthInputs) -> dict[str, Figure]:
    """Every line of the month (the eight categories and FLC), each with the rule that produced it."""
    if month.closed_actual is not None:
        closed = {category: month.closed_actual.get(category, Decimal(0)) for category in CATEGORIES}
        lines = {category: Figure(_cents(amount), Rule.CLOSED_ACTUAL) for category, amount in closed.items()}
        return lines | {FLC: Figure(_cents(flc(closed)), Rule.FLC)}

    def budget(category: str) -> Decimal:
        return month.budget.get(category, Decimal(0))

    def forecast(category: str) -> tuple[Decimal, Rule]:
        if category in month.forecast:
            return month.forecast[category], Rule.ACTUAL_THEN_FORECAST
        return budget_as_forecast(budget(category)), Rule.BUDGET

    exact: dict[str, tuple[Decimal, Rule]] = {}
    for category in (EXTERNAL_REVENUE, PAYROLL):
        expected, rule = forecast(category)
        actual = month.to_date.get(category)
        if actual is None or actual.days == 0:
            exact[category] = (expected, rule)
        else:
            blended = actual_then_forecast(actual.amount, expected, actual.days, month.days)
            exact[category] = (blended, Rule.ACTUAL_THEN_FORECAST)
    exact[INTERNAL_REVENUE] = forecast(INTERNAL_REVENUE)
    exact[CLAIMS] = (as_of_actual(_to_date(month, CLAIMS)), Rule.AS_OF_ACTUAL)
    for category in (PARKING_RENTS, OTHER_EXPENSE):
        expected, _ = forecast(category)
        exact[category] = (
            greater_of_actual_and_forecast(_to_date(month, category), expected),
            Rule.GREATER_OF_ACTUAL_AND_FORECAST,
        )
    payroll = exact[PAYROLL][0]
    exact[PTEB] = (pteb_forecast(budget(PTEB), budget(PAYROLL), payroll), Rule.PTEB_SHARE_OF_PAYROLL)
    exact[INSURANCE] = (
        insurance_forecast(payroll, budget(INSURANCE), management_agreement=month.management_agreement),
        Rule.INSURANCE_SHARE_OF_PAYROLL,
    )
    lines = {category: Figure(_cents(exact[category][0]), exact[category][1]) for category in CATEGORIES}
    return lines | {FLC: Figure(_cents(flc({c: line.amount for c, line in lines.items()})), Rule.FLC)}


def budget_lines(budget: Mapping[str, Decimal]) -> dict[str, Decimal]:
    """The month's budget by line, FLC included (the same formula over the budget)."""
    amounts = {category: _cents(budget.get(category, Decimal(0))) for category in CATEGORIES}
    return amounts | {FLC: _cents(flc(amounts))}


def _to_date(month: MonthInputs, category: str) -> Decimal:
    actual = month.to_date.get(category)
    return actual.amount if actual is not None else Decimal(0)


def _cents(amount: Decimal) -> Decimal:
    return amount.quantize(_CENT) + Decimal(0)  # + 0 turns -0.00 into 0.00
