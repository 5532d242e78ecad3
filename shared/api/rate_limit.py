"""Per-caller rate limiting: at most ``per_minute`` calls from one key or token subject in any minute.

Power Platform allows a connection about 500 calls a minute; the hub answers
429 with ``Retry-After`` before a runaway flow can starve other callers. The
count is a moving window kept by ``limits`` in memory: a call is admitted when
fewer than ``per_minute`` calls of that caller fall in the last 60 seconds, and
a refused caller is told to wait until the oldest of them leaves the window.
``limits`` forgets a caller once all its calls have left it. The windows live
in one worker's memory, so with several instances the effective limit is per
instance; that is enough to stop a loop, which is the purpose.
"""

from __future__ import annotations

import math
import time

from limits import RateLimitItemPerMinute
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter


class RateLimiter:
    """Allows ``per_minute`` calls per caller in any 60 seconds."""

    def __init__(self, per_minute: int) -> None:
        if per_minute < 1:
            raise ValueError("per_minute must be at least 1")
        self._limit = RateLimitItemPerMinute(per_minute)
        self._windows = MovingWindowRateLimiter(MemoryStorage())

    def admit(self, caller: str) -> int | None:
        """None when the call may go ahead; otherwise the seconds to wait (for ``Retry-After``)."""
        if self._windows.hit(self._limit, caller):
            return None
        reopens_at = self._windows.get_window_stats(self._limit, caller).reset_time
        return max(1, math.ceil(reopens_at - time.time()))
