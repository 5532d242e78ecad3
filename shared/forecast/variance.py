"""Budget variance: each site's month and line with its budget, actual, forecast, variance and the rules behind them.

The forecast comes from the trending rules (``trending.forecast_month``); the
variance is forecast minus budget, in money and as a percentage of the
budget's size (none when the budget is 0, where a percentage means nothing).
The actual is the closed GL actual of a closed month, the actuals to date of
an open one (external revenue and payroll; the other lines have none before
close) and nothing for a month not begun.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from shared.forecast.inputs import ForecastInputs, SiteYear
from shared.forecast.trending import CATEGORIES, FLC, LINES, budget_lines, flc, forecast_month

_PERCENT = Decimal("0.01")


class ActualSource(StrEnum):
    """Where a line's actual comes from."""

    CLOSED = "closed GL actual"
    TO_DATE = "actual to date"
    NONE = "no actual yet"


@dataclass(frozen=True)
class VarianceLine:
    """One site's month and line (a summary category or FLC)."""

    site: str
    period: str  # 'yyyy-MM'
    line: str
    budget: Decimal
    actual: Decimal | None
    actual_source: ActualSource
    actual_days: int  # days of the month the actual covers (the whole month once closed)
    forecast: Decimal
    forecast_rule: str
    variance: Decimal
    variance_percent: Decimal | None


def site_variance(site: SiteYear) -> list[VarianceLine]:
    """The twelve months of the site's year, each with its nine lines, in period and line order."""
    lines: list[VarianceLine] = []
    for period in site.periods():
        month = site.month(period)
        forecast = forecast_month(month)
        budget = budget_lines(month.budget)
        actual, source, days = _actuals(site, period, month.days)
        for line in LINES:
            variance = forecast[line].amount - budget[line]
            lines.append(
                VarianceLine(
                    site=site.site,
                    period=period,
                    line=line,
                    budget=budget[line],
                    actual=actual.get(line),
                    actual_source=source if line in actual else ActualSource.NONE,
                    actual_days=days if line in actual else 0,
                    forecast=forecast[line].amount,
                    forecast_rule=str(forecast[line].rule),
                    variance=variance,
                    variance_percent=_percent(variance, budget[line]),
                )
            )
    return lines


def variance(inputs: ForecastInputs) -> list[VarianceLine]:
    """Every site's lines, in site order."""
    return [line for site in sorted(inputs.sites) for line in site_variance(inputs.sites[site])]


def _actuals(site: SiteYear, period: str, days: int) -> tuple[dict[str, Decimal], ActualSource, int]:
    closed = site.closed.get(period)
    if closed is not None:
        amounts = {category: _cents(closed.get(category, Decimal(0))) for category in CATEGORIES}
        return amounts | {FLC: _cents(flc(amounts))}, ActualSource.CLOSED, days
    to_date = site.to_date.get(period, {})
    if not to_date:
        return {}, ActualSource.NONE, 0
    through = max(actual.days for actual in to_date.values())
    return (
        {category: _cents(actual.amount) for category, actual in to_date.items()},
        ActualSource.TO_DATE,
        through,
    )


def _percent(variance: Decimal, budget: Decimal) -> Decimal | None:
    if budget == 0:
        return None
    return (variance / abs(budget) * 100).quantize(_PERCENT)


def _cents(amount: Decimal) -> Decimal:
    return amount.quantize(Decimal("0.01")) + Decimal(0)
