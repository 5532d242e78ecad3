"""Messages the hub dead-lettered itself: set aside in Blob with their reason, until resubmitted or discarded.

A Python function cannot settle its own Service Bus message with the stable
Functions bindings: the host completes it when the function returns and
abandons it when it raises (the SDK-type binding that adds
``ServiceBusMessageActions.deadletter`` is a beta, see README "Dead letters").
Raising until the queue's max delivery count dead-letters the message would
spend that count on failures that can never succeed and hide their reason.
So a message whose failure no retry can fix is written here, with its body,
properties and classified reason, and the function returns: the message
leaves the queue at once and lands where ``/api/v1/deadletters/{queue}``
lists it beside Service Bus's own dead-letter queue.

One blob per message (``dead-letters/<queue>/<message id>.json`` in the state
container): setting the same message aside twice keeps one entry.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import quote, unquote

import orjson
from pydantic import BaseModel, Field

from shared.platform.blob_store import JSON, BlobStore
from shared.platform.service_bus import DeadLetter, OutgoingMessage, PropertyValue

_PREFIX = "dead-letters/"


class ShelvedMessage(BaseModel):
    """A message as it was delivered, and why the hub set it aside."""

    queue: str
    message_id: str
    body: str  # as delivered, UTF-8
    correlation_id: str | None = None
    subject: str | None = None
    application_properties: dict[str, PropertyValue] = Field(default_factory=dict)
    delivery_count: int = 1
    enqueued_time: datetime | None = None
    shelved_at: datetime
    reason: str  # the error class
    description: str  # what went wrong, redacted

    def as_dead_letter(self) -> DeadLetter:
        return DeadLetter(
            message_id=self.message_id,
            sequence_number=0,
            enqueued_time=self.enqueued_time,
            delivery_count=self.delivery_count,
            reason=self.reason,
            description=self.description,
            correlation_id=self.correlation_id,
            subject=self.subject,
            application_properties=dict(self.application_properties),
            body=self.body,
        )

    def resubmission(self, drop_properties: frozenset[str]) -> OutgoingMessage:
        """The message again, as new work: the hub's retry bookkeeping starts afresh."""
        return OutgoingMessage(
            body=self.body.encode("utf-8"),
            message_id=self.message_id,
            correlation_id=self.correlation_id,
            subject=self.subject,
            application_properties={
                name: value
                for name, value in self.application_properties.items()
                if name not in drop_properties
            },
        )


def _path(queue: str, message_id: str) -> str:
    return f"{_PREFIX}{queue}/{quote(message_id, safe='')}.json"


class DeadLetterShelf:
    """The hub's own dead letters, per queue, oldest first."""

    def __init__(self, state: BlobStore) -> None:
        self._state = state

    def put(self, message: ShelvedMessage) -> None:
        body = orjson.dumps(message.model_dump(mode="json"))
        self._state.put(_path(message.queue, message.message_id), body, content_settings=JSON)

    def get(self, queue: str, message_id: str) -> ShelvedMessage | None:
        found = self._state.read_json(_path(queue, message_id))
        return None if found is None else ShelvedMessage.model_validate(found.value)

    def remove(self, queue: str, message_id: str) -> bool:
        return self._state.delete(_path(queue, message_id))

    def page(self, queue: str, top: int, skip: int) -> tuple[list[ShelvedMessage], bool]:
        """Up to ``top`` messages after the first ``skip``, oldest first; True when more follow."""
        ids = [
            unquote(path.removeprefix(f"{_PREFIX}{queue}/").removesuffix(".json"))
            for path in self._state.list(f"{_PREFIX}{queue}/")
        ]
        found = [message for message in (self.get(queue, i) for i in ids) if message is not None]
        found.sort(key=lambda message: message.shelved_at)
        return found[skip : skip + top], len(found) > skip + top
