"""One ``/api/v1`` call from start to end: identify, authorise, rate-limit, validate, handle, audit, answer.

The handler is the operation's own (``operations.py``); this module is the
pipeline every operation goes through. Every answer that is not a success is
a problem document (``problems.py``); an unexpected failure is logged with its
correlation id and answered without its stack trace. Every state-changing
call is audited, whatever its result.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from shared.api.audit import AuditEntry, AuditLog
from shared.api.bodies import checked_body
from shared.api.callers import BearerTokens, identify, require
from shared.api.calls import ApiServices, Call
from shared.api.http import ApiRequest, ApiResponse
from shared.api.operations import Operation
from shared.api.problems import ProblemError, problem_response, validation_problem
from shared.api.rate_limit import RateLimiter
from shared.api.roles import ANONYMOUS, Caller
from shared.errors import ErrorClass, classify_exception
from shared.telemetry import meters, names
from shared.telemetry.dimensions import Dimension
from shared.telemetry.spans import span

log = logging.getLogger(__name__)
Model = TypeVar("Model", bound=BaseModel)
_CORRELATION = re.compile(r"^[A-Za-z0-9._:-]{1,100}$")
_UNAVAILABLE_RETRY_SECONDS = 30


class HubApi:
    """The request pipeline over the API's services; ``handle`` is all the triggers call."""

    def __init__(
        self,
        services: ApiServices,
        audit: AuditLog,
        limiter: RateLimiter,
        tokens: BearerTokens | None,
        max_body_bytes: int,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.services = services
        self.audit = audit
        self._limiter = limiter
        self._tokens = tokens
        self._max_body_bytes = max_body_bytes
        self._now = now

    def handle(self, operation: Operation, request: ApiRequest) -> ApiResponse:
        """Answer the call, in a span carrying its operation and correlation id, and count it."""
        correlation_id = _correlation_id(request)
        started = time.monotonic()
        with span(
            names.SPAN_API_CALL,
            {names.OPERATION: operation.operation_id, names.CORRELATION_ID: correlation_id},
        ) as current:
            response = self._answer(operation, request, correlation_id)
            current.set_attribute(names.HTTP_STATUS, response.status)
        dimensions: dict[str, Dimension] = {
            names.OPERATION: operation.operation_id,
            names.HTTP_STATUS: response.status,
        }
        meters.record(names.API_REQUESTS, 1, dimensions)
        meters.record(names.API_DURATION, time.monotonic() - started, dimensions)
        return response.with_headers(**{"x-correlation-id": correlation_id})

    def _answer(self, operation: Operation, request: ApiRequest, correlation_id: str) -> ApiResponse:
        caller = ANONYMOUS
        try:
            caller = self._authorise(operation, request)
            call = _validated(operation, request, caller, self._max_body_bytes)
            response = operation.handler(self.services, call)
        except ProblemError as problem:
            response = problem_response(problem, request.path, correlation_id)
        except Exception as error:  # noqa: BLE001 - answered as a problem, never with the trace
            response = problem_response(_unexpected(error, correlation_id), request.path, correlation_id)
        if operation.changes_state:
            self._audit(operation, request, caller, response.status, correlation_id)
        return response

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
            log.exception(
                "Could not write the audit entry: %s called %s on %s (%d, correlation %s)",
                entry.who,
                entry.action,
                entry.target,
                entry.status,
                entry.correlation_id,
            )


def _validated(operation: Operation, request: ApiRequest, caller: Caller, max_body_bytes: int) -> Call:
    path = _parse(operation.path, dict(request.route), "path")
    query = _parse(operation.query, request.app_query, "query")
    body = (
        None if operation.body is None else _parse_body(operation.body, checked_body(request, max_body_bytes))
    )
    return Call(request, caller, path, query, body)


def _parse(model: type[Model] | None, values: Mapping[str, str], where: str) -> Model | None:
    if model is None:
        return None
    try:
        return model.model_validate(dict(values))
    except ValidationError as error:
        raise validation_problem(error, where) from None


def _parse_body(model: type[Model], body: bytes) -> Model:
    """Strict JSON: a string is not a number here, nor a number a string, as the document types them."""
    try:
        return model.model_validate_json(body or b"{}", strict=True)
    except ValidationError as error:
        raise validation_problem(error, "body") from None


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
