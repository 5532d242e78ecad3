"""No credential survives into an error's message, context, JSON form or a logged traceback."""

from __future__ import annotations

import logging
import traceback

import pytest

from shared.errors import HubError, ThrottledError
from shared.redaction import REDACTED, redact

TOKEN = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwczovL29yZyJ9.c2lnbmF0dXJlLXNlY3JldA"
OPAQUE_TOKEN = "opaque-token-9f8e7d6c5b4a"
CLIENT_SECRET = "Xy7~Q_super.secret-value"
ACCOUNT_KEY = "c2VjcmV0LWtleS1iYXNlNjQ9PQ=="
SAS_KEY = "sb-shared-access-key-0123456789abcdef="
PASSWORD = "P@ssw0rd!EDW"
SECRETS = (TOKEN, OPAQUE_TOKEN, CLIENT_SECRET, ACCOUNT_KEY, SAS_KEY, PASSWORD)

LEAKY_MESSAGE = (
    f"request failed; headers={{'Authorization': 'Bearer {OPAQUE_TOKEN}'}} "
    f"Authorization: Bearer {TOKEN} body=grant_type=client_credentials&client_secret={CLIENT_SECRET}&scope=x "
    f"storage=DefaultEndpointsProtocol=https;AccountName=tp;AccountKey={ACCOUNT_KEY};EndpointSuffix=core "
    f"bus=Endpoint=sb://tp.servicebus.windows.net/;SharedAccessKeyName=hub;SharedAccessKey={SAS_KEY} "
    f"sql=Server=EDW-NODE-01;User Id=hub;Password={PASSWORD}; "
    f'json={{"access_token": "{OPAQUE_TOKEN}", "token_type": "Bearer"}}'
)


def _assert_clean(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text
    for fragment in ("eyJ0eXAi", "Xy7~Q", "super.secret"):
        assert fragment not in text


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Authorization: Bearer abc.def", f"Authorization: {REDACTED}"),
        (
            "client_secret=s3cr3t&scope=https://org/.default",
            f"client_secret={REDACTED}&scope=https://org/.default",
        ),
        (
            "AccountName=tp;AccountKey=abc==;EndpointSuffix=x",
            f"AccountName=tp;AccountKey={REDACTED};EndpointSuffix=x",
        ),
        ("?sv=2024&sig=abc%2Fdef&se=1", f"?sv=2024&sig={REDACTED}&se=1"),
        ("site 0123 in bs_mastercustomersites", "site 0123 in bs_mastercustomersites"),
        ("$deltatoken=919042%2108 and $skiptoken=abc", "$deltatoken=919042%2108 and $skiptoken=abc"),
    ],
)
def test_redact(raw: str, expected: str) -> None:
    assert redact(raw) == expected


def test_a_hub_error_never_carries_a_credential(caplog: pytest.LogCaptureFixture) -> None:
    error = ThrottledError(
        LEAKY_MESSAGE,
        context={
            "system": "dataverse",
            "operation": "PATCH org.crm.dynamics.com/api/data/v9.2/bs_mastercustomersites",
            "key": "0123",
            "client_secret": CLIENT_SECRET,
            "Authorization": f"Bearer {OPAQUE_TOKEN}",
            "access-token": OPAQUE_TOKEN,
            "connection_string": f"Endpoint=sb://x/;SharedAccessKey={SAS_KEY}",
            "detail": f"sent Authorization: Bearer {TOKEN}",
        },
        retry_after=5,
    )
    _assert_clean(str(error))
    _assert_clean(repr(error))
    _assert_clean(repr(error.args))
    _assert_clean(repr(error.to_json()))
    assert error.context["key"] == "0123"
    assert error.context["client_secret"] == REDACTED
    assert error.context["Authorization"] == REDACTED

    try:
        raise error
    except HubError:
        logging.getLogger("hub").exception("load failed")
        formatted = traceback.format_exc()
    _assert_clean(formatted)
    _assert_clean(caplog.text)
    assert "load failed" in caplog.text
