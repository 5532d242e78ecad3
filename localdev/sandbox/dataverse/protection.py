"""Service protection limits on demand, and the request counts tests and benchmarks read.

Dataverse counts three limits per user over a 5-minute sliding window
("Service protection API limits",
learn.microsoft.com/power-apps/developer/data-platform/api-limits): 6,000
requests, 1,200 seconds of combined execution time and 52 concurrent requests.
A ``$batch`` is one request towards the first limit, but the execution time of
every operation it carries counts towards the second. Past a limit the answer
is 429 with ``Retry-After`` in seconds and one of three codes, with Microsoft's
message:

* ``0x80072322`` "Number of requests exceeded the limit of 6000 over time
  window of 300 seconds."
* ``0x80072321`` "Combined execution time of incoming requests exceeded limit
  of 1,200,000 milliseconds over time window of 300 seconds. Decrease number of
  concurrent requests or reduce the duration of requests and try again later."
* ``0x80072326`` "Number of concurrent requests exceeded the limit of 52."

The sandbox's operations take next to no time, so execution time is a setting:
``cost_ms_per_operation`` is charged for each operation (a request alone is
one, a ``$batch`` as many as it carries) and the request is held that long
before it is answered, so it is also in flight that long, which is what the
concurrency limit counts. Each limit is off until set, and a window shorter
than 300 seconds lets a test or a benchmark meet them in seconds.

Besides the documented limits, a ``fraction`` of requests can be refused by a
seeded random generator (code ``0x80072322``), so a benchmark's "30%
throttled" run is the same run every time. Throttled requests count towards no
limit.
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from localdev.sandbox.dataverse.errors import (
    CONCURRENCY_LIMIT,
    EXECUTION_TIME_LIMIT,
    TOO_MANY_REQUESTS,
    ODataError,
)

DOCUMENTED_LIMIT = 6000
DOCUMENTED_EXECUTION_MS = 1_200_000
DOCUMENTED_CONCURRENCY = 52
DOCUMENTED_WINDOW_SECONDS = 300
# Microsoft gives no figure for the wait after a concurrency refusal; a slot frees as soon as a
# request in flight is answered, so the sandbox asks for the shortest wait Retry-After can say.
_CONCURRENCY_RETRY_AFTER = 1


@dataclass(frozen=True)
class ThrottleSettings:
    limit: int | None = None  # requests per window
    window_seconds: float = DOCUMENTED_WINDOW_SECONDS
    retry_after: int | None = None  # None: seconds until the window has room again (limit) or 1 (fraction)
    fraction: float = 0.0
    seed: int = 0
    execution_ms_limit: int | None = None  # combined execution time per window
    cost_ms_per_operation: float = 0.0
    concurrent_limit: int | None = None

    @classmethod
    def from_json(cls, document: dict[str, Any]) -> ThrottleSettings:
        """Settings from the admin endpoint's JSON; a ``ValueError`` names the bad field."""

        def whole(name: str) -> int | None:
            value = document.get(name)
            if value is None:
                return None
            if int(value) < 0:
                raise ValueError(f"{name} must be 0 or more")
            return int(value)

        settings = cls(
            limit=whole("limit"),
            window_seconds=float(document.get("window_seconds", DOCUMENTED_WINDOW_SECONDS)),
            retry_after=whole("retry_after"),
            fraction=float(document.get("fraction", 0.0)),
            seed=int(document.get("seed", 0)),
            execution_ms_limit=whole("execution_ms_limit"),
            cost_ms_per_operation=float(document.get("cost_ms_per_operation", 0.0)),
            concurrent_limit=whole("concurrent_limit"),
        )
        if settings.window_seconds <= 0:
            raise ValueError("window_seconds must be more than 0")
        if not 0.0 <= settings.fraction <= 1.0:
            raise ValueError("fraction must be between 0 and 1")
        if not 0.0 <= settings.cost_ms_per_operation <= 60_000:
            raise ValueError("cost_ms_per_operation must be between 0 and 60000")
        return settings

    def as_json(self) -> dict[str, Any]:
        return {
            "limit": self.limit,
            "window_seconds": self.window_seconds,
            "retry_after": self.retry_after,
            "fraction": self.fraction,
            "seed": self.seed,
            "execution_ms_limit": self.execution_ms_limit,
            "cost_ms_per_operation": self.cost_ms_per_operation,
            "concurrent_limit": self.concurrent_limit,
        }


class ServiceProtection:
    """Decides, request by request, whether the environment answers 429, and charges what was served."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self.settings = ThrottleSettings()
        self._accepted: deque[float] = deque()
        self._executed: deque[tuple[float, float]] = deque()  # (when answered, milliseconds)
        self._in_flight = 0
        self._random = random.Random(0)

    def configure(self, settings: ThrottleSettings) -> None:
        with self._lock:
            self.settings = settings
            self._accepted.clear()
            self._executed.clear()
            self._random = random.Random(settings.seed)

    def admit(self) -> None:
        """Count one request in flight, or raise the 429 refusal; its ``retry_after`` says how long to wait."""
        with self._lock:
            settings, now = self.settings, self._clock()
            self._forget_before(now - settings.window_seconds)
            if settings.fraction and self._random.random() < settings.fraction:
                raise ThrottledError.requests(
                    settings, 1 if settings.retry_after is None else settings.retry_after
                )
            if settings.limit is not None and len(self._accepted) >= settings.limit:
                oldest = self._accepted[0] if self._accepted else None
                raise ThrottledError.requests(settings, self._wait(settings, oldest, now))
            if settings.execution_ms_limit is not None:
                spent = sum(milliseconds for _, milliseconds in self._executed)
                if spent >= settings.execution_ms_limit:
                    oldest = self._executed[0][0] if self._executed else None
                    raise ThrottledError.execution_time(settings, self._wait(settings, oldest, now))
            if settings.concurrent_limit is not None and self._in_flight >= settings.concurrent_limit:
                wait = _CONCURRENCY_RETRY_AFTER if settings.retry_after is None else settings.retry_after
                raise ThrottledError.concurrency(settings, wait)
            self._accepted.append(now)
            self._in_flight += 1

    def cost_seconds(self, operations: int) -> float:
        """How long a request of ``operations`` operations takes to execute."""
        return operations * self.settings.cost_ms_per_operation / 1000

    def served(self, operations: int) -> None:
        """An admitted request was answered: it leaves the flight and its operations' time is charged."""
        with self._lock:
            self._in_flight = max(self._in_flight - 1, 0)
            milliseconds = operations * self.settings.cost_ms_per_operation
            if milliseconds:
                self._executed.append((self._clock(), milliseconds))

    def _forget_before(self, start: float) -> None:
        while self._accepted and self._accepted[0] <= start:
            self._accepted.popleft()
        while self._executed and self._executed[0][0] <= start:
            self._executed.popleft()

    @staticmethod
    def _wait(settings: ThrottleSettings, oldest: float | None, now: float) -> int:
        """The configured wait, else the seconds until the oldest counted request leaves the window."""
        if settings.retry_after is not None:
            return settings.retry_after
        if oldest is None:
            return 1
        return max(math.ceil(oldest + settings.window_seconds - now), 1)


class ThrottledError(ODataError):
    """A 429 with the documented code and message of the limit that was met."""

    def __init__(self, code: str, message: str, retry_after: int) -> None:
        super().__init__(429, code, message)
        self.retry_after = retry_after

    @classmethod
    def requests(cls, settings: ThrottleSettings, retry_after: int) -> ThrottledError:
        limit = settings.limit if settings.limit is not None else DOCUMENTED_LIMIT
        window = settings.window_seconds if settings.limit is not None else DOCUMENTED_WINDOW_SECONDS
        message = f"Number of requests exceeded the limit of {limit} over time window of {window:g} seconds."
        return cls(TOO_MANY_REQUESTS, message, retry_after)

    @classmethod
    def execution_time(cls, settings: ThrottleSettings, retry_after: int) -> ThrottledError:
        message = (
            f"Combined execution time of incoming requests exceeded limit of {settings.execution_ms_limit:,} "
            f"milliseconds over time window of {settings.window_seconds:g} seconds. Decrease number of "
            "concurrent requests or reduce the duration of requests and try again later."
        )
        return cls(EXECUTION_TIME_LIMIT, message, retry_after)

    @classmethod
    def concurrency(cls, settings: ThrottleSettings, retry_after: int) -> ThrottledError:
        message = f"Number of concurrent requests exceeded the limit of {settings.concurrent_limit}."
        return cls(CONCURRENCY_LIMIT, message, retry_after)


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
        self.throttled_by_code: Counter[str] = Counter()

    def record(
        self, method: str, status: int, batch_requests: int | None, throttle_code: str | None = None
    ) -> None:
        self.total += 1
        self.by_method[method.upper()] += 1
        self.by_status[status] += 1
        if status == 429:
            self.throttled += 1
        if throttle_code is not None:
            self.throttled_by_code[throttle_code] += 1
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
            "throttled_by_code": dict(sorted(self.throttled_by_code.items())),
        }
