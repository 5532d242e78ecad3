"""The live EDW reads Power Platform calls: one declaration per query Towne Park's screens use today.

Today's C# function answers ``POST /api/get-data {storedProcedureId, …}`` with
numbered, untyped queries (DOMAIN.md §4 registry). Each :class:`LiveRead`
here is one of those queries with a name, typed parameters, typed rows and a
cache lifetime; the API serves every read the same way at
``GET /api/v1/edw/{name}`` and documents it from these models.

Cache lifetimes follow how often the data changes (DOMAIN.md §4 "Refresh
cadence"): Legion payroll and schedules and RSS revenue load daily, the budget
once or twice a month, GP actuals after month-end close.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy import Engine

from shared.live_reads import budget, legion, revenue, summary
from shared.live_reads.execution import BoundStatement, fetch
from shared.live_reads.parameters import SiteDays, SiteMonth, SitesYear, SiteYear

DAILY_CACHE_SECONDS = 300
BUDGET_CACHE_SECONDS = 3600

Parameters = TypeVar("Parameters", bound=BaseModel)
Row = TypeVar("Row", bound=BaseModel)


@dataclass(frozen=True)
class LiveRead:
    """One live read of the EDW, as the API serves and documents it."""

    name: str  # URL segment, e.g. "budget-daily-detail"
    summary: str  # one line, for OpenAPI and x-ms-summary
    description: str
    params: type[BaseModel]  # query parameters; extra="forbid"; camelCase aliases
    row: type[BaseModel]  # one result row, named fields (camelCase aliases)
    cache_seconds: int  # 0 = no cache
    run: Callable[[Engine, BaseModel], list[BaseModel]]
    statement: Callable[[BaseModel], BoundStatement]  # the SQL ``run`` sends, for inspection


def _live_read(
    *,
    name: str,
    summary: str,
    description: str,
    params: type[Parameters],
    row: type[Row],
    cache_seconds: int,
    statement: Callable[[Parameters], BoundStatement],
    rows: Callable[[Sequence[dict[str, Any]], Parameters], list[Row]],
) -> LiveRead:
    """A read whose ``run`` and ``statement`` accept only ``params`` instances (the API validates first)."""

    def checked(parameters: BaseModel) -> Parameters:
        if not isinstance(parameters, params):
            raise TypeError(f"the {name} read takes {params.__name__}, not {type(parameters).__name__}")
        return parameters

    def bound(parameters: BaseModel) -> BoundStatement:
        return statement(checked(parameters))

    def run(engine: Engine, parameters: BaseModel) -> list[BaseModel]:
        typed = checked(parameters)
        return list(rows(fetch(engine, statement(typed)), typed))

    return LiveRead(name, summary, description, params, row, cache_seconds, run, bound)


def _each(
    convert: Callable[[dict[str, Any], Parameters], Row],
) -> Callable[[Sequence[dict[str, Any]], Parameters], list[Row]]:
    """Rows converted one by one, in the order the statement sorted them."""
    return lambda records, parameters: [convert(record, parameters) for record in records]


LIVE_READS: tuple[LiveRead, ...] = (
    _live_read(
        name="budget-daily-detail",
        summary="Daily budget by revenue category for a site and month",
        description=(
            "Today's query 1 (spBUDGET_DAILY_DETAIL): the month's budgeted vehicles, net revenue and rate "
            "per revenue category, and occupied rooms, spread evenly over the days of the month."
        ),
        params=SiteMonth,
        row=budget.BudgetDay,
        cache_seconds=BUDGET_CACHE_SECONDS,
        statement=budget.budget_daily_detail_statement,
        rows=budget.budget_days,
    ),
    _live_read(
        name="budget-actual-summary",
        summary="Budget against actual by summary category for sites and a year",
        description=(
            "Today's queries 2 and 4 (spBudget_Actual_Summary, …_BySite): per site and month, GP actuals "
            "and the budget as external and internal revenue, payroll, claims, parking rents, other "
            "expense, PTEB, insurance and occupied rooms. Internal revenue is positive."
        ),
        params=SitesYear,
        row=summary.BudgetActualSummary,
        cache_seconds=BUDGET_CACHE_SECONDS,
        statement=summary.budget_actual_summary_statement,
        rows=summary.budget_actual_summaries,
    ),
    _live_read(
        name="parking-rates",
        summary="Budgeted and actual parking rates for a site and year",
        description=(
            "Today's query 3: revenue per vehicle for each revenue code group (VD, VO, VM, SD, SO, SM) "
            "and month, budgeted from the statistic accounts and actual from RSS."
        ),
        params=SiteYear,
        row=budget.ParkingRate,
        cache_seconds=DAILY_CACHE_SECONDS,
        statement=budget.parking_rates_statement,
        rows=lambda records, parameters: sorted(
            (budget.parking_rate(record, parameters) for record in records),
            key=lambda rate: (rate.period, rate.type, rate.revenue_code),
        ),
    ),
    _live_read(
        name="payroll-budget",
        summary="Budgeted payroll hours and cost by job profile for a site and year",
        description="Today's query 5: BUDGET_DATATAB_PR's 'PR Hours' and 'Payroll' per month and job profile.",
        params=SiteYear,
        row=budget.PayrollBudget,
        cache_seconds=BUDGET_CACHE_SECONDS,
        statement=budget.payroll_budget_statement,
        rows=_each(budget.payroll_budget),
    ),
    _live_read(
        name="payroll-actuals",
        summary="Payroll hours and cost by job code and day for a site and month",
        description=(
            "Today's query 6 from Legion's payroll, summed by job code and day, without the DIFFERENTIAL "
            "and MEAL PREMIUM pay types; double overtime included. Sites match '0170' and '170'."
        ),
        params=SiteMonth,
        row=legion.PayrollActual,
        cache_seconds=DAILY_CACHE_SECONDS,
        statement=legion.payroll_actuals_statement,
        rows=_each(legion.payroll_actual),
    ),
    _live_read(
        name="scheduled-hours",
        summary="Scheduled hours by job code and day for a site and month",
        description=(
            "Today's query 7 from Legion's shifts, summed by job code and day: regular, overtime and "
            "double overtime hours of shifts that are not deleted. Sites match '0170' and '170'."
        ),
        params=SiteMonth,
        row=legion.ScheduledHours,
        cache_seconds=DAILY_CACHE_SECONDS,
        statement=legion.scheduled_hours_statement,
        rows=_each(legion.scheduled_hours),
    ),
    _live_read(
        name="daily-revenue",
        summary="Daily parking counts and revenue by category, and occupied rooms, for a site",
        description=(
            "Today's query 8 for chosen days (at most 93): vehicles and net external revenue per revenue "
            "category from RSS, and occupied rooms from the revenue datamart."
        ),
        params=SiteDays,
        row=revenue.DailyRevenue,
        cache_seconds=DAILY_CACHE_SECONDS,
        statement=revenue.daily_revenue_statement,
        rows=revenue.daily_revenues,
    ),
    _live_read(
        name="other-expenses",
        summary="Other expense by account, actual and budget, for a site and year",
        description=(
            "Today's queries 9 and 10: each 7000-7999 expense account's GP actual and budget per month, "
            "with the account's name."
        ),
        params=SiteYear,
        row=summary.OtherExpense,
        cache_seconds=BUDGET_CACHE_SECONDS,
        statement=summary.other_expenses_statement,
        rows=summary.other_expenses,
    ),
)
