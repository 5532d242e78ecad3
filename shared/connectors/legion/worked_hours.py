"""Worked hours and cost per site, day and job code: ``vwPAYROLL_SUMMARY`` → ``bs_payrolldetail``.

Replaces registry query 6 (DOMAIN.md §1), which the forecast ran for a site and
month on every page load: the view's rows without DIFFERENTIAL and MEAL
PREMIUM, summed by job code and day in the API. The hub sums them in SQL and
writes ``bs_actualhours`` and ``bs_actualcost`` of the day's row. Hours leave
DIFFERENTIAL and MEAL PREMIUM out (they double-count hours); their dollars
follow ``WAGE_RATE_DIFFERENTIAL_PAY`` as the wage rates do (``DifferentialPay``:
counted by default, left out with ``excluded``, which is query 6's rule).
Rows with a blank location or title are left out, as in the wage rates.

The view is large (~150k rows a day) and refreshed around 2 AM, which may
rewrite the last few days. So the stream's cursor is ``DATE``: each run reads
from its watermark less ``ACTUALS_REREAD_DAYS`` (the look-back), month by
month, and only the days whose sums changed are written again. A backfill of
a year reads its window in month chunks; a backfill that fails resumes after
the batches it already published (``shared.pipeline.sync``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from pydantic import BaseModel
from sqlalchemy import ColumnElement, Engine, and_, case, func, select

from shared.connectors.dataverse.sink import DataverseTarget
from shared.connectors.dated_reads import merged_by_day, pages, read_by_month
from shared.connectors.legion.wage_rates import DIFFERENTIAL_PAY_TYPES, DifferentialPay, JobCode
from shared.pipeline.stream import ReadWindow, Record, Row, Stream
from shared.sites import SiteNumber, site_key
from shared.sql.engines import stream_rows
from shared.sql.tables import vw_payroll_summary

STREAM = "worked_hours"
TARGET = DataverseTarget(
    entity_set="bs_payrolldetails", alternate_key=("bs_sitenumber", "bs_jobcode", "bs_date")
)
_CENT = Decimal("0.01")


class WorkedDay(BaseModel):
    """One job code's paid hours and dollars at one site on one day."""

    site: SiteNumber
    job_code: JobCode
    date: date
    hours: Decimal
    dollars: Decimal


def _not_blank(column: ColumnElement[Any]) -> ColumnElement[bool]:
    return func.ltrim(func.rtrim(column)) != ""


def worked_statement(first: date, end: date, differential: DifferentialPay) -> Any:
    """Hours and dollars by day, location and title for ``first`` up to ``end``, in day order."""
    view = vw_payroll_summary.c
    differential_row = view.PAY_TYPE.in_(DIFFERENTIAL_PAY_TYPES)
    dollars: ColumnElement[Any] = view.TOTAL_DOLLARS
    if differential is DifferentialPay.EXCLUDED:
        dollars = case((differential_row, 0), else_=view.TOTAL_DOLLARS)
    return (
        select(
            view.DATE.label("date"),
            view.WORK_LOCATION.label("site"),
            view.TITLE.label("job_code"),
            func.sum(case((differential_row, 0), else_=view.TOTAL_HOURS)).label("hours"),
            func.sum(dollars).label("dollars"),
        )
        .where(
            and_(view.DATE >= first, view.DATE < end, _not_blank(view.WORK_LOCATION), _not_blank(view.TITLE))
        )
        .group_by(view.DATE, view.WORK_LOCATION, view.TITLE)
        .order_by(view.DATE)
    )


def payroll_days(edw: Engine) -> tuple[date, date] | None:
    """The view's first day and the day after its last; None when it is empty."""
    view = vw_payroll_summary.c
    with edw.connect() as connection:
        first, last = connection.execute(select(func.min(view.DATE), func.max(view.DATE))).one()
    if first is None:
        return None
    return _day(first), _day(last) + timedelta(days=1)


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _normal(row: Row) -> dict[str, Any]:
    return {
        **row,
        "date": _day(row["date"]),
        "site": site_key(row["site"]),
        "job_code": (row["job_code"] or "").strip().upper(),
    }


def read_worked_days(
    edw: Engine, window: ReadWindow, differential: DifferentialPay, page_rows: int
) -> Iterator[Sequence[Row]]:
    """Each site's, day's and job code's hours and dollars in ``window`` (open ends: the view's own)."""
    known = payroll_days(edw)
    if known is None:
        return
    first = window.start if window.start is not None else known[0]
    end = window.end if window.end is not None else known[1]

    def read_month(start: date, stop: date) -> Iterator[list[dict[str, Any]]]:
        return stream_rows(edw, worked_statement(start, stop, differential), page_rows)

    rows = read_by_month(read_month, _day(first), _day(end))
    yield from pages(merged_by_day(rows, ("site", "job_code"), ("hours", "dollars"), _normal), page_rows)


def _money(value: Decimal) -> float:
    return float(value.quantize(_CENT)) + 0.0  # + 0.0 turns -0.0 into 0.0


def to_actual_payroll(day: WorkedDay) -> Record:
    """The day's ``bs_payrolldetail`` with only the actual columns: budget and schedule are other streams'."""
    return {
        "bs_sitenumber": day.site,
        "bs_jobcode": day.job_code,
        "bs_date": day.date.isoformat(),
        "bs_actualhours": _money(day.hours),
        "bs_actualcost": _money(day.dollars),
    }


def worked_hours_stream(
    edw: Engine,
    *,
    reread_days: int = 3,
    differential: DifferentialPay = DifferentialPay.DOLLARS_ONLY,
    page_rows: int = 5000,
) -> Stream[WorkedDay]:
    """The ``worked_hours`` stream: by ``DATE`` from the watermark less ``reread_days``."""

    def read(window: ReadWindow) -> Iterator[Sequence[Row]]:
        return read_worked_days(edw, window, differential, page_rows)

    return Stream(
        name=STREAM,
        model=WorkedDay,
        read=read,
        transform=to_actual_payroll,
        target=TARGET,
        cursor="date",
        lookback=timedelta(days=reread_days),
    )
