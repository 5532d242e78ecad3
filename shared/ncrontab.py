"""The timer schedules the Functions host accepts: six-field NCRONTAB, ``{second} {minute} {hour} {day} {month} {day-of-week}``.

One rule for the hub's settings (a bad schedule stops the app at start-up,
naming its setting) and the local Functions host (which refuses the timer),
so a schedule that passes one passes the other. croniter reads the seconds
field first, as NCRONTAB does; five-field Vixie cron is refused, because the
Functions host would read its minutes as seconds.
"""

from __future__ import annotations

from croniter import croniter

NCRONTAB_FIELDS = 6
NCRONTAB_EXAMPLE = "0 */5 * * * *"


def ncrontab_problem(expression: str) -> str | None:
    """What is wrong with ``expression`` as a timer schedule, in words that never repeat it; None if nothing."""
    if len(expression.split()) != NCRONTAB_FIELDS:
        return (
            "is not a six-field NCRONTAB expression "
            f"({{second}} {{minute}} {{hour}} {{day}} {{month}} {{day-of-week}}), e.g. '{NCRONTAB_EXAMPLE}'"
        )
    if not croniter.is_valid(expression, second_at_beginning=True):
        return "is not a valid NCRONTAB expression"
    return None
