"""What a run has sent, by key and content digest, kept only as far back as the next run re-reads.

An incremental run re-reads from its watermark (minus the look-back) onwards,
so it only needs to remember records at or after that point. Rows arrive in
cursor order, so records fall out of the window from the front: a deque keeps
each row's bookkeeping constant time and memory bounded by the window, not by
the run. Digests are computed only when a checkpoint needs them, and once: most
rows leave the window long before any checkpoint sees them.

A full-read stream keeps every record's digest (it needs every key to spot
deletes), which suits the master-data sizes such streams have.
"""

from __future__ import annotations

import hashlib
from collections import deque
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from itertools import repeat
from typing import Any

import orjson

Key = tuple[Any, ...]


def window_start(watermark: Any, lookback: timedelta | int) -> Any:
    """The first cursor value to re-read after ``watermark``."""
    if watermark is None or not lookback:
        return watermark
    if isinstance(watermark, date | datetime) and isinstance(lookback, timedelta):
        return watermark - lookback
    if isinstance(watermark, int | float) and isinstance(lookback, int):
        return watermark - lookback
    raise TypeError(f"a look-back of {lookback!r} does not apply to a cursor value like {watermark!r}")


def key_text(key: Key) -> str:
    """A record key as compact JSON: readable in the state blob, and reversible for deletes."""
    return orjson.dumps(list(key)).decode()


def key_from_text(text: str) -> Key:
    return tuple(orjson.loads(text))


def encoded(record: dict[str, Any]) -> bytes:
    """A record's JSON, keys sorted: staged as it is, and digested as it is, so each record is encoded once.

    Copied once to its own size: orjson's result keeps the whole buffer it wrote into (4 KiB for a
    150-byte record), and a page of them, or the records a look-back keeps, would hold 25 times the
    memory their bytes need.
    """
    return bytes(memoryview(orjson.dumps(record, option=orjson.OPT_SORT_KEYS)))


def content_digest(body: bytes) -> str:
    """The digest of a record's ``encoded`` JSON: equal digests, equal content."""
    return hashlib.blake2b(body, digest_size=10).hexdigest()


class SentRecords:
    def __init__(self, lookback: timedelta | int | None) -> None:
        """``lookback`` None keeps every record (full-read streams)."""
        self._lookback = lookback
        self._sent: dict[Key, tuple[Any, bytes]] = {}
        self._digests: dict[Key, str] = {}
        self._order: deque[tuple[Any, Key]] = deque()
        self._last_cursor: Any = None

    def saw(self, key: Key, body: bytes, cursor: Any = None) -> None:
        """The record of ``key`` was read, ``body`` its ``encoded`` JSON."""
        if self._lookback is None:
            self._digests[key] = content_digest(body)
            return
        if cursor != self._last_cursor:
            self._last_cursor = cursor
            self._forget_before(window_start(cursor, self._lookback))
        self._sent[key] = (cursor, body)
        if self._digests:
            self._digests.pop(key, None)
        if self._lookback:
            self._order.append((cursor, key))

    def saw_many(self, keys: Sequence[Key], bodies: Sequence[bytes], cursors: Sequence[Any] | None) -> None:
        """``saw`` for a page's records in cursor order (``cursors`` ascending, none None)."""
        if self._lookback is None:
            self._digests.update(zip(keys, map(content_digest, bodies), strict=True))
            return
        if cursors is None or self._lookback or not keys:
            for key, body, cursor in zip(keys, bodies, cursors or repeat(None), strict=False):
                self.saw(key, body, cursor)
            return
        # No look-back: only the records of the last cursor value are kept, as ``saw`` would leave them.
        last = cursors[-1]
        if last != self._last_cursor:
            self._last_cursor = last
            self._sent.clear()
            self._digests.clear()
        first = len(cursors) - 1
        while first > 0 and cursors[first - 1] == last:
            first -= 1
        for key, body in zip(keys[first:], bodies[first:], strict=True):
            self._sent[key] = (last, body)
            self._digests.pop(key, None)

    def _forget_before(self, oldest_kept: Any) -> None:
        if not self._lookback:  # no look-back: only the current cursor value's records matter
            self._sent.clear()
            self._digests.clear()
            return
        while self._order and self._order[0][0] < oldest_kept:
            old_cursor, old_key = self._order.popleft()
            sent = self._sent.get(old_key)
            if sent is not None and sent[0] == old_cursor:
                del self._sent[old_key]
                self._digests.pop(old_key, None)

    def keys(self) -> set[Key]:
        return set(self._digests) if self._lookback is None else set(self._sent)

    def snapshot(self) -> dict[str, str]:
        """Fingerprints of every record kept, each digest computed once however many checkpoints ask."""
        if self._lookback is not None:
            for key, (_, body) in self._sent.items():
                if key not in self._digests:
                    self._digests[key] = content_digest(body)
        return {key_text(key): digest for key, digest in self._digests.items()}
