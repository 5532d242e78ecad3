"""A clock that only moves when the code under test sleeps, so retry tests run instantly."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

EPOCH = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)


class FakeTime:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.elapsed = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        with self._lock:
            return self.elapsed

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.elapsed += seconds

    def now(self) -> datetime:
        with self._lock:
            return EPOCH + timedelta(seconds=self.elapsed)

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.elapsed += seconds
