"""Dataverse events in seconds: each change Dataverse posts to the events queue is routed to its work.

Dataverse's service endpoint posts the execution context of each registered
step (``shared.connectors.dataverse.events``); the ``dataverse-events``
trigger hands every delivery to ``DataverseEvents.handle``, which routes by
table and message:

* ``bs_emailgenerationprocess`` created or updated with SendToGP / SendAll:
  the statement's GP posting is requested at once, with the request id the
  15-minute sweep derives for the same process row (``sweep_request_id``) and,
  like the sweep, never over a request the subject already has; so an event,
  its repeats and the sweep post the statement once, and the sweep remains
  the safety net for events that never came;
* ``bs_unitaccountbatchprocess`` created: that month's unit statistics post,
  one request per process row;
* ``bs_customersite`` or ``bs_contract`` created or updated: the syncs that
  depend on them are queued (``syncs.DEPENDENT_SYNCS``). A burst of edits
  starts one run: a sync whose first stream is still queued or running is
  not queued again (the stream's slot refuses it, ``AlreadyRunningError``),
  and the run already waiting reads the source after every edit of the burst.

An event says which row changed, not what the row is now: events come late,
out of order and more than once, and the row may be gone. So every handler
reads the row back from Dataverse and acts on what it finds; an event whose
row is deleted, or no longer says what the event said, is *stale* and does
nothing. An event for a table or message no handler takes is completed and
logged. A body that is not an execution context is set aside with its reason;
a failure to reach Dataverse, GP's request store or Service Bus is retried
later as for every queue (``shared.pipeline.delivery``).
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from opentelemetry.trace import Status, StatusCode
from pydantic import ValidationError

from shared.connectors.dataverse.client import DataverseClient
from shared.connectors.dataverse.events import RemoteExecutionContext, parse_event
from shared.errors import ErrorClass, classify_exception
from shared.pipeline.delivery import DeadLetter, Delivery, Redeliveries
from shared.pipeline.requests import SyncRequest
from shared.pipeline.run_queue import AlreadyRunningError, RunQueue
from shared.redaction import redact
from shared.telemetry import names
from shared.telemetry.spans import continued, span
from shared.workflows.dataverse_events.syncs import DEPENDENT_SYNCS, ENTITY_SETS, dependent_syncs
from shared.workflows.gp_posting.requests import PERIOD_PATTERN, PostingSubject
from shared.workflows.gp_posting.sweep import (
    EMAIL_GENERATION_PROCESSES,
    PROCESS_ID,
    PROCESS_STATEMENT,
    SEND_ACTION,
    SEND_ALL,
    SEND_TO_GP,
    sweep_request_id,
)
from shared.workflows.gp_posting.workflow import (
    UNIT_BATCH_COMPLETED,
    UNIT_BATCH_ID,
    UNIT_BATCH_PROCESSES,
    UNIT_BATCH_STATUS,
    GpPostings,
)

log = logging.getLogger(__name__)

EMAIL_GENERATION_PROCESS = "bs_emailgenerationprocess"
UNIT_BATCH_PROCESS = "bs_unitaccountbatchprocess"
UNIT_BATCH_PERIOD = "bs_period"
CREATE_OR_UPDATE = frozenset({"Create", "Update"})
TRIGGER = "event"
_STATISTICS_NAMESPACE = uuid.UUID("5d1f0c3a-7e2b-4c8d-9a61-3b0e8f2d4c75")

Outcome = Literal["queued", "already_requested", "busy", "stale", "ignored"]


@dataclass(frozen=True)
class EventOutcome:
    """What an event led to: ``queued`` work (its ids), or why nothing was done."""

    outcome: Outcome
    reason: str
    queued: list[str] = field(default_factory=list)


class DataverseEvents:
    """Reads each event's row back and starts the work it asks for; one instance per worker process."""

    def __init__(
        self,
        dataverse: DataverseClient,
        gp_postings: Callable[[], GpPostings | None],
        run_queue: RunQueue,
        configured_streams: Callable[[], set[str]],
        redeliveries: Redeliveries,
    ) -> None:
        self._dataverse = dataverse
        self._gp_postings = gp_postings
        self._run_queue = run_queue
        self._configured_streams = configured_streams
        self._redeliveries = redeliveries

    def handle(self, delivery: Delivery) -> EventOutcome | None:
        """The trigger's work: route the event, or settle the failure (retry later, or set aside)."""
        about = {names.QUEUE: delivery.queue, names.CORRELATION_ID: delivery.correlation_id}
        with continued(delivery.application_properties), span(names.SPAN_DATAVERSE_EVENT, about) as current:
            try:
                event = parse_event(delivery.body)
            except ValidationError as error:
                reason = f"not a Dataverse execution context: {redact(str(error))}"
                self._redeliveries.carry_out(delivery, DeadLetter(ErrorClass.BAD_RECORD, reason))
                current.set_status(Status(StatusCode.ERROR, reason))
                return None
            current.set_attributes(
                {
                    names.DATAVERSE_MESSAGE: event.message_name,
                    names.DATAVERSE_ENTITY: event.primary_entity_name,
                    names.CORRELATION_ID: str(event.correlation_id or delivery.correlation_id or ""),
                }
            )
            try:
                done = self.route(event)
            except Exception as error:  # noqa: BLE001 - settled below as the error table says
                decision = self._redeliveries.decide(
                    delivery, classify_exception(error), str(error), getattr(error, "retry_after", None)
                )
                self._redeliveries.carry_out(delivery, decision)
                current.set_status(Status(StatusCode.ERROR, redact(str(error))))
                return None
            current.set_attribute(names.OUTCOME, done.outcome)
            log.info(
                "Dataverse %s of %s %s (depth %d): %s, %s",
                event.message_name, event.primary_entity_name, event.primary_entity_id, event.depth,
                done.outcome, done.reason,
            )  # fmt: skip
            return done

    def route(self, event: RemoteExecutionContext) -> EventOutcome:
        """The handler for the event's table and message; raises when Dataverse or storage cannot be reached."""
        entity, message = event.primary_entity_name, event.message_name
        if entity == EMAIL_GENERATION_PROCESS and message in CREATE_OR_UPDATE:
            return self._statement_marked(event)
        if entity == UNIT_BATCH_PROCESS and message == "Create":
            return self._statistics_requested(event)
        if entity in DEPENDENT_SYNCS and message in CREATE_OR_UPDATE:
            return self._site_changed(event)
        return EventOutcome("ignored", f"no handler takes {message} of {entity}")

    def _statement_marked(self, event: RemoteExecutionContext) -> EventOutcome:
        postings = self._gp_postings()
        if postings is None:
            return EventOutcome("ignored", "GP posting is not configured (GP_SMARTCONNECT_URL)")
        process_id = str(event.primary_entity_id)
        columns = (PROCESS_ID, SEND_ACTION, PROCESS_STATEMENT)
        row = self._read_back(EMAIL_GENERATION_PROCESSES, PROCESS_ID, process_id, columns)
        if row is None:
            return EventOutcome("stale", f"process row {process_id} no longer exists")
        if row.get(SEND_ACTION) not in (SEND_TO_GP, SEND_ALL):
            said = event.value(SEND_ACTION) in (SEND_TO_GP, SEND_ALL)
            why = "is no longer marked" if said else "is not marked"
            return EventOutcome("stale" if said else "ignored", f"process row {process_id} {why} for GP")
        statement_id = str(row.get(PROCESS_STATEMENT) or "")
        if not statement_id:
            return EventOutcome("ignored", f"process row {process_id} names no billing statement")
        request, created = postings.request(
            PostingSubject(statement_id=statement_id),
            trigger=TRIGGER,
            requested_by=_requested_by(event),
            request_id=sweep_request_id(statement_id, process_id),
            replace_finished=False,
        )
        if not created:
            return EventOutcome("already_requested", f"statement {statement_id} has request {request.id}")
        return EventOutcome("queued", f"statement {statement_id}", [request.id])

    def _statistics_requested(self, event: RemoteExecutionContext) -> EventOutcome:
        postings = self._gp_postings()
        if postings is None:
            return EventOutcome("ignored", "GP posting is not configured (GP_SMARTCONNECT_URL)")
        process_id = str(event.primary_entity_id)
        columns = (UNIT_BATCH_ID, UNIT_BATCH_PERIOD, UNIT_BATCH_STATUS)
        row = self._read_back(UNIT_BATCH_PROCESSES, UNIT_BATCH_ID, process_id, columns)
        if row is None:
            return EventOutcome("stale", f"unit batch row {process_id} no longer exists")
        if row.get(UNIT_BATCH_STATUS) == UNIT_BATCH_COMPLETED:
            return EventOutcome("stale", f"unit batch row {process_id} is completed already")
        period = str(row.get(UNIT_BATCH_PERIOD) or "")
        if not re.fullmatch(PERIOD_PATTERN, period):
            return EventOutcome(
                "ignored", f"unit batch row {process_id} has no period 'yyyy-MM' ({period!r})"
            )
        request, created = postings.request(
            PostingSubject(unit_statistics_period=period),
            trigger=TRIGGER,
            requested_by=_requested_by(event),
            request_id=f"event-{uuid.uuid5(_STATISTICS_NAMESPACE, f'{period}/{process_id}')}",
        )
        if not created:
            return EventOutcome("already_requested", f"unit statistics {period} have request {request.id}")
        return EventOutcome("queued", f"unit statistics {period}", [request.id])

    def _site_changed(self, event: RemoteExecutionContext) -> EventOutcome:
        entity, row_id = event.primary_entity_name, str(event.primary_entity_id)
        if self._read_back(ENTITY_SETS[entity], f"{entity}id", row_id, (f"{entity}id",)) is None:
            return EventOutcome("stale", f"{entity} {row_id} no longer exists")
        configured = self._configured_streams()
        queued: list[str] = []
        waiting: list[str] = []
        for sync in dependent_syncs(entity):
            if not set(sync.streams) <= configured:
                continue
            first, *rest = sync.streams
            try:
                record = self._run_queue.queue(
                    SyncRequest(first, trigger=TRIGGER),
                    requested_by=_requested_by(event),
                    correlation_id=str(event.correlation_id) if event.correlation_id else None,
                    then=rest,
                )
            except AlreadyRunningError as running:
                waiting.append(f"{sync.name} (run {running.run_id})")
                continue
            queued.append(record.id)
        if queued:
            return EventOutcome("queued", f"{entity} {row_id} changed", queued)
        if waiting:
            return EventOutcome("busy", f"already queued or running: {', '.join(waiting)}")
        return EventOutcome("ignored", f"no sync that depends on {entity} is configured here")

    def _read_back(
        self, entity_set: str, id_column: str, row_id: str, columns: tuple[str, ...]
    ) -> Mapping[str, Any] | None:
        rows = self._dataverse.query(entity_set, columns, f"{id_column} eq {row_id}")
        return next(iter(rows), None)


def _requested_by(event: RemoteExecutionContext) -> str:
    return f"dataverse:{event.user_id}" if event.user_id else "dataverse"
