"""Live read of daily parking revenue (TP_EDW): counts and net revenue by category, and occupied rooms.

It replaces today's EDW query 8 (DOMAIN.md §4), which pivots
``REVENUE_DAILY_DETAIL`` by category from the first of the month to today and
adds occupied rooms from ``REVENUE_DATAMART_DAILY``. Here the caller chooses
the days (at most a quarter) and each category is a row, so a new category in
RSS needs no new column.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Annotated, Any

from pydantic import Field
from sqlalchemy import Date, bindparam, func, null, select, union_all

from shared.live_reads.execution import Amount, BoundStatement, EdwRow
from shared.live_reads.parameters import SiteDays
from shared.sql.tables import revenue_daily_detail, revenue_datamart_daily

OCCUPIED_ROOMS = "Occupied Rooms"


class DailyRevenue(EdwRow):
    """One day of one revenue category: vehicles (rooms for 'Occupied Rooms') and net external revenue."""

    date: Annotated[date, Field(description="The day (yyyy-MM-dd).")]
    revenue_category: str = Field(description="The revenue category, or 'Occupied Rooms'.")
    count: Amount = Field(description="Vehicles that day (rooms for 'Occupied Rooms').")
    revenue: Amount | None = Field(description="Net external revenue that day; None for 'Occupied Rooms'.")


_detail = revenue_daily_detail.c
_datamart = revenue_datamart_daily.c
_parking = (
    select(
        _detail.DATE.label("date"),
        _detail.REVENUE_CATEGORY.label("revenue_category"),
        func.sum(_detail.VEHICLECOUNT).label("count"),
        func.sum(_detail.NETEXTERNALREVENUE).label("revenue"),
    )
    .where(
        _detail.SITE == bindparam("site"),
        _detail.DATE >= bindparam("from_date", type_=Date()),
        _detail.DATE <= bindparam("to_date", type_=Date()),
    )
    .group_by(_detail.DATE, _detail.REVENUE_CATEGORY)
)
_rooms = (
    select(
        _datamart.DATE.label("date"),
        _datamart.REVENUE_CATEGORY.label("revenue_category"),
        func.sum(_datamart.VALUE).label("count"),
        null().label("revenue"),
    )
    .where(
        _datamart.SITE == bindparam("site"),
        _datamart.DATE >= bindparam("from_date", type_=Date()),
        _datamart.DATE <= bindparam("to_date", type_=Date()),
        _datamart.REVENUE_CATEGORY == bindparam("occupied_rooms"),
    )
    .group_by(_datamart.DATE, _datamart.REVENUE_CATEGORY)
)
DAILY_REVENUE = union_all(_parking, _rooms)


def daily_revenue_statement(parameters: SiteDays) -> BoundStatement:
    """Query 8 for the chosen days: category sums and occupied rooms, day by day."""
    return BoundStatement(
        DAILY_REVENUE,
        {
            "site": parameters.site,
            "from_date": parameters.from_date,
            "to_date": parameters.to_date,
            "occupied_rooms": OCCUPIED_ROOMS,
        },
    )


def daily_revenues(rows: Sequence[dict[str, Any]], _: SiteDays) -> list[DailyRevenue]:
    """Sorted by day, then category."""
    days = [DailyRevenue.model_validate(row) for row in rows]
    return sorted(days, key=lambda day: (day.date, day.revenue_category))
