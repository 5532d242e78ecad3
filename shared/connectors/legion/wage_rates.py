"""Legion wage rates: the average hourly rate per site and job code over the last 14 days.

Replaces story 2183's sync (DOMAIN.md §1): from ``vwPAYROLL_SUMMARY``, per
``WORK_LOCATION`` and ``TITLE``, rate = dollars / hours; zero hours give 0;
rows with a blank location or title are left out. The result lands in
``bs_jobcodesbysite.bs_averagehourlyrate``.

DIFFERENTIAL and MEAL PREMIUM pay double-counts hours. Today their hours are
left out and their dollars still counted (``DifferentialPay.DOLLARS_ONLY``, the
default); ``EXCLUDED`` leaves them out entirely, as the forecast's payroll
query does. SQL sums the ~150k rows a day down to one row per location and
title; locations Legion stores both as '170' and '0170' are then merged here
on the four-digit site number.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, Field, StringConstraints
from sqlalchemy import ColumnElement, Engine, and_, case, func, select

from shared.connectors.dataverse.sink import DataverseTarget
from shared.connectors.legion.days import LastDays, utc_today
from shared.pipeline.stream import ReadWindow, Record, Row, Stream
from shared.sites import SiteNumber, site_key
from shared.sql.engines import stream_rows
from shared.sql.tables import vw_payroll_summary

STREAM = "wage_rates"
TARGET = DataverseTarget(entity_set="bs_jobcodesbysites", alternate_key=("bs_sitenumber", "bs_jobcode"))
DIFFERENTIAL_PAY_TYPES = ("DIFFERENTIAL", "MEAL PREMIUM")
_CENT = Decimal("0.01")

JobCode = Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True, min_length=1, max_length=20)]


class DifferentialPay(StrEnum):
    """How DIFFERENTIAL and MEAL PREMIUM rows count towards a wage rate."""

    DOLLARS_ONLY = "dollars_only"  # today's rule: hours left out, dollars counted
    EXCLUDED = "excluded"  # neither hours nor dollars


class JobCodeWages(BaseModel):
    """Paid hours and dollars of one job code at one site over the window."""

    site: SiteNumber
    job_code: JobCode
    hours: Decimal = Field(ge=0, description="hours over the window cannot be negative")
    dollars: Decimal


def _not_blank(column: ColumnElement[Any]) -> ColumnElement[bool]:
    return func.ltrim(func.rtrim(column)) != ""


def wage_statement(first: Any, end: Any, differential: DifferentialPay) -> Any:
    """Hours and dollars by location and title for payroll days ``first`` up to ``end``."""
    view = vw_payroll_summary.c
    differential_row = view.PAY_TYPE.in_(DIFFERENTIAL_PAY_TYPES)
    dollars: ColumnElement[Any] = view.TOTAL_DOLLARS
    if differential is DifferentialPay.EXCLUDED:
        dollars = case((differential_row, 0), else_=view.TOTAL_DOLLARS)
    return (
        select(
            view.WORK_LOCATION.label("site"),
            view.TITLE.label("job_code"),
            func.sum(case((differential_row, 0), else_=view.TOTAL_HOURS)).label("hours"),
            func.sum(dollars).label("dollars"),
        )
        .where(
            and_(view.DATE >= first, view.DATE < end, _not_blank(view.WORK_LOCATION), _not_blank(view.TITLE))
        )
        .group_by(view.WORK_LOCATION, view.TITLE)
    )


def read_wages(
    edw: Engine, days: LastDays, differential: DifferentialPay, page_rows: int
) -> Iterator[Sequence[Row]]:
    """Hours and dollars per site and job code over ``days``, the spellings of a site merged."""
    first, end = days.bounds()
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    for page in stream_rows(edw, wage_statement(first, end, differential), page_rows):
        for row in page:
            key = (site_key(row["site"]), (row["job_code"] or "").strip().upper())
            totals = merged.setdefault(key, {"site": key[0], "job_code": key[1], "hours": 0, "dollars": 0})
            totals["hours"] = _decimal(totals["hours"]) + _decimal(row["hours"])
            totals["dollars"] = _decimal(totals["dollars"]) + _decimal(row["dollars"])
    rows = [merged[key] for key in sorted(merged)]
    for start in range(0, len(rows), page_rows):
        yield rows[start : start + page_rows]


def _decimal(value: Any) -> Decimal:
    return Decimal(str(value or 0))


def average_hourly_rate(hours: Decimal, dollars: Decimal) -> Decimal:
    """Dollars per hour to the cent; 0 when nothing was paid by the hour (story 2183)."""
    if hours == 0:
        return Decimal(0)
    return (dollars / hours).quantize(_CENT, rounding=ROUND_HALF_UP)


def to_job_code_rate(wages: JobCodeWages) -> Record:
    """The ``bs_jobcodesbysite`` record with only the rate: use by site is the job-code sync's column."""
    return {
        "bs_sitenumber": wages.site,
        "bs_jobcode": wages.job_code,
        "bs_averagehourlyrate": float(average_hourly_rate(wages.hours, wages.dollars)),
    }


def wage_rates_stream(
    edw: Engine,
    *,
    days: LastDays | None = None,
    differential: DifferentialPay = DifferentialPay.DOLLARS_ONLY,
    page_rows: int = 5000,
) -> Stream[JobCodeWages]:
    """The ``wage_rates`` stream: rates over the 14 days before today (``days`` overrides the window)."""
    window = days or LastDays(14, utc_today)

    def read(_: ReadWindow) -> Iterator[Sequence[Row]]:
        return read_wages(edw, window, differential, page_rows)

    return Stream(name=STREAM, model=JobCodeWages, read=read, transform=to_job_code_rate, target=TARGET)
