"""``/v1/gp/postings``: queueing a billing statement or a month of unit statistics for GP, and its outcome."""

from __future__ import annotations

from typing import TYPE_CHECKING

from shared.api import models
from shared.api.answers import accepted, ok
from shared.api.calls import ApiServices, Call
from shared.api.http import ApiResponse
from shared.api.problems import ProblemError
from shared.workflows.gp_posting.requests import PostingSubject

if TYPE_CHECKING:
    from shared.workflows.gp_posting.requests import PostingRequest
    from shared.workflows.gp_posting.workflow import GpPostings


def start_gp_posting(services: ApiServices, call: Call) -> ApiResponse:
    body: models.GpPostingStart = call.body
    subject = PostingSubject(
        statement_id=body.statement_id, unit_statistics_period=body.unit_statistics_period
    )
    request, _ = _postings(services).request(subject, trigger="api", requested_by=call.caller.who)
    return _answer(request)


def get_gp_posting(services: ApiServices, call: Call) -> ApiResponse:
    request = _postings(services).requests.get(call.path.id)
    if request is None:
        raise ProblemError(404, "gp-posting-not-found", f"There is no GP posting '{call.path.id}'.")
    return _answer(request)


def _postings(services: ApiServices) -> GpPostings:
    if services.gp is None:
        raise ProblemError(
            503,
            "gp-not-configured",
            "GP posting is off in this environment: an admin sets GP_SMARTCONNECT_URL and GP_SQL_URL.",
        )
    return services.gp


def _answer(request: PostingRequest) -> ApiResponse:
    """202 with Location and Retry-After while the posting is queued or running, 200 once it has finished."""
    view = models.GpPosting(
        id=request.id,
        status=request.status,
        statement_id=request.subject.statement_id,
        unit_statistics_period=request.subject.unit_statistics_period,
        trigger=request.trigger,
        requested_by=request.requested_by or None,
        created_at=request.created_at,
        updated_at=request.updated_at,
        attempts=request.attempts,
        documents=[
            models.GpDocumentResult.model_validate(
                {**document.model_dump(), "message": document.message or None}
            )
            for document in request.documents
        ],
        refusals=request.refusals,
        report=request.report,
        last_error=request.last_error,
        next_attempt_at=request.next_attempt_at,
    )
    if not request.active:
        return ok(view)
    return accepted(view, f"/api/v1/gp/postings/{request.id}")
