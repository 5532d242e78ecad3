"""Dataverse's error bodies, ``{"error": {"code": "0x...", "message": "..."}}``, as typed hub errors.

This is the Dataverse row of the hub's error table (as Airbyte's per-stream
``error_mapping``): the codes Dataverse documents, and how each refines the
class the HTTP status alone would give (``shared.errors.classify_status``).

The code is often empty (Microsoft's own examples of 404 and 412 answers carry
``"code": ""``), so the status decides first and the code refines it: a 412 on
a create-only write means the row already exists, a 412 on ``If-Match`` means
someone changed it, and a service-protection code means throttling whatever
the status.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from shared.errors import (
    AlreadyExistsError,
    ConflictError,
    ErrorClass,
    HubError,
    NotFoundError,
    ThrottledError,
    classify_status,
)

_MAX_MESSAGE = 500
# Service protection limits: number of requests, execution time, concurrent requests
# (learn.microsoft.com/power-apps/developer/data-platform/api-limits).
THROTTLE_CODES = frozenset({"0x80072322", "0x80072321", "0x80072326"})
# Missing privilege (-2147220960) and failed access check (-2147187962): the
# application user's security role, not the record, is at fault.
PRIVILEGE_CODES = frozenset({"0x80040220", "0x80048306"})
# "A validation error occurred": a column value the table does not accept.
VALIDATION_CODES = frozenset({"0x80044331"})
# "Could not find a property named ..." / "Resource not found for the segment ...": the
# request names a table or column this environment does not have, so every record would fail.
SCHEMA_CODES = frozenset({"0x80060888"})
# ExpiredVersionStamp: a delta link older than the environment keeps changes
# (ExpireChangeTrackingInDays, 7 by default; "Use change tracking to synchronize data with
# external systems", learn.microsoft.com/power-apps/developer/data-platform/use-change-tracking-synchronize-data-external-systems).
EXPIRED_VERSION_STAMP = "0x80044352"


class DeltaLinkExpiredError(HubError):
    """Dataverse no longer keeps the changes since this delta link: the reader must start a full sync."""


def classify_dataverse(status: int, error_code: str | None = None) -> ErrorClass:
    """The class of a Dataverse failure: its status, refined by the error code where that says more."""
    code = (error_code or "").lower()
    if code in THROTTLE_CODES:
        return ErrorClass.THROTTLED
    if code in PRIVILEGE_CODES:
        return ErrorClass.AUTH
    if code in SCHEMA_CODES:
        return ErrorClass.CONFIG
    by_status = classify_status(status)
    if by_status is ErrorClass.PERMANENT and code in VALIDATION_CODES:
        return ErrorClass.BAD_RECORD
    return by_status


@dataclass(frozen=True)
class ODataError:
    code: str
    message: str


def parse_odata_error(body: bytes | str | None, status: int) -> ODataError:
    """The error a response body describes; a body that is not OData JSON becomes the message."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else (body or "")
    try:
        document = json.loads(text)
    except ValueError:
        document = None
    error = document.get("error") if isinstance(document, dict) else None
    if isinstance(error, dict):
        code = error.get("code")
        message = error.get("message")
        return ODataError(
            code=code if isinstance(code, str) else "",
            message=(message if isinstance(message, str) else "")[:_MAX_MESSAGE],
        )
    return ODataError(code="", message=text.strip()[:_MAX_MESSAGE] or f"HTTP {status} with no body")


def dataverse_error(
    status: int,
    error: ODataError,
    *,
    context: Mapping[str, object],
    retry_after: float | None = None,
    create_only: bool = False,
) -> HubError:
    """The typed ``HubError`` for a Dataverse failure answer."""
    message = f"Dataverse answered HTTP {status}: {error.message}"
    if error.code:
        message += f" [{error.code}]"
    if status == 429 or error.code.lower() in THROTTLE_CODES:
        return ThrottledError(message, context=context, retry_after=retry_after)
    if error.code.lower() == EXPIRED_VERSION_STAMP:
        return DeltaLinkExpiredError(message, context=context)
    if status == 404:
        return NotFoundError(message, context=context)
    if status == 412:
        kind = AlreadyExistsError if create_only else ConflictError
        return kind(message, context=context)
    return HubError(
        message, error_class=classify_dataverse(status, error.code), context=context, retry_after=retry_after
    )
