"""The hub's state changes as CloudEvents 1.0 on the run-events topic: a log others subscribe to.

Each write of a run record or a GP posting request is one event: its
``type`` names the fact (``com.townepark.hub.run.batch_loaded``), its ``data``
carries the fields the write changed with their new values, and ``sequence``
(the CloudEvents sequence extension) is the record's version, so folding a
record's events in sequence order rebuilds it (``rebuild``). Events go out in
structured mode (``application/cloudevents+json``), with the id as the message
id, so a subscriber can drop a repeat, and the writer's trace context, so its
work joins the trace of the run.

Events are published after the write they describe, best effort: the record
is the truth. An event the topic refused is logged and counted
(``hub.events.unpublished``), and the next write's event carries the fields it
changes, not the whole record.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel

from shared.errors import CircuitOpenError
from shared.http.breaker import CircuitBreaker
from shared.platform.service_bus import OutgoingMessage, ServiceBus
from shared.telemetry import meters, names

log = logging.getLogger(__name__)
Record = TypeVar("Record")
TYPE_PREFIX = "com.townepark.hub"
SOURCE = "/towne-park/integration-hub"
CONTENT_TYPE = "application/cloudevents+json"


class CloudEvent(BaseModel):
    """A CloudEvents 1.0 event in its JSON format, with the sequence extension."""

    specversion: Literal["1.0"] = "1.0"
    id: str
    source: str
    type: str
    subject: str
    time: datetime
    datacontenttype: Literal["application/json"] = "application/json"
    sequence: str
    data: dict[str, Any]


def write_event(
    kind: str,
    fact: str,
    source: str,
    before: BaseModel | None,
    after: BaseModel,
    record_id: str,
    version: int,
    about: Mapping[str, Any],
    now: datetime,
) -> CloudEvent:
    """The event of one write of a ``kind`` of record (``run``, ``gp_posting``): ``about`` names the
    record in ``data``, beside the fields the write changed."""
    previous = before.model_dump(mode="json") if before is not None else None
    return CloudEvent(
        id=f"{record_id}.{version}",
        source=f"{SOURCE}/{source}",
        type=f"{TYPE_PREFIX}.{kind}.{fact}",
        subject=record_id,
        time=now,
        sequence=sequence(version),
        data={**about, "changes": changes(previous, after.model_dump(mode="json"))},
    )


def changes(before: Mapping[str, Any] | None, after: Mapping[str, Any]) -> dict[str, Any]:
    """The top-level fields ``after`` has that ``before`` had otherwise (all of them for a new record)."""
    if before is None:
        return dict(after)
    return {field: value for field, value in after.items() if before.get(field) != value}


def sequence(version: int) -> str:
    """Sortable as text, as the sequence extension's values are compared."""
    return f"{version:012d}"


def rebuild(events: Iterable[CloudEvent]) -> dict[str, Any]:
    """The record the events describe: their changes applied in sequence order, each event once."""
    document: dict[str, Any] = {}
    unique = {event.id: event for event in events}
    for event in sorted(unique.values(), key=lambda e: e.sequence):
        document.update(event.data["changes"])
    return document


class EventTopic:
    """Publishes events to the run-events topic; never raises into the work that changed the record.

    ``bus`` should give up within seconds (the API callers' patience): an event
    is published inside the write path of every run. After a failed publish
    the topic is left alone for ``PAUSE_SECONDS`` (a breaker, as for any host),
    so a Service Bus outage costs each write nothing more than a dropped event.
    """

    PAUSE_SECONDS = 30.0

    def __init__(self, bus: ServiceBus, topic: str, clock: Callable[[], float] = time.monotonic) -> None:
        self._bus = bus
        self._topic = topic
        self._breaker = CircuitBreaker(f"topic {topic}", 1, self.PAUSE_SECONDS, clock)

    def publish(self, event: CloudEvent) -> None:
        message = OutgoingMessage(
            body=event.model_dump(mode="json"),
            message_id=event.id,
            subject=event.type,
            content_type=CONTENT_TYPE,
        )
        try:
            self._breaker.before_call()
        except CircuitOpenError:
            meters.record(names.EVENTS_UNPUBLISHED, 1, {names.EVENT_TYPE: event.type})
            log.warning("Event %s (%s) dropped: %s failed moments ago", event.id, event.type, self._topic)
            return
        try:
            self._bus.publish(self._topic, message)
        except Exception:
            # The record is written; losing its event must not undo the work.
            self._breaker.record_failure()
            meters.record(names.EVENTS_UNPUBLISHED, 1, {names.EVENT_TYPE: event.type})
            log.exception("Could not publish event %s (%s) to %s", event.id, event.type, self._topic)
            return
        self._breaker.record_success()


class WriteEvents(Generic[Record]):
    """A store's observer (told of each write: the record before, None when new, and after) that
    publishes the event ``event_of`` makes of the write."""

    def __init__(
        self,
        topic: EventTopic,
        event_of: Callable[[Record | None, Record, datetime], CloudEvent],
        now: Callable[[], datetime],
    ) -> None:
        self._topic = topic
        self._event_of = event_of
        self._now = now

    def __call__(self, before: Record | None, after: Record) -> None:
        self._topic.publish(self._event_of(before, after, self._now()))
