"""Errors as ``application/problem+json`` (RFC 9457), the one error shape every ``/api/v1`` answer uses.

A problem names its kind (``type``), says what happened in words a Power
Automate maker can act on (``detail``) and carries the correlation id an admin
searches for in Application Insights. Stack traces and secrets never appear:
details are written here or passed through ``redact``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

from shared.api.http import ApiResponse
from shared.redaction import redact

PROBLEM_TYPE = "application/problem+json"
_TYPE_PREFIX = "urn:towne-park:hub:problem:"
_TITLES = {
    400: "The request is not valid",
    401: "Sign-in required",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "The request body is too large",
    415: "Unsupported media type",
    429: "Too many requests",
    500: "The hub failed",
    503: "A dependency is unavailable",
}


class FieldError(BaseModel):
    """One input that was refused: where it was (``query.siteId``, ``body.mode``) and why."""

    model_config = ConfigDict(extra="forbid")

    field: str = Field(description="Where the refused input was: query.siteId, body.mode, path.stream.")
    message: str = Field(description="Why it was refused, in words a maker can act on.")


class Problem(BaseModel):
    """RFC 9457 problem details, with the hub's correlation id and, for 400, each refused field."""

    model_config = ConfigDict(alias_generator=to_camel, serialize_by_alias=True, validate_by_name=True)

    type: str = Field(description="A URI naming the kind of problem.")
    title: str = Field(description="A short summary of the kind of problem.")
    status: int = Field(description="The HTTP status code.")
    detail: str = Field(description="What went wrong with this request, and how to fix it.")
    instance: str = Field(description="The path of the request.")
    correlation_id: str = Field(description="Quote this id to an admin; it finds the call in the logs.")
    errors: list[FieldError] | None = Field(None, description="Each refused input (400 only).")


class ProblemError(Exception):
    """Raised by a handler to answer with a problem; ``kind`` is a short slug such as ``run-not-found``."""

    def __init__(
        self,
        status: int,
        kind: str,
        detail: str,
        *,
        errors: Sequence[FieldError] = (),
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.kind = kind
        self.detail = redact(detail)
        self.errors = list(errors)
        self.headers = dict(headers or {})


def problem_response(problem: ProblemError, instance: str, correlation_id: str) -> ApiResponse:
    body = Problem(
        type=_TYPE_PREFIX + problem.kind,
        title=_TITLES.get(problem.status, "Request failed"),
        status=problem.status,
        detail=problem.detail,
        instance=instance,
        correlation_id=correlation_id,
        errors=problem.errors or None,
    )
    return ApiResponse(
        problem.status,
        orjson.dumps(body.model_dump(mode="json", exclude_none=True)),
        problem.headers,
        PROBLEM_TYPE,
    )


def validation_problem(error: ValidationError, where: str) -> ProblemError:
    """A 400 naming every refused field; the refused values are left out, as they may be secrets."""
    errors = []
    for item in error.errors(include_input=False, include_url=False, include_context=False):
        path = ".".join(str(part) for part in item["loc"])
        errors.append(FieldError(field=f"{where}.{path}" if path else where, message=item["msg"]))
    fields = ", ".join(sorted({error.field for error in errors}))
    return ProblemError(400, "validation", f"Some inputs were refused: {fields}.", errors=errors)
