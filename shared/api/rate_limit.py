"""Per-caller rate limiting: a token bucket for each key or token subject, kept in the worker process.

Power Platform allows a connection about 500 calls a minute; the hub answers
429 with ``Retry-After`` before a runaway flow can starve other callers. The
buckets live in one worker's memory, so with several instances the effective
limit is per instance; that is enough to stop a loop, which is the purpose.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

_FORGET_IDLE_SECONDS = 600


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """Allows ``per_minute`` calls per caller, in bursts of up to ``per_minute``."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        if per_minute < 1:
            raise ValueError("per_minute must be at least 1")
        self._capacity = float(per_minute)
        self._per_second = per_minute / 60.0
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}
        self._guard = threading.Lock()

    def admit(self, caller: str) -> int | None:
        """None when the call may go ahead; otherwise the seconds to wait (for ``Retry-After``)."""
        now = self._clock()
        with self._guard:
            bucket = self._buckets.get(caller)
            if bucket is None:
                if len(self._buckets) > 10_000:
                    self._forget_idle(now)
                bucket = self._buckets[caller] = _Bucket(self._capacity, now)
            bucket.tokens = min(self._capacity, bucket.tokens + (now - bucket.updated) * self._per_second)
            bucket.updated = now
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return None
            return max(1, math.ceil((1.0 - bucket.tokens) / self._per_second))

    def _forget_idle(self, now: float) -> None:
        idle = [name for name, bucket in self._buckets.items() if now - bucket.updated > _FORGET_IDLE_SECONDS]
        for name in idle:
            del self._buckets[name]
