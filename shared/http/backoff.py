"""How long to wait before trying again: capped exponential backoff with full jitter, or the host's word.

Full jitter (a uniform draw between zero and the exponential ceiling) spreads
the retries of many workers that failed together, instead of sending them back
in lock-step. ``Retry-After`` wins when the host sends a usable one; ``0`` or a
date already past is "no hint", not an invitation to retry in a hot loop.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

# RFC 9110 allows whole seconds only; a decimal fraction is accepted because
# some services send one, and refusing it would throw the hint away.
_DELTA_SECONDS = re.compile(r"[0-9]{1,12}(\.[0-9]+)?")


def backoff_ceiling(retry_number: int, base_seconds: float, cap_seconds: float) -> float:
    """The most a retry may wait: ``base * 2**retry_number``, never above the cap."""
    if retry_number >= 64:
        return cap_seconds
    ceiling: float = min(cap_seconds, base_seconds * 2.0**retry_number)
    return ceiling


def full_jitter(
    retry_number: int,
    base_seconds: float,
    cap_seconds: float,
    draw: Callable[[float, float], float] = random.uniform,
) -> float:
    """A wait drawn uniformly from zero to the backoff ceiling for this retry (0 = first retry)."""
    return draw(0.0, backoff_ceiling(retry_number, base_seconds, cap_seconds))


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds the host asked us to wait, or None when it gave no usable hint.

    ``Retry-After`` is delta-seconds or an HTTP-date (RFC 9110 §10.2.3). Zero, a
    negative number, a date not in the future and anything unparseable are all
    no hint, so the caller falls back to its own backoff.
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    if _DELTA_SECONDS.fullmatch(text):
        seconds = float(text)
        return seconds if seconds > 0 else None
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    seconds = (when - now).total_seconds()
    return seconds if seconds > 0 else None
