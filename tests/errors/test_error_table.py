"""The error table and the classifiers that feed it."""

from __future__ import annotations

import ssl

import httpx
import pytest
from azure.core import exceptions as azure_errors
from azure.servicebus import exceptions as service_bus_errors
from pydantic import BaseModel, ValidationError

from shared.connectors.dataverse.odata_errors import classify_dataverse
from shared.errors import (
    ERROR_ACTIONS,
    AlreadyExistsError,
    CircuitOpenError,
    ConflictError,
    ErrorClass,
    HubError,
    NotFoundError,
    Settle,
    ThrottledError,
    classify_exception,
    classify_status,
)
from shared.platform.blob_lock import LockHeldError
from shared.platform.conflicts import StateConflictError
from shared.platform.secrets import SecretNotFoundError
from shared.settings import SettingsError


def test_every_class_has_exactly_one_row_and_a_sensible_action() -> None:
    assert set(ERROR_ACTIONS) == set(ErrorClass)
    for error_class in (ErrorClass.TRANSIENT, ErrorClass.THROTTLED):
        action = ERROR_ACTIONS[error_class]
        assert action.retry and action.settle is Settle.RETRY_LATER and not action.alert
    for error_class in (ErrorClass.CONFLICT, ErrorClass.BUSY):
        action = ERROR_ACTIONS[error_class]
        assert not action.retry and action.settle is Settle.RETRY_LATER and not action.alert
    for error_class in (ErrorClass.CONFIG, ErrorClass.AUTH, ErrorClass.PERMANENT, ErrorClass.BAD_RECORD):
        action = ERROR_ACTIONS[error_class]
        assert not action.retry and action.settle is Settle.DEAD_LETTER and action.alert


def test_state_conflicts_and_held_locks_have_their_own_classes() -> None:
    assert classify_exception(StateConflictError("changed")) is ErrorClass.CONFLICT
    assert classify_exception(LockHeldError("sync-x", "run-1")) is ErrorClass.BUSY


def test_the_table_cannot_be_changed_at_run_time() -> None:
    with pytest.raises(TypeError):
        ERROR_ACTIONS[ErrorClass.CONFIG] = ERROR_ACTIONS[ErrorClass.TRANSIENT]  # type: ignore[index]


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        (429, None, ErrorClass.THROTTLED),
        (400, "0x80072322", ErrorClass.THROTTLED),
        (503, "0x80072326", ErrorClass.THROTTLED),
        (401, None, ErrorClass.AUTH),
        (403, None, ErrorClass.AUTH),
        (400, "0x80040220", ErrorClass.AUTH),
        (407, None, ErrorClass.CONFIG),
        (408, None, ErrorClass.TRANSIENT),
        (500, None, ErrorClass.TRANSIENT),
        (502, None, ErrorClass.TRANSIENT),
        (503, None, ErrorClass.TRANSIENT),
        (504, None, ErrorClass.TRANSIENT),
        (507, None, ErrorClass.TRANSIENT),
        (501, None, ErrorClass.PERMANENT),
        (400, None, ErrorClass.PERMANENT),
        (400, "0x80044331", ErrorClass.BAD_RECORD),
        (400, "0x80060888", ErrorClass.CONFIG),
        (404, "0x80060888", ErrorClass.CONFIG),
        (404, "", ErrorClass.PERMANENT),
        (409, None, ErrorClass.PERMANENT),
        (412, "", ErrorClass.PERMANENT),
    ],
)
def test_statuses_and_dataverse_codes(status: int, code: str | None, expected: ErrorClass) -> None:
    assert classify_dataverse(status, code) is expected
    if code is None:
        assert classify_status(status) is expected


def test_a_success_has_no_class() -> None:
    with pytest.raises(ValueError, match="not a failure"):
        classify_status(204)


class _Row(BaseModel):
    site_number: int


def _validation_error() -> ValidationError:
    try:
        _Row.model_validate({"site_number": "not a number"})
    except ValidationError as error:
        return error
    raise AssertionError("expected a validation error")


def _certificate_failure() -> httpx.ConnectError:
    try:
        try:
            raise ssl.SSLCertVerificationError("certificate verify failed: unable to get local issuer")
        except ssl.SSLError as cause:
            raise httpx.ConnectError("TLS handshake failed") from cause
    except httpx.ConnectError as error:
        return error


def _status_error(status: int) -> httpx.HTTPStatusError:
    request = httpx.Request("GET", "https://org.example/api/data/v9.2/accounts")
    return httpx.HTTPStatusError("failed", request=request, response=httpx.Response(status, request=request))


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (httpx.ConnectError("refused"), ErrorClass.TRANSIENT),
        (httpx.ReadTimeout("slow"), ErrorClass.TRANSIENT),
        (httpx.PoolTimeout("busy"), ErrorClass.TRANSIENT),
        (httpx.RemoteProtocolError("peer closed"), ErrorClass.TRANSIENT),
        (httpx.UnsupportedProtocol("ftp"), ErrorClass.CONFIG),
        (_status_error(503), ErrorClass.TRANSIENT),
        (_status_error(404), ErrorClass.PERMANENT),
        (_status_error(429), ErrorClass.THROTTLED),
        (_certificate_failure(), ErrorClass.CONFIG),
        (azure_errors.ServiceRequestError("no route"), ErrorClass.TRANSIENT),
        (azure_errors.ServiceResponseError("reset"), ErrorClass.TRANSIENT),
        (azure_errors.ResourceNotFoundError("gone"), ErrorClass.PERMANENT),
        (azure_errors.ResourceExistsError("there"), ErrorClass.PERMANENT),
        (azure_errors.ResourceModifiedError("changed"), ErrorClass.PERMANENT),
        (azure_errors.ClientAuthenticationError("refused"), ErrorClass.AUTH),
        (azure_errors.HttpResponseError("no status"), ErrorClass.TRANSIENT),
        (service_bus_errors.ServiceBusServerBusyError(message="x"), ErrorClass.THROTTLED),
        (service_bus_errors.MessagingEntityNotFoundError(message="x"), ErrorClass.CONFIG),
        (service_bus_errors.ServiceBusAuthorizationError(message="x"), ErrorClass.AUTH),
        (service_bus_errors.ServiceBusConnectionError(message="x"), ErrorClass.TRANSIENT),
        (service_bus_errors.MessageSizeExceededError(message="x"), ErrorClass.PERMANENT),
        (_validation_error(), ErrorClass.BAD_RECORD),
        (SettingsError("DATAVERSE_URL: expects a URL"), ErrorClass.CONFIG),
        (SecretNotFoundError("secret 'dataverse-client-secret' is not configured"), ErrorClass.CONFIG),
        (TimeoutError(), ErrorClass.TRANSIENT),
        (ConnectionResetError(), ErrorClass.TRANSIENT),
        (KeyError("a bug"), ErrorClass.PERMANENT),
        (ThrottledError("slow down"), ErrorClass.THROTTLED),
        (HubError("bad config", error_class=ErrorClass.CONFIG), ErrorClass.CONFIG),
    ],
)
def test_exceptions(error: BaseException, expected: ErrorClass) -> None:
    assert classify_exception(error) is expected


def test_azure_http_errors_are_classified_by_their_status() -> None:
    busy = azure_errors.HttpResponseError("busy")
    busy.status_code = 503
    refused = azure_errors.HttpResponseError("refused")
    refused.status_code = 403
    assert classify_exception(busy) is ErrorClass.TRANSIENT
    assert classify_exception(refused) is ErrorClass.AUTH


def test_subclasses_carry_their_class() -> None:
    assert ThrottledError("x").error_class is ErrorClass.THROTTLED
    assert ConflictError("x").error_class is ErrorClass.PERMANENT
    assert AlreadyExistsError("x").error_class is ErrorClass.PERMANENT
    assert NotFoundError("x").error_class is ErrorClass.PERMANENT
    opened = CircuitOpenError("org.crm.dynamics.com", 5, 12.5)
    assert opened.error_class is ErrorClass.TRANSIENT
    assert opened.retry_after == 12.5
    assert "org.crm.dynamics.com" in str(opened) and "12.5 s" in str(opened)
    assert opened.action.settle is Settle.RETRY_LATER


def test_context_and_json_say_where_it_happened() -> None:
    error = ThrottledError(
        "Dataverse asked the hub to wait",
        context={
            "system": "dataverse",
            "operation": "upsert",
            "entity": "bs_mastercustomersites",
            "key": "0123",
        },
        retry_after=30.0,
    )
    assert str(error) == (
        "Dataverse asked the hub to wait "
        "(system=dataverse, operation=upsert, entity=bs_mastercustomersites, key=0123)"
    )
    assert error.to_json() == {
        "error_class": "throttled",
        "message": "Dataverse asked the hub to wait",
        "context": {
            "system": "dataverse",
            "operation": "upsert",
            "entity": "bs_mastercustomersites",
            "key": "0123",
        },
        "retry_after": 30.0,
    }
