"""Service Bus's message rules: who gets which message, locks and their expiry, settling, dead-lettering.

The broker knows nothing about AMQP framing. Connections hand it what clients
sent and register their receive links as ``Receiver``s; the broker pushes
messages to receivers with credit, in sequence order, round-robin. All of it
runs on one event loop, so no two operations interleave.

The delivery count follows Service Bus: it grows when a message is delivered in
peek-lock mode, and the header a receiver sees says how many earlier deliveries
there were. Abandoning, or letting the lock expire, on the delivery that
reaches the entity's max delivery count moves the message to the dead-letter
sub-queue with reason ``MaxDeliveryCountExceeded``. A message the client
releases unseen (the SDK does this for prefetched messages when a receiver
closes) does not count as a delivery. A completion the ``duplicates`` switch
strikes is 'lost' (see ``faults``): the message is delivered again.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Protocol

from localdev.servicebus_emulator import messages
from localdev.servicebus_emulator.config import MessagingEntity, Namespace
from localdev.servicebus_emulator.faults import DuplicateDeliveries
from localdev.servicebus_emulator.store import MessageStore, NewMessage, StoredMessage

_LOG = logging.getLogger(__name__)

MAX_DELIVERY_COUNT_EXCEEDED = "MaxDeliveryCountExceeded"


class LockLostError(Exception):
    """The lock token is unknown, expired, or its message was already settled."""

    def __init__(self) -> None:
        super().__init__(
            "The lock supplied is invalid. Either the lock expired, or the message has already been removed "
            "from the queue."
        )


class UnknownEntityError(Exception):
    """No queue, topic or subscription of the namespace has this name."""

    def __init__(self, name: str) -> None:
        super().__init__(f"The messaging entity '{name}' could not be found.")


class Receiver(Protocol):
    """A client's receive link, as the broker sees it."""

    @property
    def entity(self) -> MessagingEntity: ...

    @property
    def receive_and_delete(self) -> bool: ...

    @property
    def credit(self) -> int: ...

    def deliver(self, payload: bytes, lock_token: uuid.UUID) -> None:
        """Send one message to the client; uses one credit."""


class Broker:
    """The namespace's entities and the messages in them."""

    def __init__(
        self,
        namespace: Namespace,
        store: MessageStore,
        clock: Callable[[], float] = time.time,
        duplicates: DuplicateDeliveries | None = None,
    ) -> None:
        self.namespace = namespace
        self._store = store
        self._clock = clock
        self.duplicates = duplicates or DuplicateDeliveries()
        self._receivers: dict[str, list[Receiver]] = {}

    def attach(self, receiver: Receiver) -> None:
        self._receivers.setdefault(receiver.entity.path, []).append(receiver)

    def detach(self, receiver: Receiver) -> None:
        """Forget a receiver. Its locked messages stay locked until they expire, as in Service Bus."""
        attached = self._receivers.get(receiver.entity.path, [])
        if receiver in attached:
            attached.remove(receiver)

    def credit_granted(self, receiver: Receiver) -> None:
        self._dispatch(receiver.entity)

    def enqueue(self, address: str, encoded: Sequence[bytes]) -> list[int]:
        """Accept messages sent (or scheduled) to a queue or topic; returns their sequence numbers."""
        copies = self._copies(address)
        batch = [NewMessage(body, messages.scheduled_enqueue_time(body)) for body in encoded]
        numbers = self._store.enqueue(address.lower(), copies, batch, self._clock())
        for path in copies:
            self._dispatch_path(path)
        return numbers

    def cancel_scheduled(self, address: str, sequence_numbers: Sequence[int]) -> None:
        self._store.cancel_scheduled(self._copies(address), sequence_numbers)

    def complete(self, lock_token: uuid.UUID) -> None:
        message = self._locked(lock_token)
        if self.duplicates.strikes(message.entity):
            # The client hears its completion succeeded; the broker 'never got it' and delivers again.
            self._store.unlock(message.id, message.delivery_count)
            self._dispatch_path(message.entity)
            return
        self._store.remove(message.id)

    def abandon(self, lock_token: uuid.UUID) -> None:
        self._return(self._locked(lock_token))

    def release(self, lock_token: uuid.UUID) -> None:
        """Give back a message the application never saw: available again, delivery not counted."""
        message = self._locked(lock_token)
        self._store.unlock(message.id, max(message.delivery_count - 1, 0))
        self._dispatch_path(message.entity)

    def dead_letter(self, lock_token: uuid.UUID, reason: str | None, description: str | None) -> None:
        self._dead_letter(self._locked(lock_token), reason, description)

    def renew_lock(self, lock_token: uuid.UUID) -> float:
        """Extend a valid lock by the entity's lock duration; returns the new expiry (Unix seconds)."""
        message = self._locked(lock_token)
        locked_until = self._clock() + self._entity(message.entity).lock_seconds
        self._store.renew(message.id, locked_until)
        return locked_until

    def peek(self, entity_path: str, from_sequence_number: int, count: int) -> list[bytes]:
        """Messages as a peeker sees them: no lock taken, delivery count unchanged."""
        entity = self._entity(entity_path)
        return [
            messages.delivery(
                message.body,
                sequence_number=message.sequence_number,
                enqueued_at=message.enqueued_at,
                prior_deliveries=message.delivery_count,
                state=messages.SCHEDULED if message.state == "scheduled" else messages.ACTIVE,
            )
            for message in self._store.peek(entity.path, from_sequence_number, count)
        ]

    def tick(self) -> None:
        """Expire locks, enqueue scheduled messages whose time came, and serve waiting receivers."""
        now = self._clock()
        for message in self._store.expired_locks(now):
            self._return(message)
        self._store.enqueue_due(now)
        for path in list(self._receivers):
            self._dispatch_path(path)

    def _return(self, message: StoredMessage) -> None:
        """An abandoned or expired delivery: dead-lettered at the max delivery count, else available again."""
        entity = self.namespace.entity(message.entity)
        if entity is None:  # its entity left the config: keep the message, unlocked, should it come back
            self._store.unlock(message.id, message.delivery_count)
            return
        limit = entity.max_delivery_count
        if limit is not None and message.delivery_count >= limit:
            self._dead_letter(
                message,
                MAX_DELIVERY_COUNT_EXCEEDED,
                f"Message could not be consumed after {limit} delivery attempts.",
            )
            return
        self._store.unlock(message.id, message.delivery_count)
        self._dispatch(entity)

    def _dead_letter(self, message: StoredMessage, reason: str | None, description: str | None) -> None:
        entity = self._entity(message.entity)
        if entity.max_delivery_count is None:  # already a dead letter: it stays where it is
            self._store.unlock(message.id, message.delivery_count)
            self._dispatch(entity)
            return
        source = entity.path
        body = messages.dead_lettered(message.body, reason=reason, description=description, source=source)
        self._store.move(message.id, entity.dead_letter_path, body)
        _LOG.info("dead-lettered sequence number %s of %s: %s", message.sequence_number, entity.path, reason)
        self._dispatch_path(entity.dead_letter_path)

    def _dispatch_path(self, path: str) -> None:
        self._dispatch(self._entity(path))

    def _dispatch(self, entity: MessagingEntity) -> None:
        waiting = [receiver for receiver in self._receivers.get(entity.path, []) if receiver.credit > 0]
        while waiting:
            for receiver in list(waiting):
                if not self._deliver_one(entity, receiver):
                    return
                if receiver.credit <= 0:
                    waiting.remove(receiver)

    def _deliver_one(self, entity: MessagingEntity, receiver: Receiver) -> bool:
        if receiver.receive_and_delete:
            taken = self._store.remove_next(entity.path)
            if taken is None:
                return False
            payload = self._delivery(taken, taken.delivery_count, locked_until=None)
            receiver.deliver(payload, uuid.uuid4())
            return True
        locked = self._store.lock_next(entity.path, self._clock() + entity.lock_seconds)
        if locked is None or locked.lock_token is None:
            return False
        payload = self._delivery(locked, locked.delivery_count - 1, locked.locked_until)
        receiver.deliver(payload, locked.lock_token)
        return True

    @staticmethod
    def _delivery(message: StoredMessage, prior_deliveries: int, locked_until: float | None) -> bytes:
        return messages.delivery(
            message.body,
            sequence_number=message.sequence_number,
            enqueued_at=message.enqueued_at,
            prior_deliveries=prior_deliveries,
            locked_until=locked_until,
        )

    def _locked(self, lock_token: uuid.UUID) -> StoredMessage:
        message = self._store.locked(lock_token, self._clock())
        if message is None:
            raise LockLostError
        return message

    def _entity(self, path: str) -> MessagingEntity:
        entity = self.namespace.entity(path)
        if entity is None:
            raise UnknownEntityError(path)
        return entity

    def _copies(self, address: str) -> tuple[str, ...]:
        copies = self.namespace.destination(address)
        if copies is None:
            raise UnknownEntityError(address)
        return copies
