"""How big and how many ``$batch`` requests the sink sends at once, adapted to the throttling it meets.

Dataverse counts three service protection limits per user over a 5-minute
sliding window ("Service protection API limits",
learn.microsoft.com/power-apps/developer/data-platform/api-limits): 6,000
requests, 1,200 seconds of combined execution time, 52 concurrent requests. A
``$batch`` is one request but adds the execution time of all its operations, and
Microsoft advises small batches and a degree of parallelism that follows the
``Retry-After`` answers. So the pace backs off by the limit it met:

* execution time (``0x80072321``) or concurrent requests (``0x80072326``): halve
  both the batch size and the number of batches in flight, so less work is
  under way at once and each request is over sooner. Batches already in flight
  when the first refusal came were sent at the old pace, so until one batch is
  answered, further refusals do not halve again;
* number of requests (``0x80072322``): nothing changes. Smaller batches would
  only mean more requests; waiting out ``Retry-After`` (the host's throttle gate)
  is the remedy.

It grows back slowly: after ``calm_batches`` batches answered without throttling
in a row, one more batch in flight and an eighth of the largest batch size more,
up to the configured maxima (additive increase, multiplicative decrease, as TCP
finds its rate). One pace is shared by every load through a sink, so what one
batch load learnt the next one starts from.
"""

from __future__ import annotations

import logging
import threading

log = logging.getLogger(__name__)

EXECUTION_TIME_LIMIT = "0x80072321"
CONCURRENCY_LIMIT = "0x80072326"
_SLOW_DOWN_CODES = frozenset({EXECUTION_TIME_LIMIT, CONCURRENCY_LIMIT})


class LoadPace:
    """The current batch size and parallelism, between 1 and the configured maxima."""

    def __init__(self, max_batch_size: int, max_parallel: int, calm_batches: int = 20) -> None:
        if max_batch_size < 1 or max_parallel < 1 or calm_batches < 1:
            raise ValueError("max_batch_size, max_parallel and calm_batches must be positive")
        self._lock = threading.Lock()
        self.max_batch_size = max_batch_size
        self.max_parallel = max_parallel
        self._calm_needed = calm_batches
        self._step = max(max_batch_size // 8, 1)
        self.batch_size = max_batch_size
        self.parallel = max_parallel
        self._calm = 0
        self._slowed = False  # slowed down, and no batch answered since

    def throttled(self, code: str) -> None:
        """Dataverse refused a request with ``code``; slow down if that limit is about work in flight."""
        with self._lock:
            self._calm = 0
            if code.lower() not in _SLOW_DOWN_CODES or self._slowed:
                return
            self._slowed = True
            self.batch_size = max(self.batch_size // 2, 1)
            self.parallel = max(self.parallel // 2, 1)
            batch_size, parallel = self.batch_size, self.parallel
        log.info("Dataverse throttled (%s): batches of %d, %d at once", code, batch_size, parallel)

    def answered(self) -> None:
        """A batch came back without throttling; enough of them in a row and the pace grows a step."""
        with self._lock:
            self._slowed = False
            self._calm += 1
            if self._calm < self._calm_needed:
                return
            self._calm = 0
            self.batch_size = min(self.batch_size + self._step, self.max_batch_size)
            self.parallel = min(self.parallel + 1, self.max_parallel)
