"""A circuit breaker per downstream host: stop calling a host that keeps failing, then probe it.

After ``threshold`` consecutive failures the circuit opens and calls fail at
once with ``CircuitOpenError`` (which names the host and when it half-opens)
instead of piling more work onto a sick service. After the cool-down one probe
is let through; its success closes the circuit, its failure opens it again for
another cool-down. Only failures that say the host is unwell count (connection
errors, time-outs, 5xx); a 4xx or a 429 is a healthy host answering.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from enum import StrEnum

from shared.errors import CircuitOpenError
from shared.telemetry import meters, names


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitBreaker:
    """The breaker for one host; safe to share between threads."""

    def __init__(
        self, host: str, threshold: int, cooldown_seconds: float, clock: Callable[[], float]
    ) -> None:
        self.host = host
        self._threshold = threshold
        self._cooldown = cooldown_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._failures = 0
        self._opened_at: float | None = None
        self._probe_in_flight = False

    @property
    def state(self) -> BreakerState:
        with self._lock:
            return self._state_locked()

    def _state_locked(self) -> BreakerState:
        if self._opened_at is None:
            return BreakerState.CLOSED
        if self._probe_in_flight or self._clock() - self._opened_at >= self._cooldown:
            return BreakerState.HALF_OPEN
        return BreakerState.OPEN

    def before_call(self) -> None:
        """Let the call through, or raise ``CircuitOpenError`` while the host is paused."""
        with self._lock:
            if self._opened_at is None:
                return
            waited = self._clock() - self._opened_at
            if waited >= self._cooldown and not self._probe_in_flight:
                self._probe_in_flight = True
                return
            half_opens_in = max(self._cooldown - waited, 0.0)
            raise CircuitOpenError(self.host, self._failures, half_opens_in)

    def record_success(self) -> None:
        with self._lock:
            self._failures = 0
            self._opened_at = None
            self._probe_in_flight = False

    def record_failure(self) -> None:
        with self._lock:
            self._failures += 1
            opens = self._opened_at is None or self._probe_in_flight
            if self._probe_in_flight or self._failures >= self._threshold:
                self._opened_at = self._clock()
                if opens:
                    meters.record(names.BREAKER_OPENS, 1, {names.SYSTEM: self.host})
            self._probe_in_flight = False
