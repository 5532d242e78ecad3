"""What a run has sent, by key and content digest, kept only as far back as the next run re-reads.

An incremental run re-reads from its watermark (minus the look-back) onwards,
so it only needs to remember records at or after that point. Rows arrive in
cursor order, so records fall out of the window from the front: a deque makes
each row's bookkeeping constant time and keeps memory bounded by the window,
not by the run. A full-read stream keeps everything (it needs every key to spot
deletes), which is fine for the master-data sizes such streams have.
"""

from __future__ import annotations

from collections import deque
from datetime import date, datetime, timedelta
from typing import Any


def window_start(watermark: Any, lookback: timedelta | int) -> Any:
    """The first cursor value to re-read after ``watermark``."""
    if watermark is None or not lookback:
        return watermark
    if isinstance(watermark, date | datetime) and isinstance(lookback, timedelta):
        return watermark - lookback
    if isinstance(watermark, int | float) and isinstance(lookback, int):
        return watermark - lookback
    raise TypeError(f"a look-back of {lookback!r} does not apply to a cursor value like {watermark!r}")


class SentRecords:
    def __init__(self, lookback: timedelta | int | None) -> None:
        """``lookback`` None keeps every record (full-read streams)."""
        self._lookback = lookback
        self._digests: dict[str, tuple[str, Any]] = {}
        self._order: deque[tuple[Any, str]] = deque()

    def saw(self, key: str, digest: str, cursor: Any = None) -> None:
        self._digests[key] = (digest, cursor)
        if self._lookback is None:
            return
        self._order.append((cursor, key))
        oldest_kept = window_start(cursor, self._lookback)
        while self._order and self._order[0][0] < oldest_kept:
            old_cursor, old_key = self._order.popleft()
            if self._digests.get(old_key, (None, None))[1] == old_cursor:
                del self._digests[old_key]

    def keys(self) -> set[str]:
        return set(self._digests)

    def snapshot(self) -> dict[str, str]:
        return {key: digest for key, (digest, _) in self._digests.items()}
