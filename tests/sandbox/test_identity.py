"""Sandbox Entra ID: MSAL signs in with client credentials and gets Entra-shaped RS256 tokens."""

from __future__ import annotations

import ssl
import time
from pathlib import Path

import httpx
import jwt
import pytest

from localdev import services
from tests.fixtures.dataverse_sandbox import HUB_API_ROLE, DataverseSandbox

pytestmark = pytest.mark.services


def _token_endpoint(sandbox: DataverseSandbox) -> str:
    return f"{sandbox.authority}/oauth2/v2.0/token"


def _claims(sandbox: DataverseSandbox, token: str, audience: str) -> dict[str, object]:
    """Verified the way a resource server would: key from the JWKS the discovery document names."""
    with httpx.Client(verify=sandbox.tls()) as client:
        discovery = client.get(f"{sandbox.authority}/v2.0/.well-known/openid-configuration").json()
        keys = client.get(discovery["jwks_uri"]).json()["keys"]
    kid = jwt.get_unverified_header(token)["kid"]
    (key,) = [jwt.PyJWK(entry) for entry in keys if entry["kid"] == kid]
    claims: dict[str, object] = jwt.decode(
        token, key, algorithms=["RS256"], audience=audience, issuer=discovery["issuer"]
    )
    return claims


def test_msal_gets_a_dataverse_token_with_entra_claims(dataverse_sandbox: DataverseSandbox) -> None:
    before = int(time.time())
    result = dataverse_sandbox.msal_app().acquire_token_for_client(
        scopes=[f"{dataverse_sandbox.url}/.default"]
    )

    assert result["token_type"] == "Bearer" and result["expires_in"] == 3600
    claims = _claims(dataverse_sandbox, result["access_token"], dataverse_sandbox.url)
    assert claims["aud"] == dataverse_sandbox.url
    assert claims["iss"] == f"{dataverse_sandbox.authority}/v2.0"
    assert claims["tid"] == dataverse_sandbox.tenant_id
    assert claims["appid"] == claims["azp"] == dataverse_sandbox.client_id
    assert before + 3600 <= int(str(claims["exp"])) <= int(time.time()) + 3600
    assert "roles" not in claims  # Entra leaves the claim out when no app role is granted


def test_msal_caches_the_token_instead_of_asking_again(dataverse_sandbox: DataverseSandbox) -> None:
    app = dataverse_sandbox.msal_app()
    scopes = [f"{dataverse_sandbox.url}/.default"]
    first = app.acquire_token_for_client(scopes=scopes)
    second = app.acquire_token_for_client(scopes=scopes)
    assert first["token_source"] == "identity_provider" and second["token_source"] == "cache"
    assert first["access_token"] == second["access_token"]


def test_a_token_for_the_hub_api_carries_its_audience_and_app_roles(
    dataverse_sandbox: DataverseSandbox,
) -> None:
    token = dataverse_sandbox.access_token(dataverse_sandbox.hub_api_identifier)

    claims = _claims(dataverse_sandbox, token, dataverse_sandbox.hub_api_client_id)
    assert claims["aud"] == dataverse_sandbox.hub_api_client_id
    assert claims["roles"] == [HUB_API_ROLE]
    assert claims["tid"] == dataverse_sandbox.tenant_id


def test_a_wrong_secret_is_refused_the_way_entra_refuses_it(dataverse_sandbox: DataverseSandbox) -> None:
    result = dataverse_sandbox.msal_app(client_secret="not-the-secret").acquire_token_for_client(
        scopes=[f"{dataverse_sandbox.url}/.default"]
    )
    assert result["error"] == "invalid_client"
    assert result["error_description"].startswith("AADSTS7000215: Invalid client secret provided.")
    assert result["error_codes"] == [7000215]
    assert "not-the-secret" not in str(result)

    with httpx.Client(verify=dataverse_sandbox.tls()) as client:
        raw = client.post(
            _token_endpoint(dataverse_sandbox),
            data={
                "grant_type": "client_credentials",
                "client_id": dataverse_sandbox.client_id,
                "client_secret": "not-the-secret",
                "scope": f"{dataverse_sandbox.url}/.default",
            },
        )
    assert raw.status_code == 401
    assert raw.headers["cache-control"].startswith("no-store")
    assert {"trace_id", "correlation_id", "timestamp"} <= set(raw.json())


@pytest.mark.parametrize(
    ("form", "status", "error", "aadsts"),
    [
        ({"client_id": "unknown-app"}, 400, "unauthorized_client", 700016),
        ({"scope": "https://127.0.0.1/user.read"}, 400, "invalid_scope", 1002012),
        ({"scope": "https://unknown.crm.dynamics.com/.default"}, 400, "invalid_resource", 500011),
        ({"grant_type": "password"}, 400, "unsupported_grant_type", 70003),
        ({"client_secret": ""}, 401, "invalid_client", 7000218),
    ],
    ids=["unknown client", "scope without /.default", "unknown resource", "other grant", "no secret"],
)
def test_bad_token_requests_get_entra_errors(
    dataverse_sandbox: DataverseSandbox, form: dict[str, str], status: int, error: str, aadsts: int
) -> None:
    request = {
        "grant_type": "client_credentials",
        "client_id": dataverse_sandbox.client_id,
        "client_secret": dataverse_sandbox.client_secret,
        "scope": f"{dataverse_sandbox.url}/.default",
        **form,
    }
    with httpx.Client(verify=dataverse_sandbox.tls()) as client:
        answer = client.post(_token_endpoint(dataverse_sandbox), data=request)
    assert answer.status_code == status
    assert answer.json()["error"] == error
    assert answer.json()["error_description"].startswith(f"AADSTS{aadsts}:")


def test_client_secret_basic_authentication_is_accepted(dataverse_sandbox: DataverseSandbox) -> None:
    with httpx.Client(verify=dataverse_sandbox.tls()) as client:
        answer = client.post(
            _token_endpoint(dataverse_sandbox),
            data={"grant_type": "client_credentials", "scope": f"{dataverse_sandbox.url}/.default"},
            auth=(dataverse_sandbox.client_id, dataverse_sandbox.client_secret),
        )
    assert answer.status_code == 200
    assert answer.json()["access_token"]


def test_an_unknown_tenant_is_not_found(dataverse_sandbox: DataverseSandbox) -> None:
    with httpx.Client(verify=dataverse_sandbox.tls()) as client:
        answer = client.get(f"{dataverse_sandbox.url}/other-tenant/v2.0/.well-known/openid-configuration")
    assert answer.status_code == 400
    assert answer.json()["error_description"].startswith("AADSTS90002: Tenant 'other-tenant' not found.")


def test_token_lifetime_is_configurable(tmp_path: Path, dataverse_sandbox: DataverseSandbox) -> None:
    port = services.free_port()
    spec = services.python_module(
        "short-lived-sandbox",
        "localdev.sandbox",
        port,
        [
            "--port", str(port),
            "--data", str(tmp_path),
            "--directory", str(dataverse_sandbox.data_dir / "directory.json"),
            "--token-lifetime", "120",
        ],
        tmp_path / "sandbox.log",
    )  # fmt: skip
    running = services.start(spec)
    try:
        with httpx.Client(
            verify=ssl.create_default_context(cafile=tmp_path / "certs" / "local-ca.pem")
        ) as client:
            answer = client.post(
                f"https://127.0.0.1:{port}/{dataverse_sandbox.tenant_id}/oauth2/v2.0/token",
                data={
                    "grant_type": "client_credentials",
                    "client_id": dataverse_sandbox.client_id,
                    "client_secret": dataverse_sandbox.client_secret,
                    "scope": f"https://127.0.0.1:{port}/.default",
                },
            )
    finally:
        running.stop()
    assert answer.status_code == 200 and answer.json()["expires_in"] == 120
    claims = jwt.decode(answer.json()["access_token"], options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 120
