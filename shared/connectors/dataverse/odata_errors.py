"""Dataverse's error bodies, ``{"error": {"code": "0x...", "message": "..."}}``, as typed hub errors.

This is the Dataverse row of the hub's error table (as Airbyte's per-stream
``error_mapping``): the codes Dataverse documents, and how each refines the
class the HTTP status alone would give (``shared.errors.classify_status``).

The code is often empty (Microsoft's own examples of 404 and 412 answers carry
``"code": ""``, learn.microsoft.com/power-apps/developer/data-platform/webapi/perform-conditional-operations-using-web-api),
so the status decides first and the code refines it: a 412 on a create-only
write means the row already exists, a 412 on ``If-Match`` means someone
changed it, and a service-protection code means throttling whatever the status.

A request naming a column the table does not have is a schema error: every
record would fail the same way, so it is a config failure of the stream, not a
bad record. Microsoft's examples of it carry ``"code": "0x0"``
(learn.microsoft.com/troubleshoot/power-platform/power-apps/dataverse/web-api-client-errors),
so it is known by its message, whatever the code.
"""

from __future__ import annotations

import json
import re
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


# Microsoft's messages for a property the table does not have: in $select/$filter ("Could not
# find a property named"), in a write's body ("Invalid property ... was found in entity"), and
# an @odata.bind on a lookup it does not have ("An undeclared property").
_SCHEMA_MESSAGE = re.compile(
    r"Could not find a property named|Invalid property '[^']*' was found in entity|An undeclared property"
)
# DuplicateRecordEntityKey and DuplicateRecord ("Web service error codes"): a create found a row
# holding the same key. Microsoft documents no status for them, so the code alone says "exists".
DUPLICATE_CODES = frozenset({"0x80060892", "0x80040237"})


def classify_dataverse(status: int, error_code: str | None = None, message: str = "") -> ErrorClass:
    """The class of a Dataverse failure: its status, refined by the error code or message where they say more."""
    code = (error_code or "").lower()
    if code in THROTTLE_CODES:
        return ErrorClass.THROTTLED
    if code in PRIVILEGE_CODES:
        return ErrorClass.AUTH
    if code in SCHEMA_CODES or is_schema_error(status, message):
        return ErrorClass.CONFIG
    by_status = classify_status(status)
    if by_status is ErrorClass.PERMANENT and code in VALIDATION_CODES:
        return ErrorClass.BAD_RECORD
    return by_status


def is_schema_error(status: int, message: str) -> bool:
    """Whether a 400 says the request named a column or lookup the table does not have."""
    return status == 400 and _SCHEMA_MESSAGE.search(message) is not None


def is_duplicate_key(error_code: str) -> bool:
    """Whether the code says a create found a row already holding its key values."""
    return error_code.lower() in DUPLICATE_CODES


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
    if create_only and (status == 412 or is_duplicate_key(error.code)):
        return AlreadyExistsError(message, context=context)
    if status == 412:
        return ConflictError(message, context=context)
    return HubError(
        message,
        error_class=classify_dataverse(status, error.code, error.message),
        context=context,
        retry_after=retry_after,
    )
