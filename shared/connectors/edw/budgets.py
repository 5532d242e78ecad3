"""Billable expense budgets: ``BUDGET_FINAL`` by site and period → ``bs_billableexpense``.

Replaces the "BillableExpenseBudgets" dataflow (DOMAIN.md §5). Accounts are
split as billing splits them (DOMAIN.md §7): payroll is 6000-6199 without 6010
and 6014, other expense 7000-7999 without 7005 and 7016; the billable expense
budget is their sum. Internal revenue (4000-4999) is stored negative in the
budget, as GP credits are, so the hub turns its sign before writing
``bs_internalrevenuebudget`` (a column the hub adds, for the forecast).

SQL sums the accounts per cost center and period; the few cost centers a
source stored both padded and unpadded are then merged here on the
four-digit site number, which keeps the statement the same on SQL Server and
SQLite. Cost centers that are not sites (P4.., A.., 9000s) are skipped.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, StringConstraints, field_validator
from sqlalchemy import ColumnElement, Engine, and_, case, func, select

from shared.connectors.dataverse.sink import DataverseTarget
from shared.pipeline.stream import ReadWindow, Record, Row, Stream
from shared.sites import site_key, site_number
from shared.sql.engines import stream_rows
from shared.sql.tables import budget_final

STREAM = "billable_expense_budgets"
TARGET = DataverseTarget(entity_set="bs_billableexpenses", alternate_key=("bs_siteid", "bs_period"))
_CENT = Decimal("0.01")


@dataclass(frozen=True)
class AccountRange:
    """Main accounts ``first``..``last`` (4-digit text, compared as text) without ``excluded``."""

    first: str
    last: str
    excluded: tuple[str, ...] = ()

    def holds(self, account: ColumnElement[Any]) -> ColumnElement[bool]:
        inside = and_(account >= self.first, account <= self.last)
        return and_(inside, account.not_in(self.excluded)) if self.excluded else inside


PAYROLL = AccountRange("6000", "6199", ("6010", "6014"))
OTHER_EXPENSE = AccountRange("7000", "7999", ("7005", "7016"))
INTERNAL_REVENUE = AccountRange("4000", "4999")

Period = Annotated[str, StringConstraints(pattern=r"^\d{4}(0[1-9]|1[0-2])$")]


class SiteBudget(BaseModel):
    """One cost center's budget for one period, summed by kind of account."""

    cost_center: str
    period: Period
    payroll: Decimal
    other_expense: Decimal
    internal_revenue: Decimal

    @field_validator("period", mode="before")
    @classmethod
    def _period_text(cls, value: Any) -> Any:
        return value.strip() if isinstance(value, str) else value


def _summed(accounts: AccountRange, label: str) -> ColumnElement[Any]:
    balance = case((accounts.holds(budget_final.c.MAIN_ACCOUNT), budget_final.c.BALANCE), else_=0)
    return func.sum(balance).label(label)


def read_site_budgets(
    edw: Engine, payroll: AccountRange, other_expense: AccountRange, page_rows: int
) -> Iterator[Sequence[Row]]:
    """Each cost center's budget per period, summed by kind of account, padded sites merged."""
    statement = (
        select(
            budget_final.c.COST_CENTER.label("cost_center"),
            budget_final.c.PERIOD.label("period"),
            _summed(payroll, "payroll"),
            _summed(other_expense, "other_expense"),
            _summed(INTERNAL_REVENUE, "internal_revenue"),
        )
        .group_by(budget_final.c.COST_CENTER, budget_final.c.PERIOD)
        .order_by(budget_final.c.COST_CENTER, budget_final.c.PERIOD)
    )
    merged: dict[tuple[str, Any], dict[str, Any]] = {}
    for page in stream_rows(edw, statement, page_rows):
        for row in page:
            key = (site_key(row["cost_center"]), row["period"])
            if key not in merged:
                merged[key] = {**row, "cost_center": key[0]}
                continue
            for name in ("payroll", "other_expense", "internal_revenue"):
                merged[key][name] = _decimal(merged[key][name]) + _decimal(row[name])
    rows = list(merged.values())
    for start in range(0, len(rows), page_rows):
        yield rows[start : start + page_rows]


def _decimal(value: Any) -> Decimal:
    return Decimal(str(value or 0))


def to_billable_expense(budget: SiteBudget) -> Record | None:
    """The ``bs_billableexpense`` record for a site; None for a cost center that is not a site."""
    site = site_number(budget.cost_center)
    if site is None:
        return None
    payroll, other = _money(budget.payroll), _money(budget.other_expense)
    return {
        "bs_siteid": site,
        "bs_period": budget.period,
        "bs_payrollexpensebudget": payroll,
        "bs_otherexpensebudget": other,
        "bs_billableexpensebudget": round(payroll + other, 2),
        "bs_internalrevenuebudget": _money(-budget.internal_revenue),
    }


def _money(value: Decimal) -> float:
    return float(value.quantize(_CENT)) + 0.0  # + 0.0 turns -0.0 into 0.0


def budgets_stream(
    edw: Engine,
    *,
    payroll: AccountRange = PAYROLL,
    other_expense: AccountRange = OTHER_EXPENSE,
    page_rows: int = 5000,
) -> Stream[SiteBudget]:
    """The ``billable_expense_budgets`` stream; the account ranges are options with billing's defaults."""

    def read(_: ReadWindow) -> Iterator[Sequence[Row]]:
        return read_site_budgets(edw, payroll, other_expense, page_rows)

    return Stream(name=STREAM, model=SiteBudget, read=read, transform=to_billable_expense, target=TARGET)
