"""Duplicate deliveries on demand: Service Bus delivers at least once, so a completed message may come again.

In Service Bus a receiver's completion can be lost on the way (a dropped
connection, a broker failover): the receiver believes the message settled,
the broker never heard it, and once the lock lapses the same message is
delivered again, same message id, body and properties, its delivery count one
higher. The switch makes that happen for the next ``count`` completions and/or
a seeded ``fraction`` of them, on one entity (``queue``: a queue's name or a
subscription's path ``topic/subscriptions/name``) or on all when none is named.
The client is told its completion succeeded; the message is available again at
once rather than after its lock duration, so tests need not wait a minute.

Thread-safe: the admin endpoint sets it from its own thread while the broker
asks it on the event loop.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

from localdev.outage import FaultSetting, FaultSwitches

DUPLICATE_DELIVERY = "duplicate_delivery"


class DuplicateDeliveries:
    """Which completions are 'lost' so their messages are delivered again, and how many were, per entity."""

    def __init__(self) -> None:
        self._switches = FaultSwitches(frozenset({DUPLICATE_DELIVERY}))
        self._lock = threading.Lock()
        self._queue: str | None = None
        self._by_queue: Counter[str] = Counter()

    def configure(self, name: str, queue: str | None, setting: FaultSetting) -> None:
        """Arm ``name`` (only ``duplicate_delivery``) on ``queue``, or on every entity when it is None."""
        self._switches.configure(name, setting)
        with self._lock:
            self._queue = queue.lower() if queue else None

    def strikes(self, entity: str) -> bool:
        """Whether this completion on ``entity`` is lost, so the message is delivered again."""
        with self._lock:
            if self._queue is not None and entity.lower() != self._queue:
                return False
        if not self._switches.strikes(DUPLICATE_DELIVERY):
            return False
        with self._lock:
            self._by_queue[entity] += 1
        return True

    def clear(self) -> None:
        self._switches.clear()
        with self._lock:
            self._queue = None
            self._by_queue.clear()

    def as_json(self) -> dict[str, Any]:
        """The sandboxes' fault shape (``countLeft``, ``fraction``, ``struck``) with the queue, and the counts."""
        armed = self._switches.as_json()
        with self._lock:
            if DUPLICATE_DELIVERY in armed:
                armed[DUPLICATE_DELIVERY]["queue"] = self._queue
            return {**armed, "duplicatesByQueue": dict(sorted(self._by_queue.items()))}
