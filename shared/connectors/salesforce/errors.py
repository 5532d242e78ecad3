"""Salesforce's error bodies, ``[{"message": ..., "errorCode": ...}]``, as typed hub errors.

The Salesforce row of the hub's error table: the status decides first
(``shared.errors.classify_status``), the ``errorCode`` refines it
(developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/errorcodes.htm):

- ``REQUEST_LIMIT_EXCEEDED`` (403): the org's daily API limit is spent; throttled, not a refusal
  of the hub's identity;
- ``INVALID_SESSION_ID`` (401): the access token expired; the caller signs in again once;
- ``MALFORMED_QUERY``, ``INVALID_FIELD``, ``INVALID_TYPE`` (400): the hub asks for a field or object
  the org does not have, so every run would fail alike: config;
- other 4xx: the record or request is refused as sent; 5xx were retried by the HTTP layer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import httpx

from shared.errors import ErrorClass, HubError, ThrottledError, classify_status

_MAX_MESSAGE = 300
SESSION_EXPIRED = "INVALID_SESSION_ID"
LIMIT_EXCEEDED = "REQUEST_LIMIT_EXCEEDED"
_SCHEMA_CODES = frozenset(
    {"MALFORMED_QUERY", "INVALID_FIELD", "INVALID_TYPE", "INVALID_FIELD_FOR_INSERT_UPDATE"}
)


@dataclass(frozen=True)
class SalesforceErrorBody:
    code: str
    message: str


def error_body(response: httpx.Response) -> SalesforceErrorBody:
    """The first error of the body, or the status's reason when the body is not Salesforce's shape."""
    try:
        document = json.loads(response.content or b"null")
    except ValueError:
        document = None
    if isinstance(document, list) and document and isinstance(document[0], dict):
        first = document[0]
        return SalesforceErrorBody(
            str(first.get("errorCode", "")), str(first.get("message", ""))[:_MAX_MESSAGE]
        )
    return SalesforceErrorBody("", response.reason_phrase)


def classify_salesforce(status: int, code: str) -> ErrorClass:
    if code == LIMIT_EXCEEDED:
        return ErrorClass.THROTTLED
    if code in _SCHEMA_CODES:
        return ErrorClass.CONFIG
    return classify_status(status)


def salesforce_error(response: httpx.Response, operation: str) -> HubError:
    """The hub error for a failed answer; never carries the request's query text or token."""
    body = error_body(response)
    error_class = classify_salesforce(response.status_code, body.code)
    message = f"Salesforce {operation} answered HTTP {response.status_code} {body.code}: {body.message}"
    context = {
        "system": "salesforce",
        "operation": operation,
        "status": response.status_code,
        "code": body.code,
    }
    if error_class is ErrorClass.THROTTLED:
        return ThrottledError(message, context=context)
    return HubError(message, error_class=error_class, context=context)
