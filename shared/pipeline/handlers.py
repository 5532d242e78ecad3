"""The sync engine's queue work: what the sync-requests and batch-loads triggers hand over, settled here.

A trigger turns its ``func.ServiceBusMessage`` into a ``Delivery`` and calls
``handle``; whatever happens, ``handle`` returns (the delivery then completes)
after it has either done the work, scheduled a later attempt, or set the
message aside with its reason (``shared.pipeline.delivery``). It raises only
when it could do none of these (Service Bus or storage unreachable), so the
host abandons the message and Service Bus delivers it again.
"""

from __future__ import annotations

import logging
import time

from opentelemetry import trace
from pydantic import ValidationError

from shared.errors import ErrorClass, classify_exception
from shared.pipeline import progress as told
from shared.pipeline.delivery import DeadLetter, Decision, Delivery, Redeliveries, RetryLater
from shared.pipeline.load import BatchLoader, BatchResult, LoadBatchMessage
from shared.pipeline.requests import SyncRequestMessage
from shared.pipeline.run_queue import RunQueue
from shared.pipeline.run_record import RunError, RunRecord, RunStatus
from shared.pipeline.run_states import RunEvent, can_move, move
from shared.pipeline.sync import SyncEngine
from shared.redaction import redact
from shared.telemetry import dimensions, meters, names
from shared.telemetry.dimensions import Dimension
from shared.telemetry.spans import continued, failed, span

log = logging.getLogger(__name__)


class SyncRequests:
    """Claims and runs each requested run; retries it later or sets it aside when it fails."""

    def __init__(self, engine: SyncEngine, queue: RunQueue, redeliveries: Redeliveries) -> None:
        self._engine = engine
        self._queue = queue
        self._redeliveries = redeliveries

    def handle(self, delivery: Delivery) -> RunRecord | None:
        """Run the requested sync in the trace of whoever queued it."""
        with (
            continued(delivery.application_properties),
            span(names.SPAN_SYNC_REQUEST, _about(delivery)) as current,
        ):
            try:
                message = SyncRequestMessage.model_validate_json(delivery.body)
            except ValidationError as error:
                self._redeliveries.carry_out(
                    delivery, DeadLetter(ErrorClass.BAD_RECORD, f"not a sync request: {redact(str(error))}")
                )
                return None
            current.set_attributes(
                dimensions.present(
                    {
                        names.STREAM: message.stream,
                        names.RUN_ID: message.run_id,
                        names.SYNC_MODE: message.mode.value,
                    }
                )
            )
            with dimensions.bound({names.STREAM: message.stream, names.RUN_ID: message.run_id}):
                record = self._run(delivery, message)
            if record is not None:
                current.set_attribute(names.OUTCOME, record.status.value)
                if record.error is not None:
                    failed(current, record.error.error_class, record.error.message)
            return record

    def _run(self, delivery: Delivery, message: SyncRequestMessage) -> RunRecord | None:
        if message.run_id is not None:
            before = self._engine.runs.get(message.run_id)
            if before is not None and not can_move(before, RunEvent.CLAIMED):
                log.info("Run %s is %s already; this delivery has nothing to do", before.id, before.status)
                return before
        decisions: list[Decision] = []

        def failure_status(failure: RunError) -> tuple[RunEvent, RunStatus]:
            decision = self._redeliveries.decide(
                delivery, ErrorClass(failure.error_class), failure.message, failure.retry_after
            )
            decisions.append(decision)
            if isinstance(decision, RetryLater):
                return RunEvent.RETRY_LATER, RunStatus.RETRYING
            return RunEvent.DEAD_LETTERED, RunStatus.DEAD_LETTERED

        try:
            record = self._engine.run(message.to_request(), failure_status=failure_status)
        except Exception as error:  # noqa: BLE001 - the run could not be claimed; settle the delivery
            decision = self._redeliveries.decide(
                delivery, classify_exception(error), str(error), getattr(error, "retry_after", None)
            )
            if isinstance(decision, DeadLetter) and message.run_id is not None:
                self._give_up(message.run_id, decision)
            self._redeliveries.carry_out(delivery, decision)
            return None
        if decisions:
            decision = decisions[-1]
            record = self._engine.runs.update(record.id, lambda latest: _decided(latest, decision))
            self._redeliveries.carry_out(delivery, decision)
            return record
        if message.then:
            self._queue_next(record, message.then)
        return record

    def _give_up(self, run_id: str, decision: DeadLetter) -> None:
        """A run never claimed (its stream stayed busy, its record unreadable) ends dead-lettered too."""

        def give_up(latest: RunRecord) -> None:
            if latest.status in (RunStatus.QUEUED, RunStatus.RETRYING):
                latest.error = RunError(error_class=decision.error_class.value, message=decision.reason)
                move(latest, RunEvent.DEAD_LETTERED, RunStatus.DEAD_LETTERED)
                latest.finished_at = self._engine.now()

        try:
            given_up = self._engine.runs.update(run_id, give_up)
        except (KeyError, Exception):
            log.exception("Could not mark run %s dead-lettered", run_id)
            return
        if given_up.status.finished:
            self._engine.slots.release(given_up.stream, given_up.id)
            told.run_finished(given_up)

    def _queue_next(self, record: RunRecord, then: list[str]) -> None:
        queued, busy = self._queue.queue_in_order(
            then, record.trigger, requested_by=record.requested_by or "", correlation_id=record.correlation_id
        )
        for running in busy:
            log.warning("After run %s, stream %s was skipped: %s", record.id, running.stream, running)
        if queued is not None:
            log.info("After run %s, queued run %s of %s", record.id, queued.id, queued.stream)


class BatchLoads:
    """Loads each staged batch; retries it later or sets it aside, and the run settles either way."""

    def __init__(self, loader: BatchLoader, redeliveries: Redeliveries) -> None:
        self._loader = loader
        self._redeliveries = redeliveries

    def handle(self, delivery: Delivery) -> BatchResult | None:
        """Load the batch in the trace of the extraction that staged it, and time it."""
        with (
            continued(delivery.application_properties),
            span(names.SPAN_BATCH_LOAD, _about(delivery)) as current,
        ):
            try:
                message = LoadBatchMessage.model_validate_json(delivery.body)
            except ValidationError as error:
                self._redeliveries.carry_out(
                    delivery, DeadLetter(ErrorClass.BAD_RECORD, f"not a batch load: {redact(str(error))}")
                )
                return None
            about = {
                names.STREAM: message.stream,
                names.RUN_ID: message.run_id,
                names.BATCH_ID: message.batch.id,
            }
            current.set_attributes(about)
            started = time.monotonic()
            with dimensions.bound(about):
                result = self._load(delivery, message)
            outcome = "failed" if result is None or result.error is not None else "loaded"
            current.set_attribute(names.OUTCOME, outcome)
            meters.record(
                names.BATCH_LOAD_DURATION,
                time.monotonic() - started,
                {names.STREAM: message.stream, names.OUTCOME: outcome},
            )
            return result

    def _load(self, delivery: Delivery, message: LoadBatchMessage) -> BatchResult | None:
        try:
            return self._loader.load(message)
        except Exception as error:  # noqa: BLE001 - settled below as the error table says
            error_class = classify_exception(error)
            failed(trace.get_current_span(), error_class.value, redact(str(error)))
            decision = self._redeliveries.decide(
                delivery, error_class, str(error), getattr(error, "retry_after", None)
            )
            if isinstance(decision, DeadLetter):
                failure = RunError(error_class=error_class.value, message=decision.reason)
                try:
                    self._loader.set_aside(message, failure)
                except Exception:
                    log.exception(
                        "Could not note batch %s of run %s as set aside", message.batch.id, message.run_id
                    )
            self._redeliveries.carry_out(delivery, decision)
            return None


def _about(delivery: Delivery) -> dict[str, Dimension | None]:
    """What a delivery's span says before its body is read: the queue, and who asked."""
    return {
        names.QUEUE: delivery.queue,
        names.CORRELATION_ID: delivery.correlation_id,
        names.ATTEMPTS: delivery.delivery_count,
    }


def _decided(record: RunRecord, decision: Decision) -> None:
    """The decision's own words on the record: when the next attempt comes, or why none will."""
    if isinstance(decision, RetryLater):
        record.next_attempt_at = decision.at
    elif record.error is not None:
        record.error = record.error.model_copy(update={"message": decision.reason})
