"""Live reads of budget against GP actuals (TP_EDW): the P&L summary by site and year, and other expense.

They replace today's EDW queries 2, 4, 9 and 10 (DOMAIN.md §4). Actuals are
``ACCOUNT_SUMMARY`` (GP after month-end close), the budget is ``BUDGET_FINAL``;
both are summed by the summary category ``CHART_OF_ACCOUNT`` gives each main
account. The stored procedures' own logic (``spBudget_Actual_Summary`` and
``…_BySite``) is not in any source Towne Park published, so the columns are
built from what DOMAIN.md says they hold:

- external revenue is the statistic account 9410 (the total of the six
  category revenue accounts, which are not added again);
- internal revenue is stored negative, as GP credits are, and is turned
  positive (DOMAIN.md §5);
- occupied rooms are the statistic account 9440;
- every ENTITY is included: the ENTITY '06' exclusion is a billing rule.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import Field
from sqlalchemy import VARCHAR, bindparam, case, func, select, union_all
from sqlalchemy.sql.expression import ColumnElement

from shared.live_reads.execution import Amount, BoundStatement, EdwRow
from shared.live_reads.parameters import SitesYear, SiteYear
from shared.sql.tables import account_summary, budget_final, chart_of_account

ACTUAL = "ACTUAL"
BUDGET = "BUDGET"
EXTERNAL_REVENUE_ACCOUNT = "9410"
OCCUPIED_ROOMS_ACCOUNT = "9440"
# Columns of spBudget_Actual_Summary and the CHART_OF_ACCOUNT summary category each sums.
SUMMARY_CATEGORIES = {
    "internal_revenue": "INTERNAL REVENUE",
    "payroll": "PAYROLL",
    "claims": "CLAIMS",
    "parking_rents": "PARKING RENTS",
    "other_expense": "OTHER EXPENSE",
    "pteb": "PTEB",
    "insurance": "INSURANCE",
}
OTHER_EXPENSE_ACCOUNTS = ("7000", "7999")  # DOMAIN.md §7: expenses are main accounts 7000-7999


def _year_periods(year: int) -> dict[str, str]:
    return {"first_period": f"{year}01", "last_period": f"{year}12"}


# ── Queries 2 and 4: budget against actual by site and year ─────────────────────────────────────


class BudgetActualSummary(EdwRow):
    """One site's month, actual or budget, by summary category (spBudget_Actual_Summary's columns)."""

    site: str = Field(description="The site number, four digits.")
    month_num: int = Field(title="Month", description="The month of the year, 1 to 12.")
    period: str = Field(description="The month, as yyyyMM.")
    type: str = Field(description="ACTUAL or BUDGET.")
    external_revenue: Amount = Field(description="External revenue: the statistic account 9410.")
    internal_revenue: Amount = Field(
        description="The INTERNAL REVENUE summary category, turned positive (GP stores it negative)."
    )
    payroll: Amount = Field(description="The PAYROLL summary category of the chart of accounts.")
    claims: Amount = Field(description="The CLAIMS summary category of the chart of accounts.")
    parking_rents: Amount = Field(description="The PARKING RENTS summary category of the chart of accounts.")
    other_expense: Amount = Field(description="The OTHER EXPENSE summary category of the chart of accounts.")
    pteb: Amount = Field(
        title="PTEB", description="The PTEB summary category (payroll taxes and employee benefits)."
    )
    insurance: Amount = Field(description="The INSURANCE summary category of the chart of accounts.")
    occupied_rooms: Amount = Field(description="Occupied rooms: the statistic account 9440.")


def _summary(source: Any, summary_type: str) -> Any:
    """One side of the summary: ``source`` (ACCOUNT_SUMMARY or BUDGET_FINAL) pivoted by category."""
    coa = chart_of_account.c

    def total(condition: ColumnElement[bool]) -> Any:
        return func.coalesce(func.sum(case((condition, source.c.BALANCE))), 0)

    def category(column: str) -> Any:
        summed = total(coa.IS_SUMMARY_CATEGORY == bindparam(f"category_{column}"))
        return (-summed if column == "internal_revenue" else summed).label(column)  # GP credits are negative

    return (
        select(
            source.c.COST_CENTER.label("site"),
            source.c.PERIOD.label("period"),
            bindparam(f"type_{summary_type}", summary_type, type_=VARCHAR()).label("type"),
            total(source.c.MAIN_ACCOUNT == bindparam("external_revenue_account")).label("external_revenue"),
            *(category(column) for column in SUMMARY_CATEGORIES),
            total(source.c.MAIN_ACCOUNT == bindparam("occupied_rooms_account")).label("occupied_rooms"),
        )
        .select_from(source.outerjoin(chart_of_account, source.c.MAIN_ACCOUNT == coa.MAIN_ACCOUNT))
        .where(
            source.c.COST_CENTER.in_(bindparam("sites", expanding=True)),
            source.c.PERIOD >= bindparam("first_period"),
            source.c.PERIOD <= bindparam("last_period"),
        )
        .group_by(source.c.COST_CENTER, source.c.PERIOD)
    )


BUDGET_ACTUAL_SUMMARY = union_all(_summary(account_summary, ACTUAL), _summary(budget_final, BUDGET))


def budget_actual_summary_statement(parameters: SitesYear) -> BoundStatement:
    """Queries 2 (one site) and 4 (a list of sites): each month of the year, actual and budget."""
    return BoundStatement(
        BUDGET_ACTUAL_SUMMARY,
        {
            **{f"category_{column}": category for column, category in SUMMARY_CATEGORIES.items()},
            "external_revenue_account": EXTERNAL_REVENUE_ACCOUNT,
            "occupied_rooms_account": OCCUPIED_ROOMS_ACCOUNT,
            "sites": list(parameters.sites),
            **_year_periods(parameters.year),
        },
    )


def budget_actual_summaries(rows: Sequence[dict[str, Any]], _: SitesYear) -> list[BudgetActualSummary]:
    """Sorted by site, period, then ACTUAL before BUDGET, as a screen lays them out."""
    summaries = [
        BudgetActualSummary.model_validate({**row, "month_num": int(row["period"][4:])}) for row in rows
    ]
    return sorted(summaries, key=lambda summary: (summary.site, summary.period, summary.type))


# ── Queries 9 and 10: other expense, actual and budget ──────────────────────────────────────────


class OtherExpense(EdwRow):
    """One expense account's actual or budget for one month at one site."""

    period: str = Field(description="The month, as yyyyMM.")
    type: str = Field(description="ACTUAL or BUDGET.")
    main_account: str = Field(description="The GL main account number.")
    account_name: str | None = Field(description="The account's name in the chart of accounts.")
    amount: Amount = Field(description="The month's amount on the account.")


def _other_expense(source: Any, expense_type: str) -> Any:
    coa = chart_of_account.c
    return (
        select(
            source.c.PERIOD.label("period"),
            bindparam(f"type_{expense_type}", expense_type, type_=VARCHAR()).label("type"),
            source.c.MAIN_ACCOUNT.label("main_account"),
            coa.ACCOUNT_NAME.label("account_name"),
            func.sum(source.c.BALANCE).label("amount"),
        )
        .select_from(source.outerjoin(chart_of_account, source.c.MAIN_ACCOUNT == coa.MAIN_ACCOUNT))
        .where(
            source.c.COST_CENTER == bindparam("site"),
            source.c.PERIOD >= bindparam("first_period"),
            source.c.PERIOD <= bindparam("last_period"),
            source.c.MAIN_ACCOUNT >= bindparam("first_account"),
            source.c.MAIN_ACCOUNT <= bindparam("last_account"),
        )
        .group_by(source.c.PERIOD, source.c.MAIN_ACCOUNT, coa.ACCOUNT_NAME)
    )


OTHER_EXPENSES = union_all(_other_expense(account_summary, ACTUAL), _other_expense(budget_final, BUDGET))


def other_expenses_statement(parameters: SiteYear) -> BoundStatement:
    """Queries 9 (actual) and 10 (budget): each expense account of the year's twelve periods."""
    first_account, last_account = OTHER_EXPENSE_ACCOUNTS
    return BoundStatement(
        OTHER_EXPENSES,
        {
            "site": parameters.site,
            "first_account": first_account,
            "last_account": last_account,
            **_year_periods(parameters.year),
        },
    )


def other_expenses(rows: Sequence[dict[str, Any]], _: SiteYear) -> list[OtherExpense]:
    """Sorted by period, type and account.

    Today's queries fold 71 listed accounts into 12 named buckets and Misc;
    DOMAIN.md names only three of the buckets, so the read returns every
    account with its name and leaves the buckets to the screen.
    """
    expenses = [OtherExpense.model_validate(row) for row in rows]
    return sorted(expenses, key=lambda expense: (expense.period, expense.type, expense.main_account))
