"""The days a Legion sync reads: the last N whole days before "today", as Legion's tables address them.

The payroll view has a ``DATE``; ``SHIFT_ENTITY`` has ``YEAR`` and
``DAY_OF_THE_YEAR`` instead, so a window over it is one condition per
calendar year it touches.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, or_

from shared.sql.tables import shift_entity

Today = Callable[[], date]


def utc_today() -> date:
    """Today in UTC, where the schedules run."""
    return datetime.now(UTC).date()


@dataclass(frozen=True)
class LastDays:
    """``days`` whole days ending the day before ``today()``: [first, end)."""

    days: int
    today: Today = utc_today

    def bounds(self) -> tuple[date, date]:
        end = self.today()
        return end - timedelta(days=self.days), end


def shift_days(first: date, end: date) -> ColumnElement[bool]:
    """Shifts on days ``first`` up to, not including, ``end``, by YEAR and DAY_OF_THE_YEAR."""
    year, day = shift_entity.c.YEAR, shift_entity.c.DAY_OF_THE_YEAR
    last = end - timedelta(days=1)
    parts: list[ColumnElement[Any]] = []
    for number in range(first.year, last.year + 1):
        start_day = first.timetuple().tm_yday if number == first.year else 1
        end_day = last.timetuple().tm_yday if number == last.year else 366
        parts.append(and_(year == number, day >= start_day, day <= end_day))
    return or_(*parts)
