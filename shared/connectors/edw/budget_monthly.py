"""Budget monthly: ``BUDGET_FINAL`` by site, period and summary category → ``bs_budgetmonthly``.

The July 2025 plan's "Budget Monthly" (DOMAIN.md §4 "Decisions"): the forecast
reads the budget from Dataverse instead of the EDW. Each main account rolls up
to its ``IS_SUMMARY_CATEGORY`` in ``CHART_OF_ACCOUNT`` (the eight categories;
statistic accounts have none and are left out). External revenue is account
9410 alone, as the GL actuals and the budget-against-actual read sum it: the
six category revenue accounts (9411-9416) are its parts, not added again, so
budget and actual compare like for like. Internal revenue is stored
negative in the budget, as GP credits are, so its sign is turned (DOMAIN.md
§5). Cost centers that are not sites (P4.., A.., 9000s) are skipped, as
``budgets.py`` skips them; a site stored both padded and unpadded is one site.

The stream reads account balances, not sums, because a budget fixed for its
year (DOMAIN.md §5: from January 1) only changes through an approved revision:
``ApprovedBudget`` (``shared/workflows/budget_revisions``) replaces a changed
balance of a fixed year by the approved one before the sums are made. A full
read every run is cheap to load: the engine stages only the sums whose content
changed, so a quiet run writes nothing and one changed row writes its one sum.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any, Protocol

from pydantic import BaseModel, StringConstraints
from sqlalchemy import Engine, func, or_, select

from shared.connectors.dataverse.sink import DataverseTarget
from shared.connectors.edw.gl_actuals import EXTERNAL_REVENUE, EXTERNAL_REVENUE_ACCOUNT
from shared.pipeline.stream import ReadWindow, Record, Row, Stream
from shared.sites import site_key, site_number
from shared.sql.engines import stream_rows
from shared.sql.tables import budget_final, chart_of_account

STREAM = "budget_monthly"
TARGET = DataverseTarget(
    entity_set="bs_budgetmonthlies", alternate_key=("bs_sitenumber", "bs_period", "bs_summarycategory")
)
INTERNAL_REVENUE = "INTERNAL REVENUE"
_CENT = Decimal("0.01")

Period = Annotated[str, StringConstraints(pattern=r"^\d{4}(0[1-9]|1[0-2])$")]


@dataclass(frozen=True)
class AccountBalance:
    """One budget cell as the EDW holds it: a cost center's main account in a period (``yyyyMM``)."""

    cost_center: str
    period: str
    account: str
    category: str
    balance: Decimal

    @property
    def year(self) -> int:
        return int(self.period[:4])


class ApprovedBudget(Protocol):
    """What stands of the budget: the source's balances, with those of a fixed year as approved."""

    def balances(self, source: Sequence[AccountBalance]) -> list[AccountBalance]: ...


class CategoryBudget(BaseModel):
    """One cost center's budget for one period and summary category, as stored (revenue negative)."""

    cost_center: str
    period: Period
    summary_category: Annotated[str, StringConstraints(min_length=1)]
    balance: Decimal


def read_account_balances(edw: Engine, page_rows: int) -> list[AccountBalance]:
    """Every categorised budget cell, cost centers padded when they are sites, duplicates summed."""
    statement = (
        select(
            budget_final.c.COST_CENTER,
            budget_final.c.PERIOD,
            budget_final.c.MAIN_ACCOUNT,
            chart_of_account.c.IS_SUMMARY_CATEGORY,
            func.sum(budget_final.c.BALANCE).label("BALANCE"),
        )
        .join(chart_of_account, chart_of_account.c.MAIN_ACCOUNT == budget_final.c.MAIN_ACCOUNT)
        .where(chart_of_account.c.IS_SUMMARY_CATEGORY.is_not(None))
        .where(
            or_(
                chart_of_account.c.IS_SUMMARY_CATEGORY != EXTERNAL_REVENUE,
                budget_final.c.MAIN_ACCOUNT == EXTERNAL_REVENUE_ACCOUNT,
            )
        )
        .group_by(
            budget_final.c.COST_CENTER,
            budget_final.c.PERIOD,
            budget_final.c.MAIN_ACCOUNT,
            chart_of_account.c.IS_SUMMARY_CATEGORY,
        )
    )
    cells: dict[tuple[str, str, str], AccountBalance] = {}
    for page in stream_rows(edw, statement, page_rows):
        for row in page:
            cell = AccountBalance(
                site_key(row["COST_CENTER"]),
                str(row["PERIOD"]).strip(),
                str(row["MAIN_ACCOUNT"]).strip(),
                str(row["IS_SUMMARY_CATEGORY"]).strip(),
                _decimal(row["BALANCE"]),
            )
            key = (cell.cost_center, cell.period, cell.account)
            if key in cells:  # the same site stored as '0170' and '170'
                cell = AccountBalance(*key, cell.category, cells[key].balance + cell.balance)
            cells[key] = cell
    return sorted(cells.values(), key=lambda cell: (cell.cost_center, cell.period, cell.account))


def category_sums(cells: Sequence[AccountBalance]) -> list[Row]:
    """The cells summed per cost center, period and summary category, in that order."""
    sums: dict[tuple[str, str, str], Decimal] = {}
    for cell in cells:
        key = (cell.cost_center, cell.period, cell.category)
        sums[key] = sums.get(key, Decimal(0)) + cell.balance
    return [
        {"cost_center": site, "period": period, "summary_category": category, "balance": balance}
        for (site, period, category), balance in sorted(sums.items())
    ]


def _decimal(value: Any) -> Decimal:
    return Decimal(str(value or 0))


def to_budget_monthly(budget: CategoryBudget) -> Record | None:
    """The ``bs_budgetmonthly`` record; None for a cost center that is not a site."""
    site = site_number(budget.cost_center)
    if site is None:
        return None
    amount = -budget.balance if budget.summary_category == INTERNAL_REVENUE else budget.balance
    return {
        "bs_sitenumber": site,
        "bs_period": f"{budget.period[:4]}-{budget.period[4:]}",
        "bs_summarycategory": budget.summary_category,
        "bs_amount": float(amount.quantize(_CENT)) + 0.0,  # + 0.0 turns -0.0 into 0.0
    }


def budget_monthly_stream(
    edw: Engine, *, approved: ApprovedBudget | None = None, page_rows: int = 5000
) -> Stream[CategoryBudget]:
    """The ``budget_monthly`` stream; without ``approved`` every change loads as it is read."""

    def read(_: ReadWindow) -> Iterator[Sequence[Row]]:
        cells = read_account_balances(edw, page_rows)
        if approved is not None:
            cells = approved.balances(cells)
        rows = category_sums(cells)
        for start in range(0, len(rows), page_rows):
            yield rows[start : start + page_rows]

    return Stream(name=STREAM, model=CategoryBudget, read=read, transform=to_budget_monthly, target=TARGET)
