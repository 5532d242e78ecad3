"""DataverseToken through real MSAL against a local HTTPS Entra ID double: OIDC discovery and token."""

from __future__ import annotations

import json
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

import pytest

from localdev.local_ca import server_certificate
from shared.connectors.dataverse.auth import DataverseToken
from shared.errors import ErrorClass, HubError

TENANT = "3a1f0c3e-0000-4000-8000-00000000c0de"
CLIENT_ID = "5b2e9c1d-0000-4000-8000-0000000000aa"
ORG_URL = "https://towneparkdev.crm.dynamics.com"


@dataclass
class EntraDouble:
    authority_host: str
    ca_bundle: Path
    secret: str = "first-secret-value"
    expires_in: int = 3599
    token_requests: list[dict[str, list[str]]] = field(default_factory=list)


@pytest.fixture
def entra(tmp_path: Path) -> Iterator[EntraDouble]:
    certificate = server_certificate(tmp_path / "ca")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificate.cert_chain, certificate.private_key)
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    double = EntraDouble(f"https://127.0.0.1:{server.server_address[1]}", certificate.ca_bundle)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            return

        def _reply(self, status: int, body: dict[str, object]) -> None:
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_GET(self) -> None:
            if self.path != f"/{TENANT}/v2.0/.well-known/openid-configuration":
                self._reply(404, {"error": "not_found"})
                return
            base = f"{double.authority_host}/{TENANT}"
            self._reply(
                200,
                {
                    "token_endpoint": f"{base}/oauth2/v2.0/token",
                    "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                    "issuer": f"{base}/v2.0",
                },
            )

        def do_POST(self) -> None:
            form = parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
            double.token_requests.append(form)
            if form.get("client_secret") != [double.secret]:
                self._reply(
                    401,
                    {
                        "error": "invalid_client",
                        "error_description": "AADSTS7000215: Invalid client secret provided.\r\nTrace ID: 1",
                    },
                )
                return
            self._reply(
                200,
                {
                    "token_type": "Bearer",
                    "expires_in": double.expires_in,
                    "access_token": f"token-{len(double.token_requests)}",
                },
            )

    server.RequestHandlerClass = Handler
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield double
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def _token(entra: EntraDouble, secret: list[str], verify: bool | Path | None = None) -> DataverseToken:
    return DataverseToken(
        org_url=ORG_URL + "/",
        tenant_id=TENANT,
        client_id=CLIENT_ID,
        client_secret=lambda: secret[0],
        authority_host=entra.authority_host,
        verify=entra.ca_bundle if verify is None else verify,
    )


def test_client_credentials_token_is_cached_until_it_expires(entra: EntraDouble) -> None:
    token = _token(entra, [entra.secret])

    assert [token(), token(), token()] == ["token-1"] * 3
    assert len(entra.token_requests) == 1
    request = entra.token_requests[0]
    assert request["grant_type"] == ["client_credentials"]
    assert request["client_id"] == [CLIENT_ID]
    assert request["scope"] == [f"{ORG_URL}/.default"]


def test_a_wrong_secret_is_an_auth_error_that_never_shows_the_secret(entra: EntraDouble) -> None:
    token = _token(entra, ["not-the-secret-xyz"])

    with pytest.raises(HubError) as raised:
        token()

    assert raised.value.error_class is ErrorClass.AUTH
    assert "invalid_client" in str(raised.value) and "AADSTS7000215" in str(raised.value)
    assert "not-the-secret-xyz" not in str(raised.value) and "Trace ID" not in str(raised.value)


def test_a_rotated_secret_is_picked_up_when_entra_refuses_the_old_one(entra: EntraDouble) -> None:
    entra.expires_in = 60  # inside MSAL's five-minute margin, so every call asks Entra ID again
    store = ["first-secret-value"]
    token = _token(entra, store)
    assert token() == "token-1"

    entra.secret = store[0] = "rotated-secret-value"

    assert token() == "token-3"
    sent = [form["client_secret"][0] for form in entra.token_requests]
    assert sent == ["first-secret-value", "first-secret-value", "rotated-secret-value"]


def test_an_untrusted_certificate_is_a_config_error(entra: EntraDouble) -> None:
    token = _token(entra, [entra.secret], verify=True)  # the system CAs do not know the sandbox CA

    with pytest.raises(HubError) as raised:
        token()

    assert raised.value.error_class is ErrorClass.CONFIG
    assert "CA bundle" in str(raised.value)
    assert entra.token_requests == []
