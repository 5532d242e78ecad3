"""How long to wait before trying again: capped exponential backoff with full jitter, or the host's word.

Full jitter (a uniform draw between zero and the exponential ceiling) spreads
the retries of many workers that failed together, instead of sending them back
in lock-step. The ceiling is tenacity's ``wait_exponential``; the wait is
``wait_random_exponential``'s, with the draw passed in so tests can pin it
(tenacity's own draws from the ``random`` module). ``Retry-After`` wins when the
host sends a usable one; ``0`` or a date already past is "no hint", not an
invitation to retry in a hot loop.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import tenacity

# RFC 9110 allows whole seconds only; a decimal fraction is accepted because
# some services send one, and refusing it would throw the hint away.
_DELTA_SECONDS = re.compile(r"[0-9]{1,12}(\.[0-9]+)?")


class FullJitter(tenacity.wait_exponential):
    """A tenacity wait: uniform from zero to ``base * 2**retries`` (retries so far), never above the cap."""

    def __init__(
        self,
        base_seconds: float,
        cap_seconds: float,
        draw: Callable[[float, float], float] = random.uniform,
    ) -> None:
        super().__init__(multiplier=base_seconds, max=cap_seconds)
        self._draw = draw

    def __call__(self, retry_state: tenacity.RetryCallState) -> float:
        return self._draw(0.0, super().__call__(retry_state))


def backoff_ceiling(retry_number: int, base_seconds: float, cap_seconds: float) -> float:
    """The most a retry may wait: ``base * 2**retry_number``, never above the cap."""
    ceiling: float = tenacity.wait_exponential(multiplier=base_seconds, max=cap_seconds)(
        _after_retries(retry_number)
    )
    return ceiling


def full_jitter(
    retry_number: int,
    base_seconds: float,
    cap_seconds: float,
    draw: Callable[[float, float], float] = random.uniform,
) -> float:
    """``FullJitter``'s wait before retry ``retry_number`` (0 = first), for loops tenacity does not drive."""
    return FullJitter(base_seconds, cap_seconds, draw)(_after_retries(retry_number))


def _after_retries(retry_number: int) -> tenacity.RetryCallState:
    """The state tenacity's waits read (the attempt number) for a loop of the hub's own."""
    state = tenacity.RetryCallState(tenacity.Retrying(), fn=None, args=(), kwargs={})
    state.attempt_number = retry_number + 1
    return state


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
