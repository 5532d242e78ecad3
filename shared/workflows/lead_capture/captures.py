"""Lead captures: accepted by the API once, queued, and filed in Salesforce by the queue's trigger.

``accept`` checks the signature first, so an unsigned or stale request stores
nothing; then the ``Idempotency-Key`` names the capture (its SHA-256): a
create-only marker in the state container (``leads/captures/<id>.json``)
records the first request's body digest, so the same key with the same body
answers the same capture again and queues nothing, and the same key with
another body is refused (409). The capture then waits on ``LEAD_CAPTURES_QUEUE``
(message id = capture id), so an outage of Salesforce loses nothing: the
trigger's failed delivery is rescheduled as the error table says (README,
"A run's life": retries within ``RETRY_BUDGET_MINUTES``, then the dead-letter
shelf, from which an operator resubmits it). A publish that fails removes the
marker, so the caller's retry with the same key is taken as new.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import orjson
from pydantic import ValidationError

from shared.connectors.salesforce.rest import SalesforceRest
from shared.errors import ErrorClass, HubError, classify_exception
from shared.pipeline.delivery import DeadLetter, Delivery, Redeliveries
from shared.platform.blob_store import BlobStore
from shared.platform.service_bus import OutgoingMessage, ServiceBus
from shared.redaction import redact
from shared.workflows.lead_capture.lead import IdempotencyKeyReusedError, LeadSubmission
from shared.workflows.lead_capture.salesforce_leads import FiledLead, file_lead
from shared.workflows.lead_capture.signature import verify

log = logging.getLogger(__name__)
MARKERS = "leads/captures"


@dataclass(frozen=True)
class Capture:
    id: str
    repeated: bool  # this key was seen before: nothing new was queued


class LeadCaptures:
    """One instance per worker: the API's ``accept`` and the trigger's ``deliver``."""

    def __init__(
        self,
        state: BlobStore,
        bus: ServiceBus,
        queue: str,
        signing_key: Callable[[], str],
        salesforce: Callable[[], SalesforceRest | None],
        redeliveries: Callable[[], Redeliveries],
        now: Callable[[], datetime],
    ) -> None:
        self._state = state
        self._bus = bus
        self._queue = queue
        self._signing_key = signing_key
        self._salesforce = salesforce
        self._redeliveries = redeliveries
        self._now = now

    def accept(
        self,
        body: bytes,
        lead: LeadSubmission,
        idempotency_key: str,
        timestamp: str | None,
        signature: str | None,
    ) -> Capture:
        """Verify, record once and queue; raises ``SignatureRefusedError`` or ``IdempotencyKeyReusedError``."""
        verify(self._signing_key(), timestamp, signature, body, self._now().timestamp())
        capture_id = "lead-" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]
        digest = hashlib.sha256(body).hexdigest()
        marker = f"{MARKERS}/{capture_id}.json"
        if not self._state.create_marker(
            marker, {"id": capture_id, "bodySha256": digest, "receivedAt": self._now().isoformat()}
        ):
            earlier = self._state.read_json(marker)
            if earlier is not None and earlier.value.get("bodySha256") != digest:
                raise IdempotencyKeyReusedError("this Idempotency-Key was used for a different lead")
            return Capture(capture_id, repeated=True)
        message = OutgoingMessage(
            body={"captureId": capture_id, "lead": lead.model_dump(mode="json")}, message_id=capture_id
        )
        try:
            self._bus.publish(self._queue, message)
        except Exception:
            self._state.delete(marker)
            raise
        return Capture(capture_id, repeated=False)

    def deliver(self, delivery: Delivery) -> FiledLead | None:
        """The trigger's work: file the lead in Salesforce, or settle the failure as the error table says."""
        try:
            lead = LeadSubmission.model_validate(orjson.loads(delivery.body)["lead"])
        except (orjson.JSONDecodeError, KeyError, TypeError, ValidationError) as error:
            reason = f"not a lead capture: {redact(str(error))}"
            self._redeliveries().carry_out(delivery, DeadLetter(ErrorClass.BAD_RECORD, reason))
            return None
        salesforce = self._salesforce()
        try:
            if salesforce is None:
                raise HubError(
                    "lead capture needs Salesforce: set SALESFORCE_URL", error_class=ErrorClass.CONFIG
                )
            filed = file_lead(salesforce, lead)
        except Exception as error:  # noqa: BLE001 - settled below as the error table says
            redeliveries = self._redeliveries()
            decision = redeliveries.decide(
                delivery, classify_exception(error), str(error), getattr(error, "retry_after", None)
            )
            redeliveries.carry_out(delivery, decision)
            log.warning("Lead capture %s not filed yet: %s", delivery.message_id, redact(str(error)))
            return None
        log.info("Lead capture %s filed as Salesforce lead %s (%s)", delivery.message_id, filed.lead_id,
                 "created" if filed.created else "updated")  # fmt: skip
        return filed
