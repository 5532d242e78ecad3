"""What a request body must be before the API parses it: JSON, and no longer than the hub's limit.

The limit (``API_MAX_BODY_BYTES``) is checked against the declared
``Content-Length`` first, so an oversized body is refused without being
looked at, and then against the body itself, which may be longer than
declared. A body in another media type is refused rather than read as JSON
anyway: a connector always sends ``application/json``, so anything else is a
caller's mistake. An empty body needs no content type.
"""

from __future__ import annotations

from shared.api.http import JSON_TYPE, ApiRequest
from shared.api.problems import ProblemError


def checked_body(request: ApiRequest, max_bytes: int) -> bytes:
    """The body, once its declared and real lengths and its media type are what the API takes."""
    declared = request.header("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise _too_large(max_bytes)
    if len(request.body) > max_bytes:
        raise _too_large(max_bytes)
    media_type = (request.header("content-type") or "").split(";", 1)[0].strip().lower()
    if request.body and media_type != JSON_TYPE:
        shown = f"'{media_type}'" if media_type else "no Content-Type"
        raise ProblemError(
            415, "unsupported-media-type", f"The body must be {JSON_TYPE}, not {shown}; send JSON with "
            f"Content-Type: {JSON_TYPE}."
        )  # fmt: skip
    return request.body


def _too_large(max_bytes: int) -> ProblemError:
    return ProblemError(
        413, "body-too-large", f"The body is longer than the {max_bytes} bytes the hub accepts."
    )
