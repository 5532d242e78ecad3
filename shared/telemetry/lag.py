"""How far behind its schedule a stream may fall before an admin hears of it: the lag alert's threshold.

A stream's lag (``hub.sync.lag``) is how far its target is behind now. Just
before a due run it is about one gap of the schedule; a run that fails leaves
it growing through the next gap, but the failed-run alert has already named
that run. The lag alert is for what no run reports: a timer that stopped
firing, a request stuck in a queue, a host that is down, a stream that has not
settled twice in a row. So the threshold lets one run be missed and the next
one land: twice the schedule's longest gap between consecutive occurrences
(a daily sync's weekend-free gap is a day; a schedule that skips weekends or
month ends has a longer longest gap, and the alert must not fire every
Monday), plus the retry budget (``RETRY_BUDGET_MINUTES``'s default), because a
run that starts on time may keep retrying that long before it settles.

``infra/app/alerts.bicep`` carries each scheduled stream's threshold at its
default schedule; ``tests/telemetry`` fails when the two differ.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import islice, pairwise, takewhile

from croniter import croniter

from shared.settings import Settings

# A year shows every weekly and monthly pattern; a schedule that fires more often than hourly
# has shown its pattern (weekends, month ends) well before this many occurrences.
_HORIZON = timedelta(days=366)
_MOST_OCCURRENCES = 10_000
_START = datetime(2024, 1, 1, tzinfo=UTC)  # a Monday, at the start of a leap year
RETRY_BUDGET = timedelta(minutes=float(Settings.model_fields["retry_budget_minutes"].default))


def lag_threshold(schedule: str) -> timedelta:
    """Twice the longest gap between consecutive runs of ``schedule`` (six-field NCRONTAB), plus the retry budget."""
    occurrences = croniter(schedule, _START, second_at_beginning=True).all_next(datetime)
    runs = islice(takewhile(lambda at: at < _START + _HORIZON, occurrences), _MOST_OCCURRENCES)
    longest_gap: timedelta = max(later - earlier for earlier, later in pairwise(runs))
    return 2 * longest_gap + RETRY_BUDGET
