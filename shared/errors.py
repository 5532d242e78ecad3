"""Every failure the hub meets, classified once; the class decides retry, rescheduling, dead-letter and alert.

The HTTP client's retries, the queue triggers' settling (reschedule or set
aside) and the alert level all read ``ERROR_ACTIONS`` instead of deciding for
themselves, so one change here changes the hub's behaviour everywhere. Rows
that fail one at a time (a source row that breaks its model) are quarantined
by the engine whatever their class; the table decides what becomes of a
whole message.
``classify_status`` and ``classify_exception`` turn what a library or a service
said into one ``ErrorClass``; ``HubError`` carries that class, where it happened
and, for throttling, how long the service asked us to wait.

A ``HubError``'s message and context are scrubbed of credentials when the error
is made (``shared.redaction``), so they never reach a log, a run record or a
dead-letter reason.
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

import httpx
from azure.core import exceptions as azure_errors
from azure.servicebus import exceptions as service_bus_errors
from pydantic import ValidationError

from shared.platform.blob_lock import LockHeldError
from shared.platform.conflicts import StateConflictError
from shared.platform.secrets import SecretNotFoundError
from shared.redaction import REDACTED, is_sensitive_name, redact
from shared.settings import SettingsError


class ErrorClass(StrEnum):
    CONFIG = "config"
    AUTH = "auth"
    TRANSIENT = "transient"
    THROTTLED = "throttled"
    CONFLICT = "conflict"
    BUSY = "busy"
    PERMANENT = "permanent"
    BAD_RECORD = "bad_record"


class Settle(StrEnum):
    """What becomes of a queue message whose work failed with a class of error."""

    RETRY_LATER = "retry_later"  # rescheduled with a growing delay, within the retry budget
    DEAD_LETTER = "dead_letter"  # set aside at once with its reason; an operator resubmits it


@dataclass(frozen=True)
class ErrorAction:
    """What the hub does about one class of failure.

    ``retry``: the HTTP client and the Dataverse sink try again in-process,
    within the call's deadline. ``settle``: what the queue triggers do with the
    message when the work still failed (``shared.pipeline.delivery``). ``alert``:
    an operator has to act, so the failure is logged at ERROR with
    ``alert=True`` for the alert rules; the others are warnings.
    """

    retry: bool
    settle: Settle
    alert: bool
    meaning: str


ERROR_ACTIONS: Mapping[ErrorClass, ErrorAction] = MappingProxyType(
    {
        ErrorClass.CONFIG: ErrorAction(
            retry=False,
            settle=Settle.DEAD_LETTER,
            alert=True,
            meaning="a setting, URL, certificate, secret or target column is wrong; fix it, then resubmit",
        ),
        ErrorClass.AUTH: ErrorAction(
            retry=False,
            settle=Settle.DEAD_LETTER,
            alert=True,
            meaning="the hub's identity was refused; check the app registration, secret and security role",
        ),
        ErrorClass.TRANSIENT: ErrorAction(
            retry=True,
            settle=Settle.RETRY_LATER,
            alert=False,
            meaning="the other side failed for a moment; trying again later should work",
        ),
        ErrorClass.THROTTLED: ErrorAction(
            retry=True,
            settle=Settle.RETRY_LATER,
            alert=False,
            meaning="the other side asked us to slow down; wait as long as it says",
        ),
        ErrorClass.CONFLICT: ErrorAction(
            retry=False,
            settle=Settle.RETRY_LATER,
            alert=False,
            meaning="a state record changed under this worker; the next attempt reads it again",
        ),
        ErrorClass.BUSY: ErrorAction(
            retry=False,
            settle=Settle.RETRY_LATER,
            alert=False,
            meaning="another worker holds the lock for this work; try again once it is done",
        ),
        ErrorClass.PERMANENT: ErrorAction(
            retry=False,
            settle=Settle.DEAD_LETTER,
            alert=True,
            meaning="the request can never succeed as sent; someone has to look at it",
        ),
        ErrorClass.BAD_RECORD: ErrorAction(
            retry=False,
            settle=Settle.DEAD_LETTER,
            alert=True,
            meaning="the input is invalid: a row is quarantined with its reason, a message is set aside",
        ),
    }
)

_TRANSIENT_STATUSES = frozenset({408, 425, 500, 502, 503, 504})


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
            name: REDACTED if is_sensitive_name(name) else _redact_value(value)
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


def _redact_value(value: object) -> object:
    return redact(value) if isinstance(value, str) else value


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


def classify_status(status: int) -> ErrorClass:
    """The class of an HTTP failure by its status alone; systems with error codes refine it in their
    own mapping (``shared.connectors.dataverse.odata_errors.classify_dataverse``).

    Only failures have a class: a status below 400 is a ValueError.
    """
    if status < 400:
        raise ValueError(f"HTTP {status} is not a failure")
    if status == 429:
        return ErrorClass.THROTTLED
    if status in (401, 403):
        return ErrorClass.AUTH
    if status == 407:
        return ErrorClass.CONFIG
    if status in _TRANSIENT_STATUSES:
        return ErrorClass.TRANSIENT
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
    if isinstance(error, StateConflictError):
        return ErrorClass.CONFLICT
    if isinstance(error, LockHeldError):
        return ErrorClass.BUSY
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
