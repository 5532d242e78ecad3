"""Service protection limits on demand, and the request counts tests and benchmarks read.

Dataverse answers a user over its limits with 429, ``Retry-After`` in seconds
and, for the number-of-requests limit, code ``0x80072322`` and the message
"Number of requests exceeded the limit of 6000 over time window of 300
seconds." ("Service protection API limits"). A ``$batch`` is one request
towards that limit, however many it carries. The sandbox can throttle two ways,
together or apart: a sliding-window ``limit`` (as Dataverse counts), and a
``fraction`` of requests chosen by a seeded random generator, so a benchmark's
"30% throttled" run is the same run every time. Throttled requests do not count
towards the window. Execution-time and concurrency limits are not simulated.
"""

from __future__ import annotations

import math
import random
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from localdev.sandbox.dataverse.errors import TOO_MANY_REQUESTS, ODataError

DOCUMENTED_LIMIT = 6000
DOCUMENTED_WINDOW_SECONDS = 300


@dataclass(frozen=True)
class ThrottleSettings:
    limit: int | None = None
    window_seconds: float = DOCUMENTED_WINDOW_SECONDS
    retry_after: int | None = None  # None: seconds until the window has room again (limit) or 1 (fraction)
    fraction: float = 0.0
    seed: int = 0

    @classmethod
    def from_json(cls, document: dict[str, Any]) -> ThrottleSettings:
        """Settings from the admin endpoint's JSON; a ``ValueError`` names the bad field."""
        limit = document.get("limit")
        retry_after = document.get("retry_after")
        settings = cls(
            limit=None if limit is None else int(limit),
            window_seconds=float(document.get("window_seconds", DOCUMENTED_WINDOW_SECONDS)),
            retry_after=None if retry_after is None else int(retry_after),
            fraction=float(document.get("fraction", 0.0)),
            seed=int(document.get("seed", 0)),
        )
        if settings.limit is not None and settings.limit < 0:
            raise ValueError("limit must be 0 or more")
        if settings.window_seconds <= 0:
            raise ValueError("window_seconds must be more than 0")
        if settings.retry_after is not None and settings.retry_after < 0:
            raise ValueError("retry_after must be 0 or more")
        if not 0.0 <= settings.fraction <= 1.0:
            raise ValueError("fraction must be between 0 and 1")
        return settings

    def as_json(self) -> dict[str, Any]:
        return {
            "limit": self.limit,
            "window_seconds": self.window_seconds,
            "retry_after": self.retry_after,
            "fraction": self.fraction,
            "seed": self.seed,
        }


class ServiceProtection:
    """Decides, request by request, whether the environment answers 429."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.settings = ThrottleSettings()
        self._accepted: deque[float] = deque()
        self._random = random.Random(0)

    def configure(self, settings: ThrottleSettings) -> None:
        self.settings = settings
        self._accepted.clear()
        self._random = random.Random(settings.seed)

    def admit(self) -> None:
        """Count one request, or raise the 429 refusal; its ``retry_after`` says how long to wait."""
        settings, now = self.settings, self._clock()
        while self._accepted and self._accepted[0] <= now - settings.window_seconds:
            self._accepted.popleft()
        if settings.fraction and self._random.random() < settings.fraction:
            raise ThrottledError(settings, 1 if settings.retry_after is None else settings.retry_after)
        if settings.limit is not None and len(self._accepted) >= settings.limit:
            wait = (
                settings.retry_after
                if settings.retry_after is not None
                else math.ceil(self._accepted[0] + settings.window_seconds - now)
                if self._accepted
                else 1
            )
            raise ThrottledError(settings, max(wait, 0))
        self._accepted.append(now)


class ThrottledError(ODataError):
    def __init__(self, settings: ThrottleSettings, retry_after: int) -> None:
        limit = settings.limit if settings.limit is not None else DOCUMENTED_LIMIT
        window = settings.window_seconds if settings.limit is not None else DOCUMENTED_WINDOW_SECONDS
        super().__init__(
            429,
            TOO_MANY_REQUESTS,
            f"Number of requests exceeded the limit of {limit} over time window of {window:g} seconds.",
        )
        self.retry_after = retry_after


class RequestStats:
    """What reached the Web API: totals by method and status, batches and the requests inside them."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.total = 0
        self.by_method: Counter[str] = Counter()
        self.by_status: Counter[int] = Counter()
        self.batches = 0
        self.batch_requests = 0
        self.throttled = 0

    def record(self, method: str, status: int, batch_requests: int | None) -> None:
        self.total += 1
        self.by_method[method.upper()] += 1
        self.by_status[status] += 1
        if status == 429:
            self.throttled += 1
        if batch_requests is not None:
            self.batches += 1
            self.batch_requests += batch_requests

    def as_json(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "by_method": dict(self.by_method),
            "by_status": {str(status): count for status, count in sorted(self.by_status.items())},
            "batches": self.batches,
            "batch_requests": self.batch_requests,
            "throttled": self.throttled,
        }
