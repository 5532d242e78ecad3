"""One ``/api/v1`` call from start to end: identify, authorise, rate-limit, validate, handle, audit, answer.

Every answer that is not a success is a problem document (``problems.py``);
an unexpected failure is logged with its correlation id and answered without
its stack trace. Every state-changing call is audited, whatever its result.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import quote

import orjson
from pydantic import BaseModel, ValidationError

from shared.api import models
from shared.api.audit import AuditEntry, AuditLog
from shared.api.callers import ANONYMOUS, BearerTokens, Caller, identify, require
from shared.api.http import ApiRequest, ApiResponse, json_response
from shared.api.live_reads import LiveReads
from shared.api.openapi import openapi_document
from shared.api.operations import (
    GP_OPERATIONS,
    HEALTH_OPERATIONS,
    LIVE_READ_OPERATION,
    POLL_SECONDS,
    SYNC_OPERATIONS,
    Operation,
)
from shared.api.problems import ProblemError, problem_response, validation_problem
from shared.api.rate_limit import RateLimiter
from shared.api.syncs import SyncDesk
from shared.connectors.great_plains.postings import GpPostings
from shared.connectors.great_plains.requests import PostingRequest, PostingSubject
from shared.errors import ErrorClass, classify_exception
from shared.health import HealthReport
from shared.pipeline.dead_letters import DeadLetters
from shared.platform.service_bus import DeadLetter

log = logging.getLogger(__name__)
Model = TypeVar("Model", bound=BaseModel)
_CORRELATION = re.compile(r"^[A-Za-z0-9._:-]{1,100}$")
_UNAVAILABLE_RETRY_SECONDS = 30
_HOST_PARAMETERS = ("code",)  # the function key, which the Functions host reads from the query
OPERATIONS: Mapping[str, Operation] = {
    operation.operation_id: operation
    for operation in (*SYNC_OPERATIONS, *GP_OPERATIONS, LIVE_READ_OPERATION, *HEALTH_OPERATIONS)
}


@dataclass(frozen=True)
class Call:
    """A request that passed identification and validation, ready for its handler."""

    request: ApiRequest
    caller: Caller
    path: Any
    query: Any
    body: Any


class HubApi:
    """The API's use cases over the hub's clients; ``handle`` is all the triggers call."""

    def __init__(
        self,
        syncs: SyncDesk,
        dead_letters: DeadLetters,
        dead_letter_queues: Sequence[str],
        live_reads: LiveReads,
        readiness: Callable[[], tuple[HealthReport, dict[str, str]]],
        audit: AuditLog,
        limiter: RateLimiter,
        tokens: BearerTokens | None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        gp: GpPostings | None = None,
    ) -> None:
        self.syncs = syncs
        self._dead_letters = dead_letters
        self._queues = tuple(dead_letter_queues)
        self.live_reads = live_reads
        self._readiness = readiness
        self.audit = audit
        self._limiter = limiter
        self._tokens = tokens
        self._now = now
        self._gp = gp
        self._handlers: dict[str, Callable[[Call], ApiResponse]] = {
            "ListSyncs": lambda call: _ok(self.syncs.list()),
            "StartSync": self._start_sync,
            "ListRuns": self._list_runs,
            "GetRun": self._get_run,
            "ReplayRun": lambda call: _run_accepted(self.syncs.replay(call.path.id, call.caller.who)),
            "ListDeadLetters": self._list_dead_letters,
            "ResubmitDeadLetter": lambda call: self._take(call, self._dead_letters.resubmit),
            "DiscardDeadLetter": lambda call: self._take(call, self._dead_letters.discard),
            "StartGpPosting": self._start_gp_posting,
            "GetGpPosting": self._get_gp_posting,
            "LiveRead": self._live_read,
            "GetReadiness": self._get_readiness,
            "GetOpenApi": self._get_openapi,
        }

    def handle(self, operation_id: str, request: ApiRequest) -> ApiResponse:
        operation = OPERATIONS[operation_id]
        correlation_id = _correlation_id(request)
        caller = ANONYMOUS
        try:
            caller = self._authorise(operation, request)
            response = self._handlers[operation_id](self._validated(operation, request, caller))
        except ProblemError as problem:
            response = problem_response(problem, request.path, correlation_id)
        except Exception as error:  # noqa: BLE001 - answered as a problem, never with the trace
            response = problem_response(_unexpected(error, correlation_id), request.path, correlation_id)
        if operation.changes_state:
            self._audit(operation, request, caller, response.status, correlation_id)
        return response.with_headers(**{"x-correlation-id": correlation_id})

    def _authorise(self, operation: Operation, request: ApiRequest) -> Caller:
        if operation.role is None:
            return ANONYMOUS
        caller = identify(request, self._tokens)
        require(caller, operation.role)
        wait = self._limiter.admit(caller.who)
        if wait is not None:
            raise ProblemError(
                429, "rate-limited", f"Too many calls from this caller; try again in {wait} s.",
                headers={"Retry-After": str(wait)},
            )  # fmt: skip
        return caller

    @staticmethod
    def _validated(operation: Operation, request: ApiRequest, caller: Caller) -> Call:
        query = {name: value for name, value in request.query.items() if name not in _HOST_PARAMETERS}
        return Call(
            request,
            caller,
            _parse(operation.path, dict(request.route), "path"),
            _parse(operation.query, query, "query"),
            _parse_body(operation.body, request.body),
        )

    def _start_sync(self, call: Call) -> ApiResponse:
        correlation_id = call.request.header("x-correlation-id")
        return _run_accepted(self.syncs.start(call.path.stream, call.body, call.caller.who, correlation_id))

    def _get_run(self, call: Call) -> ApiResponse:
        run = self.syncs.runs.get(call.path.id)
        if run is None:
            raise ProblemError(404, "run-not-found", f"There is no run '{call.path.id}'.")
        if run.status in ("queued", "running", "retrying", "loading"):
            return _run_accepted(run)
        return _ok(run)

    def _list_runs(self, call: Call) -> ApiResponse:
        query: models.RunQuery = call.query
        runs, token = self.syncs.runs.page(query)
        next_link = None
        if token is not None:
            params = {**query.model_dump(mode="json", exclude_none=True), "continuationToken": token}
            next_link = "/api/v1/runs?" + "&".join(
                f"{name}={_quote(str(value))}" for name, value in params.items()
            )
        return _ok(models.RunPage(value=runs, continuation_token=token, next_link=next_link))

    def _gp_postings(self) -> GpPostings:
        if self._gp is None:
            raise ProblemError(
                503,
                "gp-not-configured",
                "GP posting is off in this environment: an admin sets GP_SMARTCONNECT_URL and GP_SQL_URL.",
            )
        return self._gp

    def _start_gp_posting(self, call: Call) -> ApiResponse:
        body: models.GpPostingStart = call.body
        subject = PostingSubject(
            statement_id=body.statement_id, unit_statistics_period=body.unit_statistics_period
        )
        request, _ = self._gp_postings().request(subject, trigger="api", requested_by=call.caller.who)
        return _gp_posting(request)

    def _get_gp_posting(self, call: Call) -> ApiResponse:
        request = self._gp_postings().requests.get(call.path.id)
        if request is None:
            raise ProblemError(404, "gp-posting-not-found", f"There is no GP posting '{call.path.id}'.")
        return _gp_posting(request)

    def _list_dead_letters(self, call: Call) -> ApiResponse:
        queue = self._queue(call.path.queue)
        query: models.DeadLetterQuery = call.query
        found, token = self._dead_letters.page(queue, query.top, query.continuation_token)
        next_link = (
            f"/api/v1/deadletters/{queue}?top={query.top}&continuationToken={token}" if token else None
        )
        page = models.DeadLetterPage(
            value=[_dead_letter_view(letter) for letter in found],
            continuation_token=token,
            next_link=next_link,
        )
        return _ok(page)

    def _take(self, call: Call, take: Callable[[str, str], DeadLetter | None]) -> ApiResponse:
        queue = self._queue(call.path.queue)
        taken = take(queue, call.path.message_id)
        if taken is None:
            raise ProblemError(
                404, "dead-letter-not-found", f"No dead letter '{call.path.message_id}' on '{queue}'."
            )
        return _ok(_dead_letter_view(taken))

    def _queue(self, queue: str) -> str:
        if queue not in self._queues:
            known = ", ".join(self._queues)
            raise ProblemError(404, "queue-not-found", f"'{queue}' is not one of the hub's queues ({known}).")
        return queue

    def _live_read(self, call: Call) -> ApiResponse:
        query = {name: value for name, value in call.request.query.items() if name not in _HOST_PARAMETERS}
        return self.live_reads.answer(call.path.name, query, call.request.header("if-none-match"))

    def _get_readiness(self, call: Call) -> ApiResponse:
        report, circuits = self._readiness()
        raw = report.to_json()
        ready = report.ok and all(state != "open" for state in circuits.values())
        view = models.Readiness(
            status="ok" if ready else "down", dependencies=raw["dependencies"], circuits=circuits
        )
        return _ok(view, 200 if ready else 503)

    def _get_openapi(self, call: Call) -> ApiResponse:
        document = openapi_document(list(self.live_reads.reads.values()), call.request.header("host"))
        return json_response(200, document)

    def _audit(
        self, operation: Operation, request: ApiRequest, caller: Caller, status: int, correlation_id: str
    ) -> None:
        entry = AuditEntry(
            self._now(), caller.who, operation.operation_id, request.path, status, correlation_id
        )
        try:
            self.audit.record(entry)
        except Exception:
            # The call's effect has happened; failing its answer would invite a repeat.
            log.exception("Could not write the audit entry %s", entry.to_json())


def _parse(model: type[Model] | None, values: Mapping[str, str], where: str) -> Model | None:
    if model is None:
        return None
    try:
        return model.model_validate(dict(values))
    except ValidationError as error:
        raise validation_problem(error, where) from None


def _parse_body(model: type[Model] | None, body: bytes) -> Model | None:
    if model is None:
        return None
    try:
        return model.model_validate_json(body or b"{}")
    except ValidationError as error:
        raise validation_problem(error, "body") from None


def _ok(model: BaseModel, status: int = 200) -> ApiResponse:
    return ApiResponse(status, orjson.dumps(model.model_dump(mode="json", exclude_none=True)))


def _accepted(view: BaseModel, location: str) -> ApiResponse:
    """202 with the status URL to poll and how long to wait: the pattern every long-running call follows."""
    return _ok(view, 202).with_headers(Location=location, **{"Retry-After": str(POLL_SECONDS)})


def _run_accepted(run: models.Run) -> ApiResponse:
    return _accepted(run, f"/api/v1/runs/{run.id}")


def _gp_posting(request: PostingRequest) -> ApiResponse:
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
        return _ok(view)
    return _accepted(view, f"/api/v1/gp/postings/{request.id}")


def _dead_letter_view(letter: DeadLetter) -> models.DeadLetter:
    return models.DeadLetter(
        message_id=letter.message_id,
        sequence_number=letter.sequence_number,
        enqueued_time=letter.enqueued_time,
        delivery_count=letter.delivery_count,
        reason=letter.reason,
        description=letter.description,
        correlation_id=letter.correlation_id,
        subject=letter.subject,
        properties=letter.application_properties,
        body=letter.body,
    )


def _unexpected(error: Exception, correlation_id: str) -> ProblemError:
    error_class = classify_exception(error)
    log.error("API call %s failed (%s)", correlation_id, error_class.value, exc_info=error)
    if error_class in (ErrorClass.TRANSIENT, ErrorClass.THROTTLED):
        return ProblemError(
            503, "dependency-unavailable", "A service the hub depends on did not answer; try again shortly.",
            headers={"Retry-After": str(_UNAVAILABLE_RETRY_SECONDS)},
        )  # fmt: skip
    return ProblemError(
        500, "internal", f"The hub failed ({error_class.value}); quote the correlation id to an admin."
    )


def _correlation_id(request: ApiRequest) -> str:
    given = request.header("x-correlation-id") or request.header("x-ms-client-tracking-id")
    return given if given and _CORRELATION.match(given) else str(uuid.uuid4())


def _quote(value: str) -> str:
    return quote(value, safe="")
