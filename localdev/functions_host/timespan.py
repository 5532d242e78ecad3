""".NET ``TimeSpan`` text (``[d.]hh:mm[:ss[.fffffff]]``): durations in ``host.json`` and timer schedules."""

from __future__ import annotations

import re
from datetime import timedelta

_TIMESPAN = re.compile(r"^(?:(\d+)\.)?(\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:\.(\d{1,7}))?)?$")


def parse_timespan(text: str) -> timedelta:
    """The duration ``text`` names; ``ValueError`` when it is not a TimeSpan."""
    text = text.strip()
    if text.isdigit():
        return timedelta(days=int(text))  # TimeSpan.Parse reads a bare number as days
    match = _TIMESPAN.match(text)
    if match is None:
        raise ValueError(f"'{text}' is not a TimeSpan such as 00:05:00 or 1.02:00:00")
    days, hours, minutes, seconds, fraction = match.groups()
    if int(hours) > 23 or int(minutes) > 59 or int(seconds or 0) > 59:
        raise ValueError(f"'{text}' is not a TimeSpan: hours run to 23, minutes and seconds to 59")
    return timedelta(
        days=int(days or 0),
        hours=int(hours),
        minutes=int(minutes),
        seconds=int(seconds or 0),
        microseconds=int((fraction or "0").ljust(7, "0")) / 10,
    )
