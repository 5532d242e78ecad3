"""Scheduled hours and cost per site, day and job code: ``SHIFT_ENTITY`` → ``bs_payrolldetail``.

Replaces registry query 7 (DOMAIN.md §1) the way Towne Park's reference SQL
(``PF/20250512_Forecast_Data_Sources.md``) reads the schedule, not the way
query 7 does: deleted shifts (``DELETED = 'Yes'``) are left out and double
overtime counts. A day is ``YEAR`` + ``DAY_OF_THE_YEAR``; hours are the day's
regular, overtime and double-overtime minutes summed in SQL, then divided by
60 and rounded to the hundredth once (query 7 rounds each shift). A site and
code whose shifts were all deleted reads as 0 hours rather than vanishing, so
a deleted shift reaches Dataverse.

Cost is the scheduled hours at the job code's wage rate at the site
(``shared.connectors.legion.wage_rates``: the payroll dollars over hours of the
14 days before today, as ``bs_averagehourlyrate`` holds it), which is how the
forecasting API prices hours it has no payroll for (``PayrollService.cs``). A
code without payroll in those days costs 0. Salaried codes' cost
(allocated salary / 365) is the budget's rule and not applied here.

Schedules change ahead of the day, so there is no date watermark: a run reads
from ``ACTUALS_REREAD_DAYS`` before today to the last day scheduled, and only
the days whose sums changed are written. With change tracking on
``SHIFT_ENTITY`` an incremental run reads only the site-days whose shifts
changed; a backfill reads its window month by month.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import Engine, and_, case, func, select

from shared.connectors.dataverse.sink import DataverseTarget
from shared.connectors.dated_reads import merged_by_day, pages, read_by_month
from shared.connectors.legion.days import LastDays, Today, shift_days
from shared.connectors.legion.wage_rates import DifferentialPay, JobCode, average_hourly_rate, read_wages
from shared.connectors.tracked_changes import TrackedChanges
from shared.pipeline.changes import Key
from shared.pipeline.stream import ReadWindow, Record, Row, Stream
from shared.sites import SiteNumber, site_key, spellings
from shared.sql.change_tracking import SHIFTS, Change
from shared.sql.engines import stream_rows
from shared.sql.tables import shift_entity

STREAM = "scheduled_hours"
TARGET = DataverseTarget(
    entity_set="bs_payrolldetails", alternate_key=("bs_sitenumber", "bs_jobcode", "bs_date")
)
RATE_DAYS = 14
_CENT = Decimal("0.01")
_SIXTY = Decimal(60)

Rates = dict[tuple[str, str], Decimal]


class ScheduledDay(BaseModel):
    """One job code's scheduled minutes at one site on one day, and the code's wage rate there."""

    site: SiteNumber
    job_code: JobCode
    date: date
    minutes: Decimal = Field(ge=0, description="scheduled minutes cannot be negative")
    rate: Decimal = Field(ge=0)


def scheduled_statement(first: date, end: date, sites: Iterable[str] | None = None) -> Any:
    """Non-deleted minutes by day, location and role for ``first`` up to ``end``, in day order."""
    shifts = shift_entity.c
    worked = shifts.REGULAR_MINUTES + shifts.OVERTIME_MINUTES + shifts.DOUBLE_OVERTIME_MINUTES
    statement = (
        select(
            shifts.YEAR.label("year"),
            shifts.DAY_OF_THE_YEAR.label("day_of_year"),
            shifts.LOCATION_EXTERNAL_ID.label("site"),
            shifts.WORK_ROLE.label("job_code"),
            func.sum(case((shifts.DELETED == "No", func.coalesce(worked, 0)), else_=0)).label("minutes"),
        )
        .where(and_(shift_days(first, end), func.ltrim(func.rtrim(shifts.WORK_ROLE)) != ""))
        .group_by(shifts.YEAR, shifts.DAY_OF_THE_YEAR, shifts.LOCATION_EXTERNAL_ID, shifts.WORK_ROLE)
        .order_by(shifts.YEAR, shifts.DAY_OF_THE_YEAR)
    )
    if sites is not None:
        statement = statement.where(shifts.LOCATION_EXTERNAL_ID.in_(sorted(spellings(sites))))
    return statement


def last_scheduled_day(edw: Engine) -> date | None:
    """The last day any shift is scheduled on."""
    shifts = shift_entity.c
    with edw.connect() as connection:
        year = connection.execute(select(func.max(shifts.YEAR))).scalar()
        if year is None:
            return None
        day = connection.execute(select(func.max(shifts.DAY_OF_THE_YEAR)).where(shifts.YEAR == year)).scalar()
    last: date = date(int(year), 1, 1) + timedelta(days=int(day or 1) - 1)
    return last


def _normal(row: Row) -> dict[str, Any]:
    return {
        "date": date(int(row["year"]), 1, 1) + timedelta(days=int(row["day_of_year"]) - 1),
        "site": site_key(row["site"]),
        "job_code": (row["job_code"] or "").strip().upper(),
        "minutes": row["minutes"],
    }


class _Schedule:
    """The stream's reads over one engine: a window month by month, or a few changed site-days."""

    def __init__(
        self, edw: Engine, today: Today, reread_days: int, differential: DifferentialPay, page_rows: int
    ) -> None:
        self.edw, self.today, self.reread_days = edw, today, reread_days
        self.differential, self.page_rows = differential, page_rows

    def rates(self) -> Rates:
        """Each site's and code's wage rate over the 14 days before today: a few thousand rows."""
        found: Rates = {}
        for page in read_wages(self.edw, LastDays(RATE_DAYS, self.today), self.differential, self.page_rows):
            for row in page:
                found[(row["site"], row["job_code"])] = average_hourly_rate(row["hours"], row["dollars"])
        return found

    def read(self, window: ReadWindow) -> Iterator[Sequence[Row]]:
        """The window's days (a backfill), or from ``reread_days`` before today to the last day scheduled."""
        first = window.start if window.start is not None else self.today() - timedelta(days=self.reread_days)
        end = window.end
        if end is None:
            last = last_scheduled_day(self.edw)
            if last is None:
                return
            end = last + timedelta(days=1)
        rates = self.rates()

        def read_month(start: date, stop: date) -> Iterator[list[dict[str, Any]]]:
            return stream_rows(self.edw, scheduled_statement(start, stop), self.page_rows)

        yield from self._priced(read_by_month(read_month, _day(first), _day(end)), rates)

    def re_read(self, site_days: set[str]) -> Iterator[Sequence[Row]]:
        """Only the changed site-days (``'0170|2026-11-20'``): one query per changed day."""
        by_day: dict[date, set[str]] = {}
        for site_day in site_days:
            site, day = site_day.split("|")
            by_day.setdefault(date.fromisoformat(day), set()).add(site)
        rates = self.rates()

        def rows() -> Iterator[Row]:
            for day in sorted(by_day):
                statement = scheduled_statement(day, day + timedelta(days=1), by_day[day])
                for page in stream_rows(self.edw, statement, self.page_rows):
                    yield from page

        yield from self._priced(rows(), rates)

    def _priced(self, rows: Iterable[Row], rates: Rates) -> Iterator[list[dict[str, Any]]]:
        merged = merged_by_day(rows, ("site", "job_code"), ("minutes",), _normal)
        priced = ({**row, "rate": rates.get((row["site"], row["job_code"]), Decimal(0))} for row in merged)
        return pages(priced, self.page_rows)


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def site_day(site: str, day: date) -> str:
    """A changed site-day as change tracking's affected key: ``'0170|2026-11-20'``."""
    return f"{site_key(site)}|{day.isoformat()}"


def _shift_site_days(change: Change) -> set[str]:
    """The site-days a changed shift concerns: where and when it was (its key) and is (its row)."""
    found = set()
    started = change.key.get("START_DATE")
    if change.key.get("LOCATION_EXTERNAL_ID") and started is not None:
        moment = started if isinstance(started, datetime) else datetime.fromisoformat(str(started)[:19])
        found.add(site_day(change.key["LOCATION_EXTERNAL_ID"], moment.date()))
    row = change.row or {}
    if row.get("LOCATION_EXTERNAL_ID") and row.get("YEAR") and row.get("DAY_OF_THE_YEAR"):
        day = date(int(row["YEAR"]), 1, 1) + timedelta(days=int(row["DAY_OF_THE_YEAR"]) - 1)
        found.add(site_day(row["LOCATION_EXTERNAL_ID"], day))
    return found


def _record_site_day(key: Key) -> str:
    site, _, day = key
    return f"{site}|{day}"


def to_scheduled_payroll(day: ScheduledDay) -> Record:
    """The day's ``bs_payrolldetail`` with only the schedule columns: budget and actuals are other streams'."""
    hours = day.minutes / _SIXTY
    return {
        "bs_sitenumber": day.site,
        "bs_jobcode": day.job_code,
        "bs_date": day.date.isoformat(),
        "bs_scheduledhours": float(hours.quantize(_CENT, rounding=ROUND_HALF_UP)),
        "bs_scheduledcost": float((hours * day.rate).quantize(_CENT, rounding=ROUND_HALF_UP)),
    }


def scheduled_hours_stream(
    edw: Engine,
    *,
    today: Today,
    reread_days: int = 3,
    differential: DifferentialPay = DifferentialPay.DOLLARS_ONLY,
    page_rows: int = 5000,
    track_changes: bool = False,
) -> Stream[ScheduledDay]:
    """The ``scheduled_hours`` stream; with ``track_changes`` incremental runs read ``SHIFT_ENTITY``'s changes."""
    schedule = _Schedule(edw, today, reread_days, differential, page_rows)
    changes = TrackedChanges(edw, SHIFTS, _shift_site_days, schedule.re_read, key_of=_record_site_day)
    read: Callable[[ReadWindow], Iterable[Sequence[Row]]] = schedule.read
    return Stream(
        name=STREAM,
        model=ScheduledDay,
        read=read,
        transform=to_scheduled_payroll,
        target=TARGET,
        changes=changes if track_changes else None,
    )
