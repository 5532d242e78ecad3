"""GP postings end to end: a request is recorded and queued, then its statement or statistics go to GP.

``request`` is what the API and the sweep call: it records the request and
publishes it on the ``gp-postings`` queue (message id = request id). ``process``
is what the queue's trigger calls: it reads the statement from Dataverse (or
the month's statistics from the EDW), builds the documents by today's rules,
posts each with ``GpPoster`` and writes the outcome to the record.

Redelivery is safe by construction: ``GpPoster`` reports a document GP already
accepted as a duplicate and never sends it again, so a message delivered twice,
or a dead letter resubmitted, posts nothing twice. A transient failure (GP or
Dataverse unreachable) is raised after the record notes it, so Service Bus
delivers the message again. A request whose record already succeeded is not
worked again.

After a statement, each invoice GP accepted gets its GP document number and
batch (``bs_gpdocumentnumber``, ``bs_gpbatchid``), which the payment-status
sync finds invoices by. DOMAIN.md does not say what status the flow writes on
``bs_emailgenerationprocess`` after posting, so the hub writes none there.
After a statistics month, ``bs_unitaccountbatchprocess`` rows of that period
get the flow's statuses: InProgress, then Completed or Failed.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime

from opentelemetry.trace import Status, StatusCode
from pydantic import ValidationError

from shared.connectors.dataverse.client import DataverseClient
from shared.connectors.great_plains.documents import DocumentRefusedError, GpDocument, GpMap
from shared.errors import ErrorClass, HubError, classify_exception
from shared.pipeline.delivery import DeadLetter, Decision, Delivery, Redeliveries, RetryLater
from shared.platform.service_bus import ServiceBus, model_message
from shared.redaction import redact
from shared.telemetry import dimensions, meters, names
from shared.telemetry.spans import continued, span
from shared.workflows.gp_posting.billing import BatchIdStyle, statement_postings
from shared.workflows.gp_posting.poster import GpPoster, PostingResult, PostingStatus
from shared.workflows.gp_posting.requests import (
    DocumentOutcome,
    PostingRequest,
    PostingRequestMessage,
    PostingRequestStore,
    PostingSubject,
    RequestStatus,
    new_request_id,
)
from shared.workflows.gp_posting.statements import StatementReader, StatementRefusedError
from shared.workflows.gp_posting.statistics import InactiveStatisticsError, statistics_journals
from shared.workflows.gp_posting.unit_statistics import UnitStatisticsSource

log = logging.getLogger(__name__)

UNIT_BATCH_PROCESSES = "bs_unitaccountbatchprocesses"
UNIT_BATCH_ID = "bs_unitaccountbatchprocessid"
UNIT_BATCH_STATUS = "bs_status"  # unconfirmed column name; the values are the flow's (DOMAIN.md §3 B)
UNIT_BATCH_IN_PROGRESS = 126840000
UNIT_BATCH_COMPLETED = 126840001
UNIT_BATCH_FAILED = 126840002
_ACCEPTED = (PostingStatus.POSTED, PostingStatus.DUPLICATE)


class GpPostings:
    """Requests in, GP documents out; one instance per worker process."""

    def __init__(
        self,
        requests: PostingRequestStore,
        bus: ServiceBus,
        queue: str,
        poster: GpPoster,
        statements: StatementReader,
        dataverse: DataverseClient,
        statistics: UnitStatisticsSource | None,
        redeliveries: Redeliveries,
        batch_id_style: BatchIdStyle = BatchIdStyle.TODAY,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.requests = requests
        self._redeliveries = redeliveries
        self._bus = bus
        self._queue = queue
        self._poster = poster
        self._statements = statements
        self._dataverse = dataverse
        self._statistics = statistics
        self._style = batch_id_style
        self._now = now

    def request(
        self,
        subject: PostingSubject,
        *,
        trigger: str = "api",
        requested_by: str = "",
        request_id: str | None = None,
        replace_finished: bool = True,
    ) -> tuple[PostingRequest, bool]:
        """Record and queue a request, or give back the subject's standing one: (request, newly queued?).

        A standing request with the same id that is still queued is published
        again: a run that recorded it and stopped before publishing is healed
        by the next one (processing the same id twice is harmless).
        """
        now = self._now()
        wanted = PostingRequest(
            id=request_id or new_request_id(now),
            subject=subject,
            trigger=trigger if trigger in ("sweep", "event") else "api",
            requested_by=requested_by,
            created_at=now,
            updated_at=now,
        )
        standing, created = self.requests.claim(wanted, replace_finished=replace_finished)
        if created or (standing.id == wanted.id and standing.status == "queued"):
            try:
                self.publish(standing)
            except Exception as error:
                if created:
                    why = f"not queued: {redact(str(error))}"
                    self.requests.update(standing.id, lambda r: _finished(r, "failed", why))
                raise
        return standing, created

    def publish(self, request: PostingRequest) -> None:
        """Send the request's message (again): processing one request twice posts nothing twice."""
        self._bus.publish(
            self._queue,
            model_message(
                PostingRequestMessage(request_id=request.id, subject=request.subject),
                message_id=request.id,
                subject="gp-posting",
                correlation_id=request.id,
                properties={"request_id": request.id, "subject": request.subject.index_name},
            ),
        )

    def overdue(self, older_than: datetime) -> list[str]:
        """Unfinished requests untouched since ``older_than`` (a retrying one: due since then)."""
        found = []
        for request_id in self.requests.active_ids():
            request = self.requests.get(request_id)
            if request is None or not request.active:
                continue
            last = request.next_attempt_at if request.status == "retrying" else request.updated_at
            if last is None or last < older_than:
                found.append(request_id)
        return found

    def republish(self, request_id: str) -> None:
        request = self.requests.get(request_id)
        if request is not None and request.active:
            self.publish(request)

    def process(self, message: PostingRequestMessage) -> PostingRequest:
        """Do the request's work; raises when a later delivery may finish it (GP or Dataverse unreachable)."""
        current = self.requests.get(message.request_id)
        if current is None:
            now = self._now()
            current, _ = self.requests.claim(
                PostingRequest(
                    id=message.request_id, subject=message.subject, created_at=now, updated_at=now
                ),
                replace_finished=True,
            )
        if current.status in ("succeeded", "refused"):
            log.info("GP posting request %s is %s already; nothing to do", current.id, current.status)
            return current
        self.requests.update(current.id, _started)
        try:
            if message.subject.statement_id is not None:
                return self._post_statement(current.id, message.subject.statement_id)
            return self._post_statistics(current.id, str(message.subject.unit_statistics_period))
        except Exception as error:
            why = redact(str(error))
            self.requests.update(current.id, lambda r: r.model_copy(update={"last_error": why}))
            raise

    def handle(self, delivery: Delivery) -> PostingRequest | None:
        """The ``gp-postings`` trigger's work: post, or settle the failure (retry later, or set aside).

        It runs in the trace of whoever asked (the API call, or the sweep).
        """
        about = {names.QUEUE: delivery.queue, names.CORRELATION_ID: delivery.correlation_id}
        with continued(delivery.application_properties), span(names.SPAN_GP_POSTING, about) as current:
            try:
                message = PostingRequestMessage.model_validate_json(delivery.body)
            except ValidationError as error:
                reason = f"not a GP posting request: {redact(str(error))}"
                self._redeliveries.carry_out(delivery, DeadLetter(ErrorClass.BAD_RECORD, reason))
                return None
            current.set_attribute(names.GP_REQUEST_ID, message.request_id)
            with dimensions.bound({names.GP_REQUEST_ID: message.request_id}):
                settled = self._settle(delivery, message)
            current.set_attributes(
                {
                    names.OUTCOME: settled.status,
                    names.DOCUMENTS: len(settled.documents),
                    names.GP_COMPANY: ",".join(sorted({d.company for d in settled.documents})),
                }
            )
            if settled.status in ("failed", "dead_lettered", "refused", "partially_failed"):
                current.set_status(
                    Status(StatusCode.ERROR, settled.last_error or "; ".join(settled.refusals))
                )
            return settled

    def _settle(self, delivery: Delivery, message: PostingRequestMessage) -> PostingRequest:
        try:
            return self.process(message)
        except Exception as error:  # noqa: BLE001 - settled below as the error table says
            decision = self._redeliveries.decide(
                delivery, classify_exception(error), str(error), getattr(error, "retry_after", None)
            )
            settled = self.requests.update(
                message.request_id, functools.partial(_after_failure, decision=decision)
            )
            self._redeliveries.carry_out(delivery, decision)
            return settled

    def _post_statement(self, request_id: str, statement_id: str) -> PostingRequest:
        try:
            statement = self._statements.read(statement_id)
        except StatementRefusedError as refused:
            reasons = [refused.reason]
            return self.requests.update(request_id, lambda r: _refused(r, reasons))
        documents: list[GpDocument] = []
        refusals: list[str] = []
        for part in statement.parts:
            postings = statement_postings(part, self._style)
            documents.extend(postings.documents)
            refusals.extend(_reasons(postings.refused))
        outcomes = self._post(request_id, documents)
        for document, result in outcomes:
            invoice_id = statement.invoice_ids.get(document.document_number)
            if invoice_id is not None and document.map_id is not GpMap.JOURNAL and result.status in _ACCEPTED:
                self._statements.record_posted(invoice_id, document.document_number, document.batch_id)
        return self.requests.update(request_id, lambda r: _settled(r, outcomes, refusals))

    def _post_statistics(self, request_id: str, period: str) -> PostingRequest:
        if self._statistics is None:
            raise HubError(
                "unit statistics need the EDW (EDW_SQL_URL) and it is not configured",
                error_class=ErrorClass.CONFIG,
            )
        month = date.fromisoformat(f"{period}-01")
        self._mark_unit_batches(period, UNIT_BATCH_IN_PROGRESS)
        try:
            journals = statistics_journals(month, self._statistics.month(month))
        except InactiveStatisticsError as inactive:
            self._mark_unit_batches(period, UNIT_BATCH_FAILED)
            reasons, report = [str(inactive)], inactive.report()
            return self.requests.update(
                request_id, lambda r: _refused(r, reasons).model_copy(update={"report": report})
            )
        if not journals:
            self._mark_unit_batches(period, UNIT_BATCH_FAILED)
            return self.requests.update(
                request_id, lambda r: _refused(r, [f"no unit statistics for {period}"])
            )
        outcomes = self._post(request_id, journals)
        done = self.requests.update(request_id, lambda r: _settled(r, outcomes, []))
        self._mark_unit_batches(
            period, UNIT_BATCH_COMPLETED if done.status == "succeeded" else UNIT_BATCH_FAILED
        )
        return done

    def _post(self, request_id: str, documents: list[GpDocument]) -> list[tuple[GpDocument, PostingResult]]:
        """Post in order; each result is written to the record as it comes, so a redelivery shows progress."""
        outcomes = []
        for document in documents:
            result = self._poster.post(document)
            _count(document, result)
            outcomes.append((document, result))
            self.requests.update(request_id, functools.partial(_noted, document=document, result=result))
        return outcomes

    def _mark_unit_batches(self, period: str, status: int) -> None:
        rows = self._dataverse.query(
            UNIT_BATCH_PROCESSES,
            (UNIT_BATCH_ID, UNIT_BATCH_STATUS),
            f"bs_period eq '{period}' and {UNIT_BATCH_STATUS} ne {UNIT_BATCH_COMPLETED}",
        )
        for row in list(rows):
            self._dataverse.upsert(
                UNIT_BATCH_PROCESSES,
                {UNIT_BATCH_ID: row[UNIT_BATCH_ID]},
                {UNIT_BATCH_STATUS: status},
                if_match="*",
            )


def _count(document: GpDocument, result: PostingResult) -> None:
    """The document and its amount in the GP metrics, by what GP made of it (unit statistics count no money)."""
    about = {names.OUTCOME: result.status.value, names.GP_COMPANY: document.company}
    meters.record(names.GP_DOCUMENTS, 1, about)
    if not document.statistical:
        meters.record(names.GP_AMOUNT, float(document.debits), about)


def _reasons(refused: Iterable[DocumentRefusedError]) -> list[str]:
    return [f"{refusal.document_number}: {refusal.reason}" for refusal in refused]


def _started(request: PostingRequest) -> PostingRequest:
    return request.model_copy(
        update={"status": "running", "attempts": request.attempts + 1, "next_attempt_at": None}
    )


def _finished(request: PostingRequest, status: RequestStatus, error: str | None = None) -> PostingRequest:
    return request.model_copy(update={"status": status, "last_error": error})


def _after_failure(request: PostingRequest, decision: Decision) -> PostingRequest:
    if isinstance(decision, RetryLater):
        return request.model_copy(update={"status": "retrying", "next_attempt_at": decision.at})
    return request.model_copy(
        update={"status": "dead_lettered", "last_error": decision.reason, "next_attempt_at": None}
    )


def _refused(request: PostingRequest, reasons: list[str]) -> PostingRequest:
    return request.model_copy(update={"status": "refused", "refusals": reasons, "last_error": None})


def _outcome(document: GpDocument, result: PostingResult) -> DocumentOutcome:
    return DocumentOutcome(
        key=result.key,
        document_number=result.document_number,
        map=document.map_id.value,
        company=document.company,
        batch_id=document.batch_id,
        status=result.status.value,
        message=result.message,
    )


def _noted(request: PostingRequest, document: GpDocument, result: PostingResult) -> PostingRequest:
    """Add or replace the document's outcome; "posted" by an earlier delivery stays "posted"."""
    outcome = _outcome(document, result)
    documents = []
    for earlier in request.documents:
        if earlier.key != outcome.key:
            documents.append(earlier)
        elif earlier.status == "posted" and outcome.status == "duplicate":
            outcome = earlier
    documents.append(outcome)
    return request.model_copy(update={"documents": documents})


def _settled(
    request: PostingRequest, outcomes: list[tuple[GpDocument, PostingResult]], refusals: list[str]
) -> PostingRequest:
    """The request's final status; each document's outcome is on the record already (``_post`` noted it).

    A document refused before GP or rejected by it is a refusal with GP's or
    the hub's reason: nothing accepted and something refused is ``refused``.
    """
    failed = [(document, result) for document, result in outcomes if result.status not in _ACCEPTED]
    reasons = [
        *refusals,
        *(f"{doc.company} {result.document_number}: {result.message}" for doc, result in failed),
    ]
    status: RequestStatus
    if not reasons:
        status = "succeeded"
    elif len(failed) < len(outcomes):
        status = "partially_failed"
    else:
        status = "refused"
    return request.model_copy(update={"status": status, "refusals": reasons, "last_error": None})
