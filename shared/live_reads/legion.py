"""Live reads of replicated Legion (TP_LEGION): payroll actuals and scheduled hours by job code and day.

Both replace today's EDW queries 6 and 7 (DOMAIN.md §1) with Towne Park's own
rules applied where the old queries did not:

- payroll actuals leave out the DIFFERENTIAL and MEAL PREMIUM pay types, whose
  hours double-count hours already paid; DOUBLE OVERTIME stays in;
- scheduled hours count only shifts with ``DELETED = 'No'`` and add double
  overtime minutes to regular and overtime (the reference SQL of
  ``PF/20250512_Forecast_Data_Sources.md``);
- a site is matched in both of Legion's forms, '0170' and '170';
- rows are summed by job code and day in SQL: the caller receives one row per
  job code and day instead of summing pay-type rows itself (``PayrollService.cs``
  did that in C# today).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Any

from pydantic import Field
from sqlalchemy import Date, Integer, bindparam, func, select

from shared.live_reads.execution import Amount, BoundStatement, EdwRow
from shared.live_reads.parameters import SiteMonth
from shared.sql.tables import shift_entity, vw_payroll_summary

# DOMAIN.md §1: these pay types carry hours already counted under another pay type.
EXCLUDED_PAY_TYPES = ("DIFFERENTIAL", "MEAL PREMIUM")
NOT_DELETED = "No"


def legion_locations(site: str) -> list[str]:
    """Both forms Legion stores a site in: '0170' and '170' (DOMAIN.md §1 "Problems")."""
    return list(dict.fromkeys([site, site.lstrip("0") or "0"]))


class PayrollActual(EdwRow):
    """What one job code was paid at a site on one day, differentials and meal premiums left out."""

    date: Annotated[date, Field(description="The day worked (yyyy-MM-dd).")]
    job_code: str | None = Field(description="The job code (Legion's title) the hours were paid under.")
    hours: Amount = Field(description="Hours paid that day, differentials and meal premiums left out.")
    cost: Amount = Field(description="Dollars paid that day, differentials and meal premiums left out.")


_payroll = vw_payroll_summary.c
PAYROLL_ACTUALS = (
    select(
        _payroll.DATE.label("date"),
        _payroll.TITLE.label("job_code"),
        func.sum(_payroll.TOTAL_HOURS).label("hours"),
        func.sum(_payroll.TOTAL_DOLLARS).label("cost"),
    )
    .where(
        _payroll.WORK_LOCATION.in_(bindparam("locations", expanding=True)),
        _payroll.PAY_TYPE.not_in(bindparam("excluded_pay_types", expanding=True)),
        _payroll.DATE >= bindparam("first_day", type_=Date()),
        _payroll.DATE <= bindparam("last_day", type_=Date()),
    )
    .group_by(_payroll.DATE, _payroll.TITLE)
    .order_by(_payroll.DATE, _payroll.TITLE)
)


def payroll_actuals_statement(parameters: SiteMonth) -> BoundStatement:
    """Query 6 with the pay-type rules, summed by job code and day."""
    return BoundStatement(
        PAYROLL_ACTUALS,
        {
            "locations": legion_locations(parameters.site),
            "excluded_pay_types": list(EXCLUDED_PAY_TYPES),
            "first_day": parameters.period.first_day,
            "last_day": parameters.period.last_day,
        },
    )


def payroll_actual(row: dict[str, Any], _: SiteMonth) -> PayrollActual:
    return PayrollActual.model_validate(row)


class ScheduledHours(EdwRow):
    """The hours one job code is scheduled for at a site on one day, from shifts not deleted."""

    date: Annotated[date, Field(description="The scheduled day (yyyy-MM-dd).")]
    job_code: str | None = Field(description="The job code the shifts are scheduled under.")
    shifts: int = Field(description="Shifts scheduled that day, deleted ones left out.")
    regular_hours: Amount = Field(description="Scheduled hours at the regular rate.")
    overtime_hours: Amount = Field(description="Scheduled overtime hours.")
    double_overtime_hours: Amount = Field(description="Scheduled double-overtime hours.")
    hours: Amount = Field(description="All scheduled hours: regular, overtime and double overtime.")


_shifts = shift_entity.c
_regular = func.coalesce(_shifts.REGULAR_MINUTES, 0)
_overtime = func.coalesce(_shifts.OVERTIME_MINUTES, 0)
_double = func.coalesce(_shifts.DOUBLE_OVERTIME_MINUTES, 0)
SCHEDULED_HOURS = (
    select(
        _shifts.DAY_OF_THE_YEAR.label("day_of_the_year"),
        _shifts.WORK_ROLE.label("job_code"),
        func.count().label("shifts"),
        func.sum(_regular).label("regular_minutes"),
        func.sum(_overtime).label("overtime_minutes"),
        func.sum(_double).label("double_overtime_minutes"),
    )
    .where(
        _shifts.LOCATION_EXTERNAL_ID.in_(bindparam("locations", expanding=True)),
        _shifts.YEAR == bindparam("year", type_=Integer()),
        _shifts.DAY_OF_THE_YEAR >= bindparam("first_day_of_year", type_=Integer()),
        _shifts.DAY_OF_THE_YEAR <= bindparam("last_day_of_year", type_=Integer()),
        _shifts.DELETED == bindparam("not_deleted"),
    )
    .group_by(_shifts.DAY_OF_THE_YEAR, _shifts.WORK_ROLE)
    .order_by(_shifts.DAY_OF_THE_YEAR, _shifts.WORK_ROLE)
)


def scheduled_hours_statement(parameters: SiteMonth) -> BoundStatement:
    """Query 7 with DELETED and double overtime, summed by job code and day of the year.

    Legion keys a shift by YEAR and DAY_OF_THE_YEAR, so the month becomes its
    first and last day of the year and the filter stays on Legion's columns.
    """
    month = parameters.period
    return BoundStatement(
        SCHEDULED_HOURS,
        {
            "locations": legion_locations(parameters.site),
            "year": month.year,
            "first_day_of_year": month.first_day.timetuple().tm_yday,
            "last_day_of_year": month.last_day.timetuple().tm_yday,
            "not_deleted": NOT_DELETED,
        },
    )


def scheduled_hours(row: dict[str, Any], parameters: SiteMonth) -> ScheduledHours:
    """Whole minutes summed in SQL become hours to the hundredth, as query 7's ``ROUND(…/60.0, 2)``."""
    regular, overtime, double = (
        int(row[column]) for column in ("regular_minutes", "overtime_minutes", "double_overtime_minutes")
    )
    return ScheduledHours(
        date=date(parameters.period.year, 1, 1) + timedelta(days=int(row["day_of_the_year"]) - 1),
        job_code=row["job_code"],
        shifts=row["shifts"],
        regular_hours=_hours(regular),
        overtime_hours=_hours(overtime),
        double_overtime_hours=_hours(double),
        hours=_hours(regular + overtime + double),
    )


def _hours(minutes: int) -> Decimal:
    return (Decimal(minutes) / 60).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
