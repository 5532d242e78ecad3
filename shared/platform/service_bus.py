"""Service Bus as the hub uses it: publish work, and let operators see and resubmit dead letters.

Messages carry JSON bodies and a message id that the publisher chooses from the
work itself (a batch id, a posting key), so Service Bus duplicate detection and
the loaders' create-only markers recognise a repeat. Dead letters are read with
peek (no lock, no delivery-count change); resubmitting or discarding one takes
it from the dead-letter sub-queue by message id, sending the copy before
completing the original so a crash in between duplicates rather than loses it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from azure.core.credentials import TokenCredential
from azure.servicebus import (
    ServiceBusClient,
    ServiceBusMessage,
    ServiceBusReceivedMessage,
    ServiceBusSender,
    ServiceBusSubQueue,
)
from azure.servicebus.exceptions import (
    MessageSizeExceededError,
    OperationTimeoutError,
    ServiceBusCommunicationError,
    ServiceBusConnectionError,
)
from pydantic import BaseModel

from shared.platform.patience import BusPatience
from shared.settings import ServiceBusConnection
from shared.telemetry.spans import trace_properties

PropertyValue = str | int | float | bool
RESUBMITTED_FROM_ID = "hub-resubmitted-from-id"
RESUBMITTED_FROM_SEQUENCE = "hub-resubmitted-from-sequence"
_SEARCH_WAIT_SECONDS = 2


@dataclass(frozen=True)
class OutgoingMessage:
    """One unit of work for a queue or topic: a JSON body, or bytes sent as they are (a resubmission)."""

    body: Mapping[str, Any] | bytes
    message_id: str
    correlation_id: str | None = None
    subject: str | None = None
    application_properties: Mapping[str, PropertyValue] = field(default_factory=dict)
    scheduled_enqueue_time: datetime | None = None
    content_type: str = "application/json"

    def to_sdk(self) -> ServiceBusMessage:
        """The SDK's message, carrying the sender's trace context (``traceparent``, ``Diagnostic-Id``)."""
        return ServiceBusMessage(
            self.body if isinstance(self.body, bytes) else orjson.dumps(dict(self.body)),
            message_id=self.message_id,
            correlation_id=self.correlation_id,
            subject=self.subject,
            content_type=self.content_type,
            application_properties={**self.application_properties, **trace_properties()},  # type: ignore[dict-item]
            scheduled_enqueue_time_utc=self.scheduled_enqueue_time,
        )


def model_message(
    model: BaseModel,
    *,
    message_id: str,
    subject: str,
    correlation_id: str | None = None,
    properties: Mapping[str, PropertyValue] | None = None,
    at: datetime | None = None,
) -> OutgoingMessage:
    """A pydantic model as the body of a message: the one way the hub turns its requests into messages."""
    return OutgoingMessage(
        body=model.model_dump(mode="json"),
        message_id=message_id,
        correlation_id=correlation_id,
        subject=subject,
        application_properties=dict(properties or {}),
        scheduled_enqueue_time=at,
    )


@dataclass(frozen=True)
class DeadLetter:
    """What an operator needs to judge a dead-lettered message."""

    message_id: str
    sequence_number: int
    enqueued_time: datetime | None
    delivery_count: int
    reason: str | None
    description: str | None
    correlation_id: str | None
    subject: str | None
    application_properties: dict[str, PropertyValue]
    body: str

    @classmethod
    def from_sdk(cls, message: ServiceBusReceivedMessage) -> DeadLetter:
        properties = {
            _text(name): _plain(value) for name, value in (message.application_properties or {}).items()
        }
        return cls(
            message_id=str(message.message_id),
            sequence_number=int(message.sequence_number or 0),
            enqueued_time=message.enqueued_time_utc,
            delivery_count=int(message.delivery_count or 0),
            reason=message.dead_letter_reason,
            description=message.dead_letter_error_description,
            correlation_id=message.correlation_id,
            subject=message.subject,
            application_properties=properties,
            body=b"".join(message.body).decode("utf-8", errors="replace"),
        )


class ServiceBus:
    """The hub's one Service Bus client, shared by every publisher in the process.

    Opening an AMQP link costs a round trip or more, so each entity's sender is
    opened once and kept; a sender is not thread-safe, so sends to one entity
    take turns. A sender that fails is closed and opened afresh once, which is
    how a link dropped by the broker (idle timeout, restart) heals.
    """

    def __init__(self, client: ServiceBusClient) -> None:
        self._client = client
        self._senders: dict[str, ServiceBusSender] = {}
        self._sender_locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def publish(self, entity: str, message: OutgoingMessage) -> None:
        self.publish_many(entity, [message])

    def publish_many(self, entity: str, messages: Iterable[OutgoingMessage]) -> None:
        """Send messages to a queue or topic in as few batches as fit; scheduled ones by schedule."""
        pending = list(messages)
        with self._lock_for(entity):
            try:
                self._send(self._sender(entity), pending)
            except (ServiceBusConnectionError, ServiceBusCommunicationError, OperationTimeoutError):
                self._drop_sender(entity)
                self._send(self._sender(entity), pending)

    @staticmethod
    def _send(sender: ServiceBusSender, messages: list[OutgoingMessage]) -> None:
        batch = sender.create_message_batch()
        for message in messages:
            if message.scheduled_enqueue_time is not None:
                sender.schedule_messages(message.to_sdk(), message.scheduled_enqueue_time)
                continue
            try:
                batch.add_message(message.to_sdk())
            except MessageSizeExceededError:  # the batch is full: send it and start the next
                sender.send_messages(batch)
                batch = sender.create_message_batch()
                batch.add_message(message.to_sdk())
        if len(batch):
            sender.send_messages(batch)

    def _lock_for(self, entity: str) -> threading.Lock:
        with self._guard:
            return self._sender_locks.setdefault(entity, threading.Lock())

    def _sender(self, entity: str) -> ServiceBusSender:
        sender = self._senders.get(entity)
        if sender is None:
            sender = self._client.get_queue_sender(entity)
            self._senders[entity] = sender
        return sender

    def _drop_sender(self, entity: str) -> None:
        sender = self._senders.pop(entity, None)
        if sender is not None:
            sender.close()

    def peek_dead_letters(self, queue: str, max_count: int, from_sequence: int = 0) -> list[DeadLetter]:
        with self._client.get_queue_receiver(queue, sub_queue=ServiceBusSubQueue.DEAD_LETTER) as receiver:
            found = receiver.peek_messages(max_message_count=max_count, sequence_number=from_sequence)
        return [DeadLetter.from_sdk(message) for message in found]

    def resubmit_dead_letter(self, queue: str, message_id: str) -> DeadLetter | None:
        """Send a dead letter back to its queue as new; None when no such message is dead-lettered."""
        return self._take_dead_letter(queue, message_id, resubmit=True)

    def discard_dead_letter(self, queue: str, message_id: str) -> DeadLetter | None:
        """Remove a dead letter for good; the caller records the audit entry."""
        return self._take_dead_letter(queue, message_id, resubmit=False)

    def _take_dead_letter(self, queue: str, message_id: str, resubmit: bool) -> DeadLetter | None:
        with self._client.get_queue_receiver(
            queue, sub_queue=ServiceBusSubQueue.DEAD_LETTER, max_wait_time=_SEARCH_WAIT_SECONDS
        ) as receiver:
            passed_over: list[ServiceBusReceivedMessage] = []
            try:
                for message in receiver:
                    if message.message_id != message_id:
                        passed_over.append(message)
                        continue
                    taken = DeadLetter.from_sdk(message)
                    if resubmit:
                        with self._lock_for(queue):
                            self._sender(queue).send_messages(_resubmission(message))
                    receiver.complete_message(message)
                    return taken
                return None
            finally:
                for message in passed_over:
                    receiver.abandon_message(message)

    def check(self, queue: str) -> None:
        """Raise if the namespace or ``queue`` cannot be reached: a peek needs both."""
        with self._client.get_queue_receiver(queue) as receiver:
            receiver.peek_messages(max_message_count=1)

    def close(self) -> None:
        with self._guard:
            for entity in list(self._senders):
                self._drop_sender(entity)
        self._client.close()


def _resubmission(message: ServiceBusReceivedMessage) -> ServiceBusMessage:
    """A fresh copy of a dead letter: same body and ids, new message id.

    A new message id keeps Service Bus duplicate detection (on the load queues)
    from dropping the copy; the original id and sequence number travel as
    properties, and the loaders' own markers still recognise the work.
    """
    properties = {
        _text(name): _plain(value)
        for name, value in (message.application_properties or {}).items()
        if _text(name) not in ("DeadLetterReason", "DeadLetterErrorDescription")
    }
    properties[RESUBMITTED_FROM_ID] = str(message.message_id)
    properties[RESUBMITTED_FROM_SEQUENCE] = int(message.sequence_number or 0)
    return ServiceBusMessage(
        b"".join(message.body),
        message_id=f"{message.message_id}.r{message.sequence_number}",
        correlation_id=message.correlation_id,
        subject=message.subject,
        content_type=message.content_type,
        application_properties=properties,  # type: ignore[arg-type]
    )


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _plain(value: Any) -> PropertyValue:
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, str | int | float | bool):
        return value
    return str(value)


def connect(
    connection: ServiceBusConnection, credential: TokenCredential | None, patience: BusPatience
) -> ServiceBus:
    """Build the client from a connection string (local), or a namespace and identity (Azure).

    ``patience`` sets the SDK's retries and its bound on each attempt; see ``shared.platform.patience``.
    """
    options = patience.client_options()
    if connection.connection_string:
        return ServiceBus(ServiceBusClient.from_connection_string(connection.connection_string, **options))
    if connection.fully_qualified_namespace is None or credential is None:
        raise ValueError("a Service Bus namespace needs a managed identity credential")
    return ServiceBus(ServiceBusClient(connection.fully_qualified_namespace, credential, **options))
