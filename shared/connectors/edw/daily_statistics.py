"""Daily statistics actuals: ``REVENUE_DAILY_DETAIL`` and occupied rooms → ``bs_sitestatisticdetail`` (Actual).

Replaces registry query 8 (DOMAIN.md §4), the forecast's daily pivot of the
RSS data: per site and day, each parking category's vehicles and net external
revenue from ``REVENUE_DAILY_DETAIL``, plus 'Occupied Rooms' from
``REVENUE_DATAMART_DAILY``. The hub writes them as the day's row of type
Actual (126840002; Budget is 126840000 and Forecast 126840001), with DriveIn
= (self + valet overnight) / occupied rooms and Capture = valet overnight /
(self + valet overnight), as the forecasting API computes them; each is left
empty when its divisor is 0. External revenue is the day's net external
revenue over every category (query 8's total).

RSS data lands up to a day after the day it describes and a resubmission
rewrites it (DOMAIN.md §4 "Refresh cadence"), so the cursor is ``DATE`` with a
look-back of ``ACTUALS_REREAD_DAYS``; the read goes month by month.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Engine, and_, case, func, literal, select, union_all

from shared.connectors.dataverse.sink import DataverseTarget
from shared.connectors.dated_reads import merged_by_day, pages, read_by_month
from shared.pipeline.stream import ReadWindow, Record, Row, Stream
from shared.sites import SiteNumber, site_key
from shared.sql.engines import stream_rows
from shared.sql.tables import revenue_daily_detail, revenue_datamart_daily

STREAM = "daily_statistics_actuals"
TARGET = DataverseTarget(
    entity_set="bs_sitestatisticdetails", alternate_key=("bs_sitenumber", "bs_date", "bs_type")
)
ACTUAL = 126840002  # bs_sitestatisticdetail.bs_type: Budget 126840000, Forecast 126840001, Actual 126840002
OCCUPIED_ROOMS = "Occupied Rooms"
# Each parking category and its columns' stem: bs_valetdaily (vehicles), bs_valetdailyrevenue.
CATEGORIES = {
    "Valet Daily": "valetdaily",
    "Valet Overnight": "valetovernight",
    "Valet Monthly": "valetmonthly",
    "Self Daily": "selfdaily",
    "Self Overnight": "selfovernight",
    "Self Monthly": "selfmonthly",
}
SUMS = (
    "occupied_rooms",
    "external_revenue",
    *(f"{stem}{part}" for stem in CATEGORIES.values() for part in ("", "revenue")),
)
_CENT = Decimal("0.01")
_RATIO = Decimal("0.0001")


class SiteDay(BaseModel):
    """One site's RSS statistics for one day."""

    site: SiteNumber
    date: date
    occupied_rooms: Decimal
    external_revenue: Decimal
    valetdaily: Decimal
    valetovernight: Decimal
    valetmonthly: Decimal
    selfdaily: Decimal
    selfovernight: Decimal
    selfmonthly: Decimal
    valetdailyrevenue: Decimal
    valetovernightrevenue: Decimal
    valetmonthlyrevenue: Decimal
    selfdailyrevenue: Decimal
    selfovernightrevenue: Decimal
    selfmonthlyrevenue: Decimal


def statistics_statement(first: date, end: date) -> Any:
    """Each site's day pivoted to one row, rooms beside the categories, for ``first`` up to ``end``."""
    detail, datamart = revenue_daily_detail.c, revenue_datamart_daily.c
    revenue = select(
        detail.SITE.label("site"),
        detail.DATE.label("date"),
        detail.REVENUE_CATEGORY.label("category"),
        detail.VEHICLECOUNT.label("vehicles"),
        detail.NETEXTERNALREVENUE.label("revenue"),
        literal(0).label("rooms"),
    ).where(and_(detail.DATE >= first, detail.DATE < end))
    rooms = select(
        datamart.SITE.label("site"),
        datamart.DATE.label("date"),
        literal(OCCUPIED_ROOMS).label("category"),
        literal(0).label("vehicles"),
        literal(0).label("revenue"),
        datamart.VALUE.label("rooms"),
    ).where(and_(datamart.DATE >= first, datamart.DATE < end, datamart.REVENUE_CATEGORY == OCCUPIED_ROOMS))
    both = union_all(revenue, rooms).subquery()
    columns: list[Any] = [
        both.c.date,
        both.c.site,
        func.sum(both.c.rooms).label("occupied_rooms"),
        func.sum(both.c.revenue).label("external_revenue"),
    ]
    for category, stem in CATEGORIES.items():
        chosen = both.c.category == category
        columns.append(func.sum(case((chosen, both.c.vehicles), else_=0)).label(stem))
        columns.append(func.sum(case((chosen, both.c.revenue), else_=0)).label(f"{stem}revenue"))
    return select(*columns).group_by(both.c.date, both.c.site).order_by(both.c.date)


def rss_days(edw: Engine) -> tuple[date, date] | None:
    """The first RSS day and the day after the last; None when there is none."""
    detail = revenue_daily_detail.c
    with edw.connect() as connection:
        first, last = connection.execute(select(func.min(detail.DATE), func.max(detail.DATE))).one()
    if first is None:
        return None
    return _day(first), _day(last) + timedelta(days=1)


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _normal(row: Row) -> dict[str, Any]:
    return {**row, "date": _day(row["date"]), "site": site_key(row["site"])}


def read_site_days(edw: Engine, window: ReadWindow, page_rows: int) -> Iterator[Sequence[Row]]:
    known = rss_days(edw)
    if known is None:
        return
    first = window.start if window.start is not None else known[0]
    end = window.end if window.end is not None else known[1]

    def read_month(start: date, stop: date) -> Iterator[list[dict[str, Any]]]:
        return stream_rows(edw, statistics_statement(start, stop), page_rows)

    rows = read_by_month(read_month, _day(first), _day(end))
    yield from pages(merged_by_day(rows, ("site",), SUMS, _normal), page_rows)


def _ratio(part: Decimal, whole: Decimal) -> float | None:
    return None if whole == 0 else float((part / whole).quantize(_RATIO, rounding=ROUND_HALF_UP))


def to_actual_statistics(day: SiteDay) -> Record:
    """The day's Actual ``bs_sitestatisticdetail``: counts whole, revenue to the cent, the two ratios."""
    record: Record = {
        "bs_sitenumber": day.site,
        "bs_date": day.date.isoformat(),
        "bs_type": ACTUAL,
        "bs_occupiedrooms": int(day.occupied_rooms),
        "bs_externalrevenue": float(day.external_revenue.quantize(_CENT)),
    }
    for stem in CATEGORIES.values():
        record[f"bs_{stem}"] = int(getattr(day, stem))
        record[f"bs_{stem}revenue"] = float(getattr(day, f"{stem}revenue").quantize(_CENT))
    overnight = day.selfovernight + day.valetovernight
    record["bs_drivein"] = _ratio(overnight, day.occupied_rooms)
    record["bs_capture"] = _ratio(day.valetovernight, overnight)
    return record


def daily_statistics_stream(edw: Engine, *, reread_days: int = 3, page_rows: int = 5000) -> Stream[SiteDay]:
    """The ``daily_statistics_actuals`` stream: by ``DATE`` from the watermark less ``reread_days``."""

    def read(window: ReadWindow) -> Iterator[Sequence[Row]]:
        return read_site_days(edw, window, page_rows)

    return Stream(
        name=STREAM,
        model=SiteDay,
        read=read,
        transform=to_actual_statistics,
        target=TARGET,
        cursor="date",
        lookback=timedelta(days=reread_days),
    )
