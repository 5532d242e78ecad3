"""The hub's share of the org's daily API calls, read from ``Sforce-Limit-Info`` on every answer.

Salesforce counts every REST call against a rolling 24-hour allocation shared by
every integration and user of the org, and says where the count stands in each
answer's ``Sforce-Limit-Info: api-usage=<used>/<limit>`` header
(developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/headers_api_usage.htm).
Past the limit every call answers 403 ``REQUEST_LIMIT_EXCEEDED``, for
Towne Park's sales team too. So the hub stops itself well before: once the
org's usage reaches ``share`` of the limit (``SALESFORCE_API_SHARE``), the next
call raises ``ApiBudgetSpentError`` instead of being sent. A sync run then ends
``retrying`` with that reason, its watermark at the last staged batch, and its
request comes back later (README, "A run's life"); calls free up as the
rolling window moves on: a count older than ``RETRY_AFTER_SECONDS`` no longer
holds calls back, so the next call is sent and its answer tells the new count.
The count is approximate (Salesforce recalculates it asynchronously), so the
share keeps a margin.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from shared.errors import ThrottledError

LIMIT_HEADER = "Sforce-Limit-Info"
_USAGE = re.compile(r"api-usage=(\d+)/(\d+)")
# How long a run waits before trying again once the budget is spent: calls free up as the
# 24-hour window rolls, a quarter of an hour at a time is soon enough to notice.
RETRY_AFTER_SECONDS = 900.0


@dataclass(frozen=True)
class ApiUsage:
    used: int
    limit: int


def parse_limit_info(header: str | None) -> ApiUsage | None:
    match = _USAGE.search(header or "")
    return ApiUsage(int(match.group(1)), int(match.group(2))) if match else None


class ApiBudgetSpentError(ThrottledError):
    """The org's usage reached the hub's share of its daily limit; no further call was sent."""


class ApiBudget:
    """The latest usage the org reported, and the share of its limit the hub may reach."""

    def __init__(
        self,
        share: float,
        *,
        recheck_seconds: float = RETRY_AFTER_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not 0 < share <= 1:
            raise ValueError("the hub's share of the Salesforce API limit must be in (0, 1]")
        self.share = share
        self._recheck_seconds = recheck_seconds
        self._clock = clock
        self._usage: ApiUsage | None = None
        self._seen_at = 0.0
        self._lock = threading.Lock()

    @property
    def usage(self) -> ApiUsage | None:
        return self._usage

    def observe(self, response: httpx.Response) -> None:
        usage = parse_limit_info(response.headers.get(LIMIT_HEADER))
        if usage is not None:
            with self._lock:
                self._usage, self._seen_at = usage, self._clock()

    def check(self) -> None:
        """Raise ``ApiBudgetSpentError`` when a recent answer put the org at or past the hub's share."""
        with self._lock:
            usage, seen_at = self._usage, self._seen_at
        if usage is None or self._clock() - seen_at >= self._recheck_seconds:
            return
        allowed = int(usage.limit * self.share)
        if usage.used >= allowed:
            raise ApiBudgetSpentError(
                f"Salesforce API budget reached: the org has used {usage.used} of its {usage.limit} daily calls "
                f"and the hub may go up to {self.share:.0%} ({allowed}); stopped before the org's limit, "
                "the run resumes from its last checkpoint once calls free up",
                context={"system": "salesforce", "used": usage.used, "limit": usage.limit},
                retry_after=RETRY_AFTER_SECONDS,
            )
