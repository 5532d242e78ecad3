"""The daily baseline of the budget's statistics: ``spBUDGET_DAILY_DETAIL`` → ``bs_sitestatisticdetail`` (Budget).

Today the forecasting app calls ``spBUDGET_DAILY_DETAIL(COST_CENTER, PERIOD)``
(registry query 1, DOMAIN.md §4) on every page load; this stream calls it once
per site and month of the window (``budget_months``) and writes one
``bs_sitestatisticdetail`` row per site and day, ``bs_type`` Budget (DOMAIN.md
§8), keyed (site, date, type), so the app reads Dataverse instead.

The procedure's body and columns are not in any source Towne Park published;
the hub reads ``DATE, REVENUE_CATEGORY, VEHICLECOUNT, REVENUE`` per day and
category (occupied rooms are the category 'Occupied Rooms', without revenue),
the shape DOMAIN.md gives it. Whatever rounding its days carry, the hub sums
each category's days to the month (to the hundredth) and spreads the month
again by largest remainder (``daily_spread``), so a month's days add up to the
month exactly. DriveIn = (SelfON + ValetON) / occupied rooms and Capture =
ValetON / (SelfON + ValetON), as the API computes them, from the month's
totals, so every day of a month shows the same ratio; None where the divisor
is 0. External revenue is the day's six parking revenues together.

Only the Budget columns are written: the actual statistics (another stream)
write rows of type Actual, never these.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Engine, select

from shared.connectors.dataverse.sink import DataverseTarget
from shared.connectors.edw.budget_months import BudgetMonths, known_sites
from shared.connectors.edw.daily_spread import CENT, cents, spread_units
from shared.live_reads.budget import OCCUPIED_ROOMS, OCCUPIED_ROOMS_ACCOUNT, PARKING_CATEGORIES
from shared.pipeline.stream import ReadWindow, Record, Row, Stream
from shared.sites import KnownSite, Month, SiteNumber, site_number
from shared.sql.engines import StoredProcedure, run_procedure
from shared.sql.tables import budget_final

STREAM = "daily_budget_statistics"
TARGET = DataverseTarget(
    entity_set="bs_sitestatisticdetails", alternate_key=("bs_sitenumber", "bs_date", "bs_type")
)
PROCEDURE = StoredProcedure("TP_EDW.dbo.spBUDGET_DAILY_DETAIL", ("COST_CENTER", "PERIOD"))
OUTPUT_COLUMNS = ("DATE", "REVENUE_CATEGORY", "VEHICLECOUNT", "REVENUE")
BUDGET_TYPE = 126840000  # bs_type Budget; Forecast 126840001, Actual 126840002 (DOMAIN.md §8)

# Each revenue category's vehicle-count and revenue columns on bs_sitestatisticdetail.
COLUMNS = {
    "Valet Daily": ("bs_valetdaily", "bs_valetdailyrevenue"),
    "Valet Overnight": ("bs_valetovernight", "bs_valetovernightrevenue"),
    "Valet Monthly": ("bs_valetmonthly", "bs_valetmonthlyrevenue"),
    "Self Daily": ("bs_selfdaily", "bs_selfdailyrevenue"),
    "Self Overnight": ("bs_selfovernight", "bs_selfovernightrevenue"),
    "Self Monthly": ("bs_selfmonthly", "bs_selfmonthlyrevenue"),
}
_STATISTIC_ACCOUNTS = (
    OCCUPIED_ROOMS_ACCOUNT,
    *(
        account
        for category in PARKING_CATEGORIES
        for account in (category.revenue_account, category.count_account)
    ),
)


class BudgetStatisticsDay(BaseModel):
    """One site's budgeted statistics for one day, in hundredths (vehicles, rooms and cents)."""

    site: SiteNumber
    site_known: KnownSite
    date: date
    counts: dict[str, int]  # by revenue category, 'Occupied Rooms' included
    revenues: dict[str, int]
    drive_in: float | None
    capture: float | None


def _budgeted_site_months(edw: Engine, months: Sequence[Month]) -> list[tuple[str, str]]:
    """The cost centers with a statistic budget in each month: the procedure's calls, in order."""
    statement = (
        select(budget_final.c.COST_CENTER, budget_final.c.PERIOD)
        .where(
            budget_final.c.PERIOD.in_([month.period for month in months]),
            budget_final.c.MAIN_ACCOUNT.in_(_STATISTIC_ACCOUNTS),
        )
        .distinct()
        .order_by(budget_final.c.PERIOD, budget_final.c.COST_CENTER)
    )
    with edw.connect() as connection:
        return [(str(row[0]).strip(), str(row[1]).strip()) for row in connection.execute(statement)]


def month_totals(rows: Sequence[dict[str, Any]]) -> tuple[dict[str, int], dict[str, int]]:
    """The procedure's days summed per category: vehicle (or room) counts and revenue, in hundredths."""
    counts: dict[str, Decimal] = defaultdict(Decimal)
    revenues: dict[str, Decimal] = defaultdict(Decimal)
    for row in rows:
        category = str(row["REVENUE_CATEGORY"] or "").strip()
        counts[category] += Decimal(str(row["VEHICLECOUNT"] or 0))
        if category != OCCUPIED_ROOMS:
            revenues[category] += Decimal(str(row["REVENUE"] or 0))
    return (
        {category: cents(total) for category, total in counts.items()},
        {category: cents(total) for category, total in revenues.items()},
    )


def _ratio(numerator: int, denominator: int) -> float | None:
    return None if denominator == 0 else round(numerator / denominator, 4)


def statistics_days(
    site: str, known: bool, month: Month, counts: dict[str, int], revenues: dict[str, int]
) -> Iterator[dict[str, Any]]:
    """The month's totals spread over its days, each category on its own."""
    overnight = counts.get("Self Overnight", 0) + counts.get("Valet Overnight", 0)
    drive_in = _ratio(overnight, counts.get(OCCUPIED_ROOMS, 0))
    capture = _ratio(counts.get("Valet Overnight", 0), overnight)
    daily_counts = {category: spread_units(total, month.days) for category, total in counts.items()}
    daily_revenues = {category: spread_units(total, month.days) for category, total in revenues.items()}
    for day in range(month.days):
        yield {
            "site": site,
            "site_known": known,
            "date": month.first_day + timedelta(days=day),
            "counts": {category: days[day] for category, days in daily_counts.items()},
            "revenues": {category: days[day] for category, days in daily_revenues.items()},
            "drive_in": drive_in,
            "capture": capture,
        }


def read_budget_statistics(edw: Engine, months: Sequence[Month]) -> Iterator[Sequence[Row]]:
    """One page per site and month: the procedure's answer as days of the hub's own spreading."""
    sites = known_sites(edw)
    calls = _budgeted_site_months(edw, months)
    with edw.connect() as connection:
        for cost_center, period in calls:
            site = site_number(cost_center)
            if site is None:
                continue
            rows = run_procedure(connection, PROCEDURE, {"COST_CENTER": cost_center, "PERIOD": period})
            counts, revenues = month_totals(rows)
            month = Month.parse(period)
            if site not in sites:  # one quarantined row for the month, not one per day
                yield [{"site": site, "site_known": False, "date": month.first_day, "counts": counts,
                        "revenues": revenues, "drive_in": None, "capture": None}]  # fmt: skip
                continue
            yield list(statistics_days(site, True, month, counts, revenues))


def _hundredths(units: int) -> float:
    return float(Decimal(units) * CENT) + 0.0


def to_statistic_detail(day: BudgetStatisticsDay) -> Record:
    """The ``bs_sitestatisticdetail`` row of type Budget; a category the site does not budget is 0."""
    record: Record = {
        "bs_sitenumber": day.site,
        "bs_date": day.date.isoformat(),
        "bs_type": BUDGET_TYPE,
        "bs_occupiedrooms": _hundredths(day.counts.get(OCCUPIED_ROOMS, 0)),
    }
    for category, (count_column, revenue_column) in COLUMNS.items():
        record[count_column] = _hundredths(day.counts.get(category, 0))
        record[revenue_column] = _hundredths(day.revenues.get(category, 0))
    record["bs_externalrevenue"] = _hundredths(sum(day.revenues.get(category, 0) for category in COLUMNS))
    record["bs_drivein"] = day.drive_in
    record["bs_capture"] = day.capture
    return record


def budget_statistics_stream(edw: Engine, months: BudgetMonths) -> Stream[BudgetStatisticsDay]:
    """The ``daily_budget_statistics`` stream over ``months`` (this month and the next two by default)."""

    def read(window: ReadWindow) -> Iterator[Sequence[Row]]:
        return read_budget_statistics(edw, months.of(window))

    return Stream(
        name=STREAM, model=BudgetStatisticsDay, read=read, transform=to_statistic_detail, target=TARGET
    )
