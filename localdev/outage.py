"""An outage a sandbox can be switched into: for a number of seconds, or until switched back.

Tests that prove the hub survives a downstream outage need the outage to end
on its own while the hub is busy retrying, so the switch takes a duration;
``None`` keeps the sandbox down until a test switches it back.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class OutageSwitch:
    """Whether a sandbox is down now; safe to flip from the admin endpoint while requests are served."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._down = False
        self._until: float | None = None

    def begin(self, seconds: float | None) -> None:
        """Go down for ``seconds`` (``None``: until ``end``); zero or less means back up now."""
        with self._lock:
            if seconds is not None and seconds <= 0:
                self._down, self._until = False, None
                return
            self._down = True
            self._until = None if seconds is None else self._clock() + seconds

    def end(self) -> None:
        self.begin(0)

    def remaining(self) -> float | None:
        """Seconds the outage still lasts; ``None`` when it lasts until switched back; 0 when up."""
        with self._lock:
            if not self._down:
                return 0.0
            if self._until is None:
                return None
            left = self._until - self._clock()
            if left <= 0:
                self._down, self._until = False, None
                return 0.0
            return left

    @property
    def down(self) -> bool:
        return self.remaining() != 0.0
