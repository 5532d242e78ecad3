"""Legion's replicated tables: schedules, payroll actuals, timesheets and scheduled cost.

Day by day, each employee is scheduled or not; a scheduled shift becomes a
``SHIFT_ENTITY`` row (about 3% later deleted, ``DELETED = 'Yes'``), and a shift
that was worked becomes ``vwPAYROLL_SUMMARY`` rows, one per pay type:
REGULAR (HOLIDAY on public holidays), OVERTIME, DOUBLE OVERTIME, DIFFERENTIAL
and MEAL PREMIUM, the last two with hours AND dollars, which is why Towne Park
excludes them from hour mapping (DOMAIN.md §1). Schedules run two weeks past
the last payroll day, as published schedules do. The timesheets are the
payroll's minutes by site, day and role (so PLH billing and payroll agree);
in production they are per employee and the view is built over them, a grain
the hub never reads. The payroll view also carries production's defects:
zero-hour rows, a few blank ``WORK_LOCATION`` or ``TITLE`` values, and
unpadded sites.
"""

from __future__ import annotations

import functools
import random
import sqlite3
from collections.abc import Mapping
from datetime import date, timedelta

from localdev.sandbox_sql.loading import Row, date_text, insert, qualified
from localdev.sandbox_sql.staffing import Employee
from localdev.sandbox_sql.world import Site
from shared.sql.tables import (
    TIMESHEET_MINUTE_KINDS,
    schedule_cost_entity,
    shift_entity,
    timesheet_entity,
    vw_payroll_summary,
    vw_timesheet_with_clock,
)

SCHEDULE_DAYS_AHEAD = 14
BLANK_EVERY = 10_000  # one payroll row in this many has a blank WORK_LOCATION, one a blank TITLE
_REGULAR_LIMIT = 480  # minutes a shift pays at the regular rate
_OVERTIME_LIMIT = 720
_PAYROLL_COLUMNS = ("WORK_LOCATION", "DATE", "TITLE", "PAY_TYPE", "TOTAL_HOURS", "TOTAL_DOLLARS")
_SHIFT_COLUMNS = (
    "LOCATION_EXTERNAL_ID",
    "WORK_ROLE",
    "EMPLOYEE_EXTERNAL_ID",
    "YEAR",
    "DAY_OF_THE_YEAR",
    "SCHEDULE_WEEK",
    "START_DATE",
    "END_DATE",
    "REGULAR_MINUTES",
    "OVERTIME_MINUTES",
    "DOUBLE_OVERTIME_MINUTES",
    "DELETED",
)
_LATE_STARTS = (0, 0, 0, 15, 30)  # minutes a shift starts after the employee's usual time
_MINUTES_PER_DAY = 24 * 60
_CLOCK = tuple(f" {minute // 60:02d}:{minute % 60:02d}:00.000000" for minute in range(_MINUTES_PER_DAY))
_TIMESHEET_COLUMNS = (
    "LOCATION_EXTERNAL_ID",
    "YEAR",
    "DAY_OF_THE_YEAR",
    "WORK_ROLE",
    *(f"{kind}_MINUTES{twin}" for kind in TIMESHEET_MINUTE_KINDS for twin in ("", "_NEXT_DAY")),
)
_MINUTE_INDEX = {kind: index for index, kind in enumerate(TIMESHEET_MINUTE_KINDS)}

Pay = tuple[str, float, float]  # pay type, hours, dollars
SiteRole = tuple[str, str]  # Legion location, work role


class _Day:
    """One calendar day across all sites: its rows are gathered, then written together.

    Everything about the date is rendered once here, not once per shift (the
    build makes millions of shifts). A day's timesheet minutes and scheduled
    cost are complete when the day is: minutes past midnight belong to the day
    the shift started, in the ``*_NEXT_DAY`` columns.
    """

    def __init__(self, day: date, *, holiday: bool, future: bool) -> None:
        self.day = day
        self.holiday = holiday
        self.future = future  # past the last payroll day: scheduled, not yet worked
        self.weekend = day.weekday() >= 5
        self.text = date_text(day)
        self.year = day.year
        self.day_of_year = day.timetuple().tm_yday
        self.week = date_text(day - timedelta(days=day.weekday()))
        self._midnights = (self.text, date_text(day + timedelta(days=1)))
        self.payroll: list[Row] = []
        self.shifts: list[Row] = []
        self.timesheets: dict[SiteRole, list[int]] = {}
        self.schedule_costs: dict[SiteRole, float] = {}

    def moment(self, minute: int) -> str:
        """DATETIME2 text of ``minute`` minutes after this day's midnight (up to the next day's end)."""
        return self._midnights[minute // _MINUTES_PER_DAY] + _CLOCK[minute % _MINUTES_PER_DAY]

    def scheduled(self, site: Site, employee: Employee, minutes: tuple[int, int, int]) -> None:
        regular, overtime, double = minutes
        cost = (regular + overtime * 1.5 + double * 2) / 60 * employee.hourly_rate
        key = (site.legion_id, employee.job.code)
        self.schedule_costs[key] = self.schedule_costs.get(key, 0.0) + cost

    def worked(self, site: Site, employee: Employee, pay: list[Pay]) -> None:
        minutes = self.timesheets.setdefault((site.legion_id, employee.job.code), [0] * 12)
        for pay_type, hours, _ in pay:
            kind = _timesheet_kind(pay_type, self.holiday)
            if kind is not None:
                total = round(hours * 60)
                same_day = round(total * employee.same_day_share)
                minutes[_MINUTE_INDEX[kind] * 2] += same_day
                minutes[_MINUTE_INDEX[kind] * 2 + 1] += total - same_day

    def write(self, connection: sqlite3.Connection) -> None:
        insert(connection, vw_payroll_summary, _PAYROLL_COLUMNS, self.payroll)
        insert(connection, shift_entity, _SHIFT_COLUMNS, self.shifts)
        insert(
            connection,
            timesheet_entity,
            _TIMESHEET_COLUMNS,
            (
                (location, self.year, self.day_of_year, role, *minutes)
                for (location, role), minutes in self.timesheets.items()
            ),
        )
        insert(
            connection,
            schedule_cost_entity,
            ("LOCATION_EXTERNAL_ID", "WORK_ROLE", "YEAR", "DAY_OF_THE_YEAR", "SCHEDULE_COST"),
            (
                (location, role, self.year, self.day_of_year, round(cost, 2))
                for (location, role), cost in self.schedule_costs.items()
            ),
        )


def write_legion(
    connection: sqlite3.Connection,
    rng: random.Random,
    staff: Mapping[Site, list[Employee]],
    payroll_days: tuple[date, date],
) -> None:
    """Fill the Legion tables for the payroll days ``payroll_days`` (first, last); schedules run further."""
    first_day, last_day = payroll_days
    holidays = _public_holidays(first_day.year, last_day.year + 1)
    written = 0
    day = first_day
    while day <= last_day + timedelta(days=SCHEDULE_DAYS_AHEAD):
        work = _Day(day, holiday=day in holidays, future=day > last_day)
        for site, roster in staff.items():
            if site.open_on(day):
                for employee in roster:
                    _employee_day(rng, site, employee, work)
        _blank_a_few(work.payroll, written)
        written += len(work.payroll)
        work.write(connection)
        day += timedelta(days=1)
    listed = ", ".join(f'"{column}"' for column in _TIMESHEET_COLUMNS)
    connection.execute(  # in production the view adds clock punches the hub does not read
        f"INSERT INTO {qualified(vw_timesheet_with_clock)} ({listed}) "  # noqa: S608 - names from tables.py
        f"SELECT {listed} FROM {qualified(timesheet_entity)}"
    )


def _employee_day(rng: random.Random, site: Site, employee: Employee, work: _Day) -> None:
    """Schedule ``employee`` on the day (or not), and pay the shift if it was worked."""
    if employee.stipend_only:
        if work.day.weekday() == 0 and not work.future:
            work.payroll.append((site.legion_id, work.text, employee.job.code, "REGULAR", 0.0, 50.0))
        return
    random_draw = rng.random
    if random_draw() >= (employee.weekend_chance if work.weekend else employee.work_chance):
        return
    start = employee.start_minute + _LATE_STARTS[int(random_draw() * len(_LATE_STARTS))]
    minutes = _scheduled_minutes(employee.shift_minutes)
    deleted = random_draw() < 0.03
    work.shifts.append(
        (
            site.legion_id,
            employee.job.code,
            employee.employee_id,
            work.year,
            work.day_of_year,
            work.week,
            work.moment(start),
            work.moment(start + employee.shift_minutes),
            *minutes,
            "Yes" if deleted else "No",
        )
    )
    if deleted:
        return
    work.scheduled(site, employee, minutes)
    if work.future or random_draw() < 0.03:  # not worked yet, or a no-show
        return
    pay = _pay(rng, site, employee, work, minutes)
    work.worked(site, employee, pay)
    location, title = site.legion_id, employee.job.code
    work.payroll.extend((location, work.text, title, *paid) for paid in pay)


@functools.cache
def _scheduled_minutes(length: int) -> tuple[int, int, int]:
    """A shift's regular, overtime and double-overtime minutes."""
    return (
        min(length, _REGULAR_LIMIT),
        min(max(length - _REGULAR_LIMIT, 0), _OVERTIME_LIMIT - _REGULAR_LIMIT),
        max(length - _OVERTIME_LIMIT, 0),
    )


def _pay(
    rng: random.Random, site: Site, employee: Employee, work: _Day, minutes: tuple[int, int, int]
) -> list[Pay]:
    """The pay types, hours and dollars of one worked shift."""
    regular, overtime, double = minutes
    rate = employee.hourly_rate
    if employee.job.salaried:
        hours, extra_overtime = 8.0, 0.0
    else:
        early = rng.choice((0.0, 0.0, 0.0, 0.1, 0.25, 0.5))
        hours = round(max(0.5, regular / 60 - early), 2)
        extra_overtime = rng.choice((0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 2.5)) if rng.random() < 0.08 else 0.0
    pay: list[Pay] = [
        ("HOLIDAY", hours, round(hours * rate * 1.5, 2))
        if work.holiday
        else ("REGULAR", hours, round(hours * rate, 2))
    ]
    overtime_hours = round(overtime / 60 + extra_overtime, 2)
    if overtime_hours:
        pay.append(("OVERTIME", overtime_hours, round(overtime_hours * rate * 1.5, 2)))
    if double:
        pay.append(("DOUBLE OVERTIME", round(double / 60, 2), round(double / 60 * rate * 2, 2)))
    weekend_differential = work.weekend and rng.random() < 0.1
    if employee.differential or weekend_differential:
        pay.append(("DIFFERENTIAL", hours, round(hours * (employee.differential or 1.0), 2)))
    if rng.random() < (0.12 if site.place.state == "CA" else 0.03):
        pay.append(("MEAL PREMIUM", 1.0, round(rate, 2)))
    if rng.random() < 0.002:  # a retro-pay adjustment: dollars with no hours
        pay.append(("REGULAR", 0.0, round(rng.uniform(10, 150), 2)))
    return pay


def _timesheet_kind(pay_type: str, holiday: bool) -> str | None:
    if pay_type == "REGULAR":
        return "REGULAR"
    if pay_type == "HOLIDAY":
        return "HOLIDAY"
    if pay_type == "OVERTIME":
        return "HOLIDAY_OVERTIME" if holiday else "OVERTIME"
    if pay_type == "DOUBLE OVERTIME":
        return "HOLIDAY_DOUBLE_OVERTIME" if holiday else "DOUBLE_OVERTIME"
    return None


def _blank_a_few(payroll: list[Row], written_before: int) -> None:
    """Production has payroll rows with an empty location or title (DOMAIN.md §1, story 2183)."""
    for index, row in enumerate(payroll):
        position = (written_before + index) % BLANK_EVERY
        if position == 500:
            payroll[index] = ("", *row[1:])
        elif position == 5500:
            payroll[index] = (*row[:2], "", *row[3:])


def _public_holidays(first_year: int, last_year: int) -> set[date]:
    """The US holidays Towne Park's hourly staff are paid HOLIDAY for (the sandbox's choice of six)."""
    holidays: set[date] = set()
    for year in range(first_year, last_year + 1):
        holidays |= {
            date(year, 1, 1),
            _last_weekday(year, 5, 0),
            date(year, 7, 4),
            _nth_weekday(year, 9, 0, 1),
            _nth_weekday(year, 11, 3, 4),
            date(year, 12, 25),
        }
    return holidays


def _nth_weekday(year: int, month: int, weekday: int, nth: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (nth - 1))


def _last_weekday(year: int, month: int, weekday: int) -> date:
    last = date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)
