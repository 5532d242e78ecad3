"""Parking rates by site, month and category, budget and actual → ``bs_parkingratedetail``.

Replaces registry query 3 (DOMAIN.md §4), the forecast's per-site read of the
year's rates, with the same rules as its live read
(``shared.live_reads.budget.parking_rates_statement``): the budget rate is a
category's revenue account over its count account in ``BUDGET_FINAL``
(Valet Daily 9411/9510 …), the actual rate is ``NETEXTERNALREVENUE`` over
``VEHICLECOUNT`` of ``vwREVENUE_DAILY_DETAIL_INVOICE`` by revenue code group
(VD1, VD2 … are Valet Daily) and month, each a ratio of the month's sums, to
the cent. A month with no vehicles has no rate and is not written.

``bs_parkingratedetail.bs_type`` orders its options Forecast 126840000,
Actual 126840001, Budget 126840002: not the order of
``bs_sitestatisticdetail``'s. The stream reads last year and this one in full
(a few rows per site and month) and writes only what changed.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import Engine, case, extract, func, or_, select

from shared.connectors.dataverse.sink import DataverseTarget
from shared.connectors.legion.days import Today
from shared.live_reads.budget import PARKING_CATEGORIES
from shared.pipeline.stream import ReadWindow, Record, Row, Stream
from shared.sites import site_key, site_number
from shared.sql.engines import stream_rows
from shared.sql.tables import budget_final, vw_revenue_daily_detail_invoice

STREAM = "parking_rates"
TARGET = DataverseTarget(
    entity_set="bs_parkingratedetails",
    alternate_key=("bs_sitenumber", "bs_year", "bs_month", "bs_ratecategory", "bs_type"),
)
_CENT = Decimal("0.01")


class RateType(StrEnum):
    BUDGET = "budget"
    ACTUAL = "actual"


# bs_parkingratedetail.bs_type (DOMAIN.md §8): Forecast 126840000, Actual 126840001, Budget 126840002.
RATE_TYPE_OPTIONS = {RateType.ACTUAL: 126840001, RateType.BUDGET: 126840002}


class CategoryMonth(BaseModel):
    """One category's revenue and vehicles at one site in one month, budgeted or actual."""

    site: str
    year: int = Field(ge=2000, le=2100)
    month: int = Field(ge=1, le=12)
    category: str
    type: RateType
    revenue: Decimal
    vehicles: Decimal


def budget_pairs_statement(first_year: int, last_year: int) -> Any:
    """Each cost center's and period's revenue and count per category from the statistic account pairs."""
    budget = budget_final.c
    columns: list[Any] = [budget.COST_CENTER.label("site"), budget.PERIOD.label("period")]
    for index, category in enumerate(PARKING_CATEGORIES):
        revenue = budget.MAIN_ACCOUNT == category.revenue_account
        count = budget.MAIN_ACCOUNT == category.count_account
        columns.append(func.sum(case((revenue, budget.BALANCE), else_=0)).label(f"revenue_{index}"))
        columns.append(func.sum(case((count, budget.BALANCE), else_=0)).label(f"vehicles_{index}"))
    accounts = [account for c in PARKING_CATEGORIES for account in (c.revenue_account, c.count_account)]
    return (
        select(*columns)
        .where(
            budget.PERIOD >= f"{first_year}01",
            budget.PERIOD <= f"{last_year}12",
            or_(*(budget.MAIN_ACCOUNT == account for account in accounts)),
        )
        .group_by(budget.COST_CENTER, budget.PERIOD)
    )


def actual_statement(first_year: int, last_year: int) -> Any:
    """Each site's month's net revenue and vehicles per revenue code group from the invoice view."""
    rss = vw_revenue_daily_detail_invoice.c
    group = case(*((rss.REVENUE_CODE.like(f"{c.code}%"), c.name) for c in PARKING_CATEGORIES))
    year, month = extract("year", rss.DATE), extract("month", rss.DATE)
    return (
        select(
            rss.SITE.label("site"),
            year.label("year"),
            month.label("month"),
            group.label("category"),
            func.sum(rss.NETEXTERNALREVENUE).label("revenue"),
            func.sum(rss.VEHICLECOUNT).label("vehicles"),
        )
        .where(year >= first_year, year <= last_year, group.is_not(None))
        .group_by(rss.SITE, year, month, group)
    )


def read_category_months(edw: Engine, years: tuple[int, int], page_rows: int) -> Iterator[Sequence[Row]]:
    """Budget and actual category months of ``years`` (first, last), the spellings of a site merged."""
    merged: dict[tuple[Any, ...], dict[str, Any]] = {}

    def add(
        site: str, year: int, month: int, category: str, kind: RateType, revenue: Any, vehicles: Any
    ) -> None:
        key = (site_key(site), int(year), int(month), category, kind.value)
        row = merged.setdefault(
            key,
            dict(zip(("site", "year", "month", "category", "type"), key, strict=True), revenue=0, vehicles=0),
        )
        row["revenue"] = _decimal(row["revenue"]) + _decimal(revenue)
        row["vehicles"] = _decimal(row["vehicles"]) + _decimal(vehicles)

    for page in stream_rows(edw, budget_pairs_statement(*years), page_rows):
        for row in page:
            period = str(row["period"]).strip()
            for index, category in enumerate(PARKING_CATEGORIES):
                revenue, vehicles = row[f"revenue_{index}"], row[f"vehicles_{index}"]
                if revenue or vehicles:
                    add(
                        row["site"],
                        int(period[:4]),
                        int(period[4:]),
                        category.name,
                        RateType.BUDGET,
                        revenue,
                        vehicles,
                    )
    for page in stream_rows(edw, actual_statement(*years), page_rows):
        for row in page:
            add(
                row["site"],
                row["year"],
                row["month"],
                row["category"],
                RateType.ACTUAL,
                row["revenue"],
                row["vehicles"],
            )
    rows = [merged[key] for key in sorted(merged)]
    for start in range(0, len(rows), page_rows):
        yield rows[start : start + page_rows]


def _decimal(value: Any) -> Decimal:
    return Decimal(str(value or 0))


def to_parking_rate(month: CategoryMonth) -> Record | None:
    """The month's rate for the category; None for a cost center that is not a site or a month without vehicles."""
    site = site_number(month.site)
    if site is None or month.vehicles == 0:
        return None
    return {
        "bs_sitenumber": site,
        "bs_year": month.year,
        "bs_month": month.month,
        "bs_ratecategory": month.category,
        "bs_type": RATE_TYPE_OPTIONS[month.type],
        "bs_rate": float((month.revenue / month.vehicles).quantize(_CENT, rounding=ROUND_HALF_UP)),
    }


def parking_rates_stream(edw: Engine, *, today: Today, page_rows: int = 5000) -> Stream[CategoryMonth]:
    """The ``parking_rates`` stream: last year's and this year's rates, read in full each run."""

    def read(_: ReadWindow) -> Iterator[Sequence[Row]]:
        year = today().year
        return read_category_months(edw, (year - 1, year), page_rows)

    return Stream(name=STREAM, model=CategoryMonth, read=read, transform=to_parking_rate, target=TARGET)
