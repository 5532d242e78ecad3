"""A host-wide pause: once a host says ``Retry-After``, every worker calling it holds off together.

Dataverse lengthens the wait for a client that keeps sending after a 429, so
one thread honouring the hint while its siblings carry on would make things
worse. The gate remembers the latest moment any caller was told to wait until.

It agrees with the retry schedule of queued work (``shared.pipeline.delivery``):
a call the gate would hold past its time budget or the work's deadline is not
sent but raised as a ``ThrottledError`` whose ``retry_after`` is the gate's
``remaining()``, and ``Redeliveries.decide`` schedules the message no sooner
than that, so a ``Retry-After`` of minutes delays the work instead of failing it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable


class ThrottleGate:
    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._resume_at = 0.0

    def pause(self, seconds: float) -> None:
        """Hold every caller of this host for ``seconds`` from now (a longer pause already set stands)."""
        with self._lock:
            self._resume_at = max(self._resume_at, self._clock() + seconds)

    def remaining(self) -> float:
        """Seconds until calls may resume; 0 when the host is open for calls."""
        with self._lock:
            return max(self._resume_at - self._clock(), 0.0)
