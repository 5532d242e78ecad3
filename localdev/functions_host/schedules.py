"""Timer trigger schedules: six-field NCRONTAB expressions and TimeSpan intervals, in UTC as Azure runs them.

NCRONTAB is ``{second} {minute} {hour} {day} {month} {day-of-week}``. Unlike
Vixie cron, NCRONTAB needs both the day and the day of week to match when both
are restricted, so ``day_or`` is off; the rule for a valid expression is the
hub's own (``shared/ncrontab.py``). A schedule without spaces is a TimeSpan
(``00:00:05``): the next run is that long after the previous one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from croniter import croniter

from localdev.functions_host.timespan import parse_timespan
from shared.ncrontab import ncrontab_problem


class ScheduleError(ValueError):
    """A schedule expression the Functions host would reject; the message shows the expected form."""


@dataclass(frozen=True)
class CronSchedule:
    expression: str

    def next_after(self, moment: datetime) -> datetime:
        following: datetime = croniter(
            self.expression, moment, second_at_beginning=True, day_or=False
        ).get_next(datetime)
        return following

    def describe(self) -> str:
        return f"schedule '{self.expression}' (UTC)"


@dataclass(frozen=True)
class IntervalSchedule:
    interval: timedelta

    def next_after(self, moment: datetime) -> datetime:
        return moment + self.interval

    def describe(self) -> str:
        return f"every {self.interval}"


Schedule = CronSchedule | IntervalSchedule


def parse_schedule(expression: str) -> Schedule:
    """The schedule ``expression`` (already free of ``%SETTING%`` references) describes."""
    expression = expression.strip()
    if " " not in expression:
        try:
            interval = parse_timespan(expression)
        except ValueError as error:
            raise ScheduleError(str(error)) from error
        if interval <= timedelta(0):
            raise ScheduleError(f"TimeSpan schedule '{expression}' must be longer than zero")
        return IntervalSchedule(interval)
    problem = ncrontab_problem(expression)
    if problem is not None:
        raise ScheduleError(f"'{expression}' {problem}")
    return CronSchedule(expression)
