"""Every dead letter of a hub queue, wherever it lies: the hub's own shelf, then Service Bus's dead-letter queue.

The hub sets aside the messages it knows no retry can fix (``shared.pipeline.
delivery``); Service Bus still dead-letters what the hub never saw settle (a
worker that died on every delivery until the max delivery count). An operator
sees both in one list and resubmits or discards either by message id.
"""

from __future__ import annotations

from shared.pipeline.delivery import RETRY_PROPERTIES
from shared.platform.dead_letter_shelf import DeadLetterShelf
from shared.platform.service_bus import DeadLetter, ServiceBus

_SHELF_TOKEN = "h"  # noqa: S105 - a page token's prefix, not a password


class DeadLetters:
    def __init__(self, bus: ServiceBus, shelf: DeadLetterShelf) -> None:
        self._bus = bus
        self._shelf = shelf

    def page(self, queue: str, top: int, token: str | None) -> tuple[list[DeadLetter], str | None]:
        """Up to ``top`` dead letters from ``token`` on: the shelf's oldest first, then Service Bus's.

        A token ``h<n>`` goes on in the shelf after its first ``n``; a number
        goes on in Service Bus's dead-letter queue from that sequence number.
        """
        found: list[DeadLetter] = []
        if token is None or token.startswith(_SHELF_TOKEN):
            skip = int(token[len(_SHELF_TOKEN) :] or 0) if token else 0
            shelved, more = self._shelf.page(queue, top, skip)
            found = [message.as_dead_letter() for message in shelved]
            if more:
                return found, f"{_SHELF_TOKEN}{skip + len(shelved)}"
            token = None
        room = top - len(found)
        if room == 0:
            return found, "0"
        peeked = self._bus.peek_dead_letters(queue, room, int(token or 0))
        found.extend(peeked)
        more = len(peeked) == room
        return found, str(peeked[-1].sequence_number + 1) if more and peeked else None

    def resubmit(self, queue: str, message_id: str) -> DeadLetter | None:
        """Send the dead letter back to its queue as new work; None when there is no such dead letter."""
        shelved = self._shelf.get(queue, message_id)
        if shelved is None:
            return self._bus.resubmit_dead_letter(queue, message_id)
        self._bus.publish(queue, shelved.resubmission(RETRY_PROPERTIES))
        self._shelf.remove(queue, message_id)
        return shelved.as_dead_letter()

    def discard(self, queue: str, message_id: str) -> DeadLetter | None:
        shelved = self._shelf.get(queue, message_id)
        if shelved is None:
            return self._bus.discard_dead_letter(queue, message_id)
        self._shelf.remove(queue, message_id)
        return shelved.as_dead_letter()
