"""Live reads of the budget (TP_EDW): daily budget detail, parking rates and the payroll budget.

They replace today's EDW queries 1, 3 and 5 (DOMAIN.md §4). The budget's
parking statistics live in ``BUDGET_FINAL`` as pairs of statistic accounts, a
revenue and a vehicle count per revenue category (Valet Daily 9411/9510 …);
occupied rooms are account 9440.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Any

from pydantic import Field
from sqlalchemy import (
    VARCHAR,
    Date,
    Integer,
    and_,
    bindparam,
    case,
    cast,
    extract,
    func,
    null,
    or_,
    select,
    union_all,
)

from shared.live_reads.execution import Amount, BoundStatement, EdwRow
from shared.live_reads.parameters import SiteMonth, SiteYear
from shared.sql.tables import budget_datatab_pr, budget_final, vw_revenue_daily_detail_invoice

OCCUPIED_ROOMS = "Occupied Rooms"
OCCUPIED_ROOMS_ACCOUNT = "9440"


@dataclass(frozen=True)
class ParkingCategory:
    """A revenue category: its REVENUE_CODE prefix in RSS and its revenue and count statistic accounts."""

    name: str
    code: str
    revenue_account: str
    count_account: str


# DOMAIN.md §4 "Statistic accounts" and the REVENUE_CODE groups VD/VO/VM/SD/SO/SM.
PARKING_CATEGORIES = (
    ParkingCategory("Valet Daily", "VD", "9411", "9510"),
    ParkingCategory("Valet Overnight", "VO", "9412", "9520"),
    ParkingCategory("Valet Monthly", "VM", "9413", "9530"),
    ParkingCategory("Self Daily", "SD", "9414", "9550"),
    ParkingCategory("Self Overnight", "SO", "9415", "9560"),
    ParkingCategory("Self Monthly", "SM", "9416", "9570"),
)
_CENT = Decimal("0.01")


def _category_values(category: ParkingCategory) -> dict[str, str]:
    return {
        "category": category.name,
        "code": category.code,
        "code_pattern": f"{category.code}%",  # VD1, VD2 … are the group VD
        "revenue_account": category.revenue_account,
        "count_account": category.count_account,
    }


def _category_parameters(*kinds: str) -> dict[str, str]:
    """The values of the per-category parameters a statement uses: ``category_0``, ``code_0`` …"""
    return {
        f"{kind}_{index}": _category_values(category)[kind]
        for kind in kinds
        for index, category in enumerate(PARKING_CATEGORIES)
    }


# ── Query 1: budget daily detail ────────────────────────────────────────────────────────────────


class BudgetDay(EdwRow):
    """One day's budget for one revenue category: vehicles (rooms for 'Occupied Rooms'), revenue, rate."""

    date: Annotated[date, Field(description="The budgeted day (yyyy-MM-dd).")]
    revenue_category: str = Field(description="The revenue category, or 'Occupied Rooms'.")
    count: Amount = Field(description="Budgeted vehicles for the day (rooms for 'Occupied Rooms').")
    revenue: Amount | None = Field(description="Budgeted revenue for the day; None for 'Occupied Rooms'.")
    rate: Amount | None = Field(description="Budgeted revenue per vehicle; None where nothing is counted.")


_budget = budget_final.c
_account_category = case(
    *(
        (
            or_(
                _budget.MAIN_ACCOUNT == bindparam(f"revenue_account_{index}"),
                _budget.MAIN_ACCOUNT == bindparam(f"count_account_{index}"),
            ),
            bindparam(f"category_{index}"),
        )
        for index in range(len(PARKING_CATEGORIES))
    ),
    (_budget.MAIN_ACCOUNT == bindparam("rooms_account"), bindparam("rooms_category")),
)
_is_revenue = or_(
    *(
        _budget.MAIN_ACCOUNT == bindparam(f"revenue_account_{index}")
        for index in range(len(PARKING_CATEGORIES))
    )
)
# SQL Server refuses to group by an expression holding parameters, so the category is named in a
# subquery and the outer query groups by that column.
_budget_statistics = (
    select(
        _account_category.label("revenue_category"),
        case((_is_revenue, _budget.BALANCE)).label("revenue"),
        case((_is_revenue, null()), else_=_budget.BALANCE).label("count"),
    )
    .where(
        _budget.COST_CENTER == bindparam("site"),
        _budget.PERIOD == bindparam("period"),
        _account_category.is_not(None),
    )
    .subquery("statistics")
)
BUDGET_MONTH = (
    select(
        _budget_statistics.c.revenue_category,
        func.sum(_budget_statistics.c.count).label("count"),
        func.sum(_budget_statistics.c.revenue).label("revenue"),
    )
    .group_by(_budget_statistics.c.revenue_category)
    .order_by(_budget_statistics.c.revenue_category)
)


def budget_daily_detail_statement(parameters: SiteMonth) -> BoundStatement:
    """The month's budgeted counts and revenue per category, from the statistic accounts."""
    return BoundStatement(
        BUDGET_MONTH,
        {
            **_category_parameters("category", "revenue_account", "count_account"),
            "rooms_account": OCCUPIED_ROOMS_ACCOUNT,
            "rooms_category": OCCUPIED_ROOMS,
            "site": parameters.site,
            "period": parameters.period.period,
        },
    )


def budget_days(rows: Sequence[dict[str, Any]], parameters: SiteMonth) -> list[BudgetDay]:
    """``spBUDGET_DAILY_DETAIL``'s days: the monthly budget spread evenly across them (DOMAIN.md §5).

    The procedure's own logic is not in any source Towne Park published; this
    is what DOMAIN.md §4 says it returns, built from ``BUDGET_FINAL``. The rate
    is the month's revenue over its vehicles, so every day has the same rate.
    """
    month = parameters.period
    days = calendar.monthrange(month.year, month.month)[1]
    result = []
    for row in rows:
        count = Decimal(row["count"] or 0)
        revenue = None if row["revenue_category"] == OCCUPIED_ROOMS else Decimal(row["revenue"] or 0)
        rate = None if revenue is None or count == 0 else (revenue / count).quantize(_CENT, ROUND_HALF_UP)
        for day in range(days):
            result.append(
                BudgetDay(
                    date=month.first_day + timedelta(days=day),
                    revenue_category=row["revenue_category"],
                    count=(count / days).quantize(_CENT, ROUND_HALF_UP),
                    revenue=None if revenue is None else (revenue / days).quantize(_CENT, ROUND_HALF_UP),
                    rate=rate,
                )
            )
    return sorted(result, key=lambda day: (day.date, day.revenue_category))


# ── Query 3: parking rates, budget and actual ───────────────────────────────────────────────────


class ParkingRate(EdwRow):
    """Revenue per vehicle for one revenue code group in one month, budgeted or actual."""

    period: str = Field(description="The month, as yyyyMM.")
    type: str = Field(description="BUDGET or ACTUAL.")
    revenue_code: str = Field(description="The revenue code group: VD, VO, VM, SD, SO or SM.")
    revenue_category: str = Field(description="The revenue category the code group belongs to.")
    revenue: Amount = Field(description="The month's revenue for the code group.")
    vehicles: Amount = Field(description="The month's vehicles for the code group.")
    rate: Amount | None = Field(description="Revenue per vehicle; None when no vehicles were counted.")


_code_of_account = case(
    *(
        (
            or_(
                _budget.MAIN_ACCOUNT == bindparam(f"revenue_account_{index}"),
                _budget.MAIN_ACCOUNT == bindparam(f"count_account_{index}"),
            ),
            bindparam(f"code_{index}"),
        )
        for index in range(len(PARKING_CATEGORIES))
    )
)
_budget_pairs = (
    select(
        _budget.PERIOD.label("period"),
        _code_of_account.label("revenue_code"),
        case((_is_revenue, _budget.BALANCE), else_=0).label("revenue"),
        case((_is_revenue, 0), else_=_budget.BALANCE).label("vehicles"),
    )
    .where(
        _budget.COST_CENTER == bindparam("site"),
        _budget.PERIOD >= bindparam("first_period"),
        _budget.PERIOD <= bindparam("last_period"),
        _code_of_account.is_not(None),
    )
    .subquery("budget_pairs")
)
_rss = vw_revenue_daily_detail_invoice.c
_code_group = case(
    *(
        (_rss.REVENUE_CODE.like(bindparam(f"code_pattern_{index}")), bindparam(f"code_{index}"))
        for index in range(len(PARKING_CATEGORIES))
    )
)
_rss_days = (
    select(
        cast(
            extract("year", _rss.DATE) * bindparam("hundred", 100, type_=Integer())
            + extract("month", _rss.DATE),
            VARCHAR(6),
        ).label("period"),
        _code_group.label("revenue_code"),
        _rss.NETEXTERNALREVENUE.label("revenue"),
        _rss.VEHICLECOUNT.label("vehicles"),
    )
    .where(
        _rss.SITE == bindparam("site"),
        _rss.DATE >= bindparam("first_day", type_=Date()),
        _rss.DATE <= bindparam("last_day", type_=Date()),
        _code_group.is_not(None),
    )
    .subquery("rss_days")
)


def _rates(source: Any, rate_type: str) -> Any:
    return select(
        source.c.period,
        bindparam(f"type_{rate_type}", rate_type, type_=VARCHAR()).label("type"),
        source.c.revenue_code,
        func.sum(source.c.revenue).label("revenue"),
        func.sum(source.c.vehicles).label("vehicles"),
    ).group_by(source.c.period, source.c.revenue_code)


PARKING_RATES = union_all(_rates(_budget_pairs, "BUDGET"), _rates(_rss_days, "ACTUAL"))


def parking_rates_statement(parameters: SiteYear) -> BoundStatement:
    """Query 3: BUDGET from the statistic account pairs, UNION ACTUAL from RSS by revenue code group."""
    year = parameters.year
    return BoundStatement(
        PARKING_RATES,
        {
            **_category_parameters("code", "code_pattern", "revenue_account", "count_account"),
            "site": parameters.site,
            "first_period": f"{year}01",
            "last_period": f"{year}12",
            "first_day": date(year, 1, 1),
            "last_day": date(year, 12, 31),
        },
    )


_CATEGORY_OF_CODE = {category.code: category.name for category in PARKING_CATEGORIES}


def parking_rate(row: dict[str, Any], _: SiteYear) -> ParkingRate:
    """The rate is revenue over vehicles of the month's sums, as query 3 divides them."""
    revenue, vehicles = Decimal(row["revenue"] or 0), Decimal(row["vehicles"] or 0)
    return ParkingRate(
        period=str(row["period"]),
        type=row["type"],
        revenue_code=row["revenue_code"],
        revenue_category=_CATEGORY_OF_CODE[row["revenue_code"]],
        revenue=revenue.quantize(_CENT, ROUND_HALF_UP),
        vehicles=vehicles.quantize(_CENT, ROUND_HALF_UP),
        rate=None if vehicles == 0 else (revenue / vehicles).quantize(_CENT, ROUND_HALF_UP),
    )


# ── Query 5: payroll budget ─────────────────────────────────────────────────────────────────────


class PayrollBudget(EdwRow):
    """One job profile's budgeted payroll hours and cost for one month."""

    year: int = Field(description="The budget's calendar year.")
    month: int = Field(description="The budget's month, 1 to 12.")
    job_profile: str | None = Field(description="The job profile the hours are budgeted for.")
    total_hours: Amount = Field(description="Budgeted payroll hours for the month.")
    total_cost: Amount = Field(description="Budgeted payroll cost for the month.")


_pr = budget_datatab_pr.c
PAYROLL_BUDGET = (
    select(
        _pr.YEAR.label("year"),
        _pr.MONTH.label("month"),
        _pr.JOB_PROFILE.label("job_profile"),
        func.coalesce(func.sum(case((_pr.BALANCE_DESC == bindparam("hours_desc"), _pr.BALANCE))), 0).label(
            "total_hours"
        ),
        func.coalesce(func.sum(case((_pr.BALANCE_DESC == bindparam("cost_desc"), _pr.BALANCE))), 0).label(
            "total_cost"
        ),
    )
    .where(and_(_pr.COST_CENTER == bindparam("site"), _pr.YEAR == bindparam("year", type_=Integer())))
    .group_by(_pr.YEAR, _pr.MONTH, _pr.JOB_PROFILE)
    .order_by(_pr.YEAR, _pr.MONTH, _pr.JOB_PROFILE)
)


def payroll_budget_statement(parameters: SiteYear) -> BoundStatement:
    """Query 5: BUDGET_DATATAB_PR summed by cost center, year, month and job profile."""
    return BoundStatement(
        PAYROLL_BUDGET,
        {"site": parameters.site, "year": parameters.year, "hours_desc": "PR Hours", "cost_desc": "Payroll"},
    )


def payroll_budget(row: dict[str, Any], _: SiteYear) -> PayrollBudget:
    return PayrollBudget.model_validate(row)
