"""``POST /v1/leads``: a web form's lead, signed, accepted once per Idempotency-Key and queued for Salesforce."""

from __future__ import annotations

from shared.api.answers import ok
from shared.api.calls import ApiServices, Call
from shared.api.http import ApiResponse
from shared.api.problems import ProblemError
from shared.workflows.lead_capture.lead import (
    MAX_KEY_LENGTH,
    IdempotencyKeyReusedError,
    LeadReceipt,
    LeadSubmission,
)
from shared.workflows.lead_capture.signature import SIGNATURE_HEADER, TIMESTAMP_HEADER, SignatureRefusedError


def capture_lead(services: ApiServices, call: Call) -> ApiResponse:
    if services.leads is None:
        raise ProblemError(
            503, "leads-not-configured", "Lead capture is off here: an admin sets SALESFORCE_URL."
        )
    key = call.request.header("idempotency-key") or ""
    if not 1 <= len(key) <= MAX_KEY_LENGTH:
        raise ProblemError(
            400,
            "idempotency-key-missing",
            f"Send an Idempotency-Key header of 1 to {MAX_KEY_LENGTH} characters.",
        )
    lead: LeadSubmission = call.body
    try:
        capture = services.leads.accept(
            call.request.body,
            lead,
            key,
            call.request.header(TIMESTAMP_HEADER),
            call.request.header(SIGNATURE_HEADER),
        )
    except SignatureRefusedError as refused:
        raise ProblemError(401, "lead-signature-refused", str(refused)) from None
    except IdempotencyKeyReusedError as reused:
        raise ProblemError(409, "idempotency-key-reused", str(reused)) from None
    return ok(LeadReceipt(id=capture.id, status="queued"), 202)
