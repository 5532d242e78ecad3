"""Every failure the hub meets, classified once; the class decides retry, dead-letter, quarantine and alert.

Retry policies, the Service Bus triggers (abandon or dead-letter), the
quarantine and the alerts all read ``ERROR_ACTIONS`` instead of deciding for
themselves, so one change here changes the hub's behaviour everywhere.
``classify_status`` and ``classify_exception`` turn what a library or a service
said into one ``ErrorClass``; ``HubError`` carries that class, where it happened
and, for throttling, how long the service asked us to wait.

A ``HubError``'s message and context are scrubbed of credentials when the error
is made: bearer tokens, JWTs, ``Authorization`` headers, client secrets,
passwords and connection-string keys never reach a log, a run record or a
dead-letter reason.
"""

from __future__ import annotations

import re
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

import httpx
from azure.core import exceptions as azure_errors
from azure.servicebus import exceptions as service_bus_errors
from pydantic import ValidationError

from shared.platform.secrets import SecretNotFoundError
from shared.settings import SettingsError


class ErrorClass(StrEnum):
    CONFIG = "config"
    AUTH = "auth"
    TRANSIENT = "transient"
    THROTTLED = "throttled"
    PERMANENT = "permanent"
    BAD_RECORD = "bad_record"


@dataclass(frozen=True)
class ErrorAction:
    """What the hub does about one class of failure.

    ``retry``: try again in-process, within the retry budget. ``redeliver``: when
    retries run out, abandon the Service Bus message so it comes back (Service Bus
    dead-letters it after its max delivery count). ``dead_letter``: dead-letter the
    message at once, because delivering it again cannot succeed. ``quarantine``: set
    the one record aside with its reason and load the rest. ``alert``: an operator
    has to act.
    """

    retry: bool
    redeliver: bool
    dead_letter: bool
    quarantine: bool
    alert: bool
    meaning: str


ERROR_ACTIONS: Mapping[ErrorClass, ErrorAction] = MappingProxyType(
    {
        ErrorClass.CONFIG: ErrorAction(
            retry=False,
            redeliver=False,
            dead_letter=True,
            quarantine=False,
            alert=True,
            meaning="a setting, URL, certificate or secret is wrong; fix it, then resubmit",
        ),
        ErrorClass.AUTH: ErrorAction(
            retry=False,
            redeliver=False,
            dead_letter=True,
            quarantine=False,
            alert=True,
            meaning="the hub's identity was refused; check the app registration, secret and security role",
        ),
        ErrorClass.TRANSIENT: ErrorAction(
            retry=True,
            redeliver=True,
            dead_letter=False,
            quarantine=False,
            alert=False,
            meaning="the other side failed for a moment; trying again later should work",
        ),
        ErrorClass.THROTTLED: ErrorAction(
            retry=True,
            redeliver=True,
            dead_letter=False,
            quarantine=False,
            alert=False,
            meaning="the other side asked us to slow down; wait as long as it says",
        ),
        ErrorClass.PERMANENT: ErrorAction(
            retry=False,
            redeliver=False,
            dead_letter=True,
            quarantine=False,
            alert=True,
            meaning="the request can never succeed as sent; someone has to look at it",
        ),
        ErrorClass.BAD_RECORD: ErrorAction(
            retry=False,
            redeliver=False,
            dead_letter=False,
            quarantine=True,
            alert=False,
            meaning="one record is invalid; quarantine it with its reason and load the rest",
        ),
    }
)

# Dataverse service protection limits: number of requests, execution time,
# concurrent requests (learn.microsoft.com/power-apps/developer/data-platform/api-limits).
DATAVERSE_THROTTLE_CODES = frozenset({"0x80072322", "0x80072321", "0x80072326"})
# Missing privilege (-2147220960) and failed access check (-2147187962): the
# application user's security role, not the record, is at fault.
DATAVERSE_PRIVILEGE_CODES = frozenset({"0x80040220", "0x80048306"})
# "A validation error occurred": a column value the table does not accept.
DATAVERSE_VALIDATION_CODES = frozenset({"0x80044331"})
# "Could not find a property named ..." / "Resource not found for the segment ...": the
# request names a table or column this environment does not have, so every record would fail.
DATAVERSE_SCHEMA_CODES = frozenset({"0x80060888"})

_TRANSIENT_STATUSES = frozenset({408, 425, 500, 502, 503, 504})
_SENSITIVE_NAMES = (
    "authorization",
    "access_token",
    "refresh_token",
    "id_token",
    "token",
    "client_secret",
    "client_assertion",
    "secret",
    "password",
    "pwd",
    "accountkey",
    "account_key",
    "sharedaccesskey",
    "shared_access_key",
    "sharedaccesssignature",
    "connection_string",
    "sig",
)
_NAMED_SECRET = re.compile(
    r"(?i)(\b(?:" + "|".join(_SENSITIVE_NAMES) + r")\b[\"']?\s*[:=]\s*)(?:Bearer\s+|Basic\s+)?"
    r"(\"[^\"]*\"|'[^']*'|[^\s\"'&;,}]+)"
)
_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9\-._~+/]+=*")
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")
REDACTED = "***"


def redact(text: str) -> str:
    """Return ``text`` with anything that looks like a credential replaced by ``***``."""
    text = _NAMED_SECRET.sub(lambda match: match.group(1) + REDACTED, text)
    text = _BEARER.sub(lambda match: match.group(1) + " " + REDACTED, text)
    return _JWT.sub(REDACTED, text)


def _is_sensitive_name(name: str) -> bool:
    folded = name.lower().replace("-", "_")
    return any(folded == sensitive or folded.endswith("_" + sensitive) for sensitive in _SENSITIVE_NAMES)


class HubError(Exception):
    """A failure with its class, where it happened, and how long to wait before trying again.

    ``context`` names the system, operation, entity, key and the like; values
    under credential-like names are dropped to ``***`` and every text is redacted.
    ``retry_after`` is in seconds, when the other side said.
    """

    default_class = ErrorClass.PERMANENT

    def __init__(
        self,
        message: str,
        *,
        error_class: ErrorClass | None = None,
        context: Mapping[str, object] | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.message = redact(message)
        self.error_class = error_class or self.default_class
        self.context: dict[str, object] = {
            name: REDACTED if _is_sensitive_name(name) else _redact_value(value)
            for name, value in (context or {}).items()
        }
        self.retry_after = retry_after
        super().__init__(self.message)

    @property
    def action(self) -> ErrorAction:
        return ERROR_ACTIONS[self.error_class]

    def __str__(self) -> str:
        if not self.context:
            return self.message
        where = ", ".join(f"{name}={value}" for name, value in self.context.items())
        return f"{self.message} ({where})"

    def to_json(self) -> dict[str, object]:
        """The error as run records, telemetry and dead-letter reasons store it."""
        return {
            "error_class": self.error_class.value,
            "message": self.message,
            "context": {name: str(value) for name, value in self.context.items()},
            "retry_after": self.retry_after,
        }


class ThrottledError(HubError):
    """The other side refused the work for now; ``retry_after`` says for how long when it said."""

    default_class = ErrorClass.THROTTLED


class ConflictError(HubError):
    """A conditional write found the row changed since it was read (HTTP 412 on ``If-Match``)."""


class AlreadyExistsError(HubError):
    """A create-only write found a row with the same key (HTTP 412 on ``If-None-Match: *``)."""


class NotFoundError(HubError):
    """The row or resource is not there (HTTP 404)."""


class CircuitOpenError(HubError):
    """Calls to a host are paused after repeated failures; ``retry_after`` is when it half-opens."""

    default_class = ErrorClass.TRANSIENT

    def __init__(self, host: str, failures: int, half_opens_in: float) -> None:
        when = (
            f"one probe is let through in {half_opens_in:.1f} s"
            if half_opens_in > 0
            else "a probe call is testing it now"
        )
        super().__init__(
            f"calls to {host} are paused after {failures} consecutive failures; {when}",
            context={"system": host},
            retry_after=half_opens_in,
        )
        self.host = host
        self.half_opens_in = half_opens_in


def _redact_value(value: object) -> object:
    return redact(value) if isinstance(value, str) else value


def classify_status(status: int, error_code: str | None = None) -> ErrorClass:
    """The class of an HTTP failure, refined by Dataverse's error code where that says more.

    Only failures have a class: a status below 400 is a ValueError.
    """
    if status < 400:
        raise ValueError(f"HTTP {status} is not a failure")
    code = (error_code or "").lower()
    if status == 429 or code in DATAVERSE_THROTTLE_CODES:
        return ErrorClass.THROTTLED
    if status in (401, 403) or code in DATAVERSE_PRIVILEGE_CODES:
        return ErrorClass.AUTH
    if status == 407 or code in DATAVERSE_SCHEMA_CODES:
        return ErrorClass.CONFIG
    if status in _TRANSIENT_STATUSES:
        return ErrorClass.TRANSIENT
    if code in DATAVERSE_VALIDATION_CODES:
        return ErrorClass.BAD_RECORD
    if status >= 500 and status not in (501, 505):
        return ErrorClass.TRANSIENT
    return ErrorClass.PERMANENT


_SERVICE_BUS_CLASSES: tuple[tuple[type[BaseException], ErrorClass], ...] = (
    (service_bus_errors.ServiceBusAuthenticationError, ErrorClass.AUTH),
    (service_bus_errors.ServiceBusAuthorizationError, ErrorClass.AUTH),
    (service_bus_errors.MessagingEntityNotFoundError, ErrorClass.CONFIG),
    (service_bus_errors.MessagingEntityDisabledError, ErrorClass.CONFIG),
    (service_bus_errors.ServiceBusQuotaExceededError, ErrorClass.THROTTLED),
    (service_bus_errors.ServiceBusServerBusyError, ErrorClass.THROTTLED),
    (service_bus_errors.MessageSizeExceededError, ErrorClass.PERMANENT),
    (service_bus_errors.MessageLockLostError, ErrorClass.TRANSIENT),
    (service_bus_errors.SessionLockLostError, ErrorClass.TRANSIENT),
    (service_bus_errors.OperationTimeoutError, ErrorClass.TRANSIENT),
    (service_bus_errors.ServiceBusConnectionError, ErrorClass.TRANSIENT),
    (service_bus_errors.ServiceBusCommunicationError, ErrorClass.TRANSIENT),
)


def classify_exception(error: BaseException) -> ErrorClass:
    """The class of any exception the hub may meet; unknown ones are permanent, so a person looks."""
    if isinstance(error, HubError):
        return error.error_class
    if isinstance(error, ValidationError):
        return ErrorClass.BAD_RECORD
    if isinstance(error, SettingsError | SecretNotFoundError):
        return ErrorClass.CONFIG
    if _caused_by_certificate(error):
        return ErrorClass.CONFIG
    if isinstance(error, httpx.HTTPStatusError):
        return classify_status(error.response.status_code)
    if isinstance(error, httpx.InvalidURL | httpx.UnsupportedProtocol):
        return ErrorClass.CONFIG
    if isinstance(error, httpx.TransportError):
        return ErrorClass.TRANSIENT
    for kind, error_class in _SERVICE_BUS_CLASSES:
        if isinstance(error, kind):
            return error_class
    return _classify_azure_core(error)


def _classify_azure_core(error: BaseException) -> ErrorClass:
    if isinstance(error, azure_errors.ClientAuthenticationError):
        return ErrorClass.AUTH
    if isinstance(error, azure_errors.ServiceRequestError | azure_errors.ServiceResponseError):
        return ErrorClass.TRANSIENT
    if isinstance(
        error,
        azure_errors.ResourceNotFoundError
        | azure_errors.ResourceExistsError
        | azure_errors.ResourceModifiedError
        | azure_errors.ResourceNotModifiedError,
    ):
        return ErrorClass.PERMANENT
    if isinstance(error, azure_errors.HttpResponseError):
        status = error.status_code
        return classify_status(status) if status and status >= 400 else ErrorClass.TRANSIENT
    if isinstance(error, TimeoutError | ConnectionError):
        return ErrorClass.TRANSIENT
    return ErrorClass.PERMANENT


def _caused_by_certificate(error: BaseException) -> bool:
    """True when a TLS certificate check failed somewhere in the chain: a CA bundle or URL to fix."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, ssl.SSLCertVerificationError):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False
