"""Timer schedules read as the Functions host reads them: six-field NCRONTAB in UTC, or a TimeSpan."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from localdev.functions_host.schedules import ScheduleError, parse_schedule

NEW_YEAR = datetime(2024, 1, 1, tzinfo=UTC)  # a Monday


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("*/1 * * * * *", datetime(2024, 1, 1, 0, 0, 1, tzinfo=UTC)),
        ("0 */5 * * * *", datetime(2024, 1, 1, 0, 5, tzinfo=UTC)),
        ("30 15 2 * * *", datetime(2024, 1, 1, 2, 15, 30, tzinfo=UTC)),
        ("0 0 9 * * Sat", datetime(2024, 1, 6, 9, tzinfo=UTC)),
        ("0 0 9 1 * 1", datetime(2024, 1, 1, 9, tzinfo=UTC)),
        ("0 0 10 1 * 1", datetime(2024, 1, 1, 10, tzinfo=UTC)),
        ("00:00:05", NEW_YEAR + timedelta(seconds=5)),
        ("1.02:00:00", NEW_YEAR + timedelta(days=1, hours=2)),
    ],
)
def test_the_next_occurrence_follows_the_expression(expression: str, expected: datetime) -> None:
    assert parse_schedule(expression).next_after(NEW_YEAR) == expected


def test_both_day_and_weekday_must_match_when_both_are_restricted() -> None:
    # Vixie cron would fire on any 1st or any Monday; NCRONTAB waits for a 1st that is a Monday.
    schedule = parse_schedule("0 0 9 1 * 1")
    assert schedule.next_after(datetime(2024, 1, 1, 9, tzinfo=UTC)) == datetime(2024, 4, 1, 9, tzinfo=UTC)


@pytest.mark.parametrize("expression", ["* * * * *", "61 * * * * *", "every minute", "00:00:00", "25:00:00"])
def test_an_expression_the_host_would_reject_is_refused(expression: str) -> None:
    with pytest.raises(ScheduleError):
        parse_schedule(expression)
