"""Dataverse's error bodies, ``{"error": {"code": "0x...", "message": "..."}}``, as typed hub errors.

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
    DATAVERSE_THROTTLE_CODES,
    AlreadyExistsError,
    ConflictError,
    HubError,
    NotFoundError,
    ThrottledError,
    classify_status,
)

_MAX_MESSAGE = 500


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
    if status == 429 or error.code.lower() in DATAVERSE_THROTTLE_CODES:
        return ThrottledError(message, context=context, retry_after=retry_after)
    if status == 404:
        return NotFoundError(message, context=context)
    if status == 412:
        kind = AlreadyExistsError if create_only else ConflictError
        return kind(message, context=context)
    return HubError(
        message, error_class=classify_status(status, error.code), context=context, retry_after=retry_after
    )
