"""Sandbox Entra ID: the OAuth 2.0 client-credentials grant as MSAL for Python 1.39 uses it.

With ``authority=https://127.0.0.1:<port>/<tenant>`` and ``instance_discovery=False``
(or ``validate_authority=False``), ``msal.ConfidentialClientApplication`` makes
exactly two calls, both served here:

* ``GET /{tenant}/v2.0/.well-known/openid-configuration``: it reads
  ``authorization_endpoint`` and ``token_endpoint`` (and the tenant from the
  latter's path);
* ``POST /{tenant}/oauth2/v2.0/token`` with ``grant_type=client_credentials``,
  ``client_id``, ``client_secret`` and ``scope=<resource>/.default`` in the form
  body (HTTP Basic client authentication is accepted too).

Left on, instance discovery would call ``login.microsoftonline.com`` itself,
which the sandbox cannot answer. ``GET /{tenant}/discovery/v2.0/keys`` publishes
the signing key for services that validate the tokens. Interactive flows are not
served: the authorization endpoint is advertised because MSAL requires the field,
but nothing answers it.

Tokens are RS256 JWTs shaped like Entra's v2.0 access tokens (``aud``, ``iss``,
``tid``, ``azp``, ``roles``, ``exp``...), with ``appid`` added as v1.0 tokens
carry it. One difference is deliberate: ``iss`` is
``https://<this host>/<tenant>/v2.0`` rather than
``https://login.microsoftonline.com/<tenant>/v2.0``, so it matches this
issuer's discovery document; and where real Dataverse tokens are v1.0
(``iss=https://sts.windows.net/<tenant>/``), the sandbox issues one shape for
every resource. Callers must treat access tokens as opaque, so neither shows.
Error answers follow Entra's body (``error``, ``error_description`` starting
with the AADSTS code, ``error_codes``, ``trace_id``...).
"""

from __future__ import annotations

import base64
import binascii
import secrets
import time
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, unquote

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from localdev.sandbox.directory import Directory
from localdev.sandbox.signing_key import SigningKey

DEFAULT_TOKEN_LIFETIME_SECONDS = 3600
_DEFAULT_SCOPE_SUFFIX = "/.default"
_NO_STORE = {"Cache-Control": "no-store, no-cache", "Pragma": "no-cache"}


class TokenRefusedError(Exception):
    """The token endpoint's refusal: HTTP status, OAuth error and the AADSTS code and text."""

    def __init__(self, status: int, error: str, aadsts: int, description: str) -> None:
        super().__init__(f"{error}: AADSTS{aadsts}")
        self.status = status
        self.error = error
        self.aadsts = aadsts
        self.description = description


class IdentityProvider:
    """Issues and checks access tokens for one tenant, on behalf of the clients in its directory."""

    def __init__(
        self,
        base_url: str,
        directory: Directory,
        key: SigningKey,
        token_lifetime_seconds: int = DEFAULT_TOKEN_LIFETIME_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.directory = directory
        self.key = key
        self.token_lifetime_seconds = token_lifetime_seconds
        self._clock = clock

    @property
    def tenant_id(self) -> str:
        return self.directory.tenant_id

    @property
    def authority(self) -> str:
        return f"{self.base_url}/{self.tenant_id}"

    @property
    def issuer(self) -> str:
        return f"{self.authority}/v2.0"

    def openid_configuration(self) -> dict[str, Any]:
        """The v2.0 discovery document, with Entra's field names and this host's endpoints."""
        authority = self.authority
        return {
            "token_endpoint": f"{authority}/oauth2/v2.0/token",
            "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
            "jwks_uri": f"{self.base_url}/{self.tenant_id}/discovery/v2.0/keys",
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "issuer": self.issuer,
            "request_uri_parameter_supported": False,
            "authorization_endpoint": f"{authority}/oauth2/v2.0/authorize",
            "http_logout_supported": True,
            "frontchannel_logout_supported": True,
            "claims_supported": ["sub", "iss", "aud", "exp", "iat", "nbf", "tid", "azp", "roles"],
            "tenant_region_scope": "NA",
            "cloud_instance_name": "sandbox.local",
        }

    def jwks(self) -> dict[str, Any]:
        return {"keys": [{**self.key.jwk(), "issuer": self.issuer}]}

    def issue(self, form: Mapping[str, str], authorization: str | None) -> dict[str, Any]:
        """Answer a token request; raises ``TokenRefusedError`` exactly where Entra would refuse it."""
        grant_type = form.get("grant_type", "")
        if not grant_type:
            raise _missing_parameter("grant_type")
        if grant_type != "client_credentials":
            raise TokenRefusedError(
                400,
                "unsupported_grant_type",
                70003,
                f"The app requested an unsupported grant type '{grant_type}'.",
            )
        client_id, client_secret = _client_credentials(form, authorization)
        if not client_id:
            raise _missing_parameter("client_id")
        client = self.directory.clients.get(client_id)
        if client is None:
            raise TokenRefusedError(
                400,
                "unauthorized_client",
                700016,
                f"Application with identifier '{client_id}' was not found in the directory "
                f"'{self.tenant_id}'. This can happen if the application has not been installed by the "
                "administrator of the tenant or consented to by any user in the tenant. You may have "
                "sent your authentication request to the wrong tenant.",
            )
        if not client_secret:
            raise TokenRefusedError(
                401,
                "invalid_client",
                7000218,
                "The request body must contain the following parameter: 'client_assertion' or "
                "'client_secret'.",
            )
        if not secrets.compare_digest(client_secret.encode(), client.client_secret.encode()):
            raise TokenRefusedError(
                401,
                "invalid_client",
                7000215,
                "Invalid client secret provided. Ensure the secret being sent in the request is the "
                f"client secret value, not the client secret ID, for a secret added to app '{client_id}'.",
            )
        resource_id = _single_default_scope(form.get("scope", ""))
        resource = self.directory.resource(resource_id)
        if resource is None:
            raise TokenRefusedError(
                400,
                "invalid_resource",
                500011,
                f"The resource principal named {resource_id} was not found in the tenant named "
                f"{self.tenant_id}. This can happen if the application has not been installed by the "
                "administrator of the tenant or consented to by any user in the tenant. You might have "
                "sent your authentication request to the wrong tenant.",
            )
        now = int(self._clock())
        service_principal = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{self.tenant_id}/{client_id}"))
        claims: dict[str, Any] = {
            "aud": resource.audience,
            "iss": self.issuer,
            "iat": now,
            "nbf": now,
            "exp": now + self.token_lifetime_seconds,
            "appid": client_id,
            "appidacr": "1",
            "azp": client_id,
            "azpacr": "1",
            "idtyp": "app",
            "oid": service_principal,
            "sub": service_principal,
            "tid": self.tenant_id,
            "uti": secrets.token_urlsafe(16),
            "ver": "2.0",
        }
        roles = client.roles_for(resource.identifier_uri)
        if roles:
            claims["roles"] = roles
        return {
            "token_type": "Bearer",
            "expires_in": self.token_lifetime_seconds,
            "ext_expires_in": self.token_lifetime_seconds,
            "access_token": self.key.sign(claims),
        }

    def validate(self, token: str, audience: str) -> dict[str, Any]:
        """Claims of a current token issued here for ``audience``; ``jwt.InvalidTokenError`` if not."""
        audience = audience.rstrip("/")
        return self.key.verify(token, audiences=[audience, audience + "/"], issuer=self.issuer)

    def error_body(self, refusal: TokenRefusedError) -> dict[str, Any]:
        """Entra's error answer: the AADSTS code leads the description, then trace and correlation ids."""
        trace_id, correlation_id = str(uuid.uuid4()), str(uuid.uuid4())
        stamp = datetime.fromtimestamp(self._clock(), UTC).strftime("%Y-%m-%d %H:%M:%SZ")
        return {
            "error": refusal.error,
            "error_description": (
                f"AADSTS{refusal.aadsts}: {refusal.description} Trace ID: {trace_id} "
                f"Correlation ID: {correlation_id} Timestamp: {stamp}"
            ),
            "error_codes": [refusal.aadsts],
            "timestamp": stamp,
            "trace_id": trace_id,
            "correlation_id": correlation_id,
            "error_uri": f"{self.base_url}/error?code={refusal.aadsts}",
        }

    def routes(self) -> list[Route]:
        return [
            Route("/{tenant}/v2.0/.well-known/openid-configuration", self._discovery, methods=["GET"]),
            Route("/{tenant}/oauth2/v2.0/token", self._token, methods=["POST"]),
            Route("/{tenant}/discovery/v2.0/keys", self._keys, methods=["GET"]),
        ]

    def _unknown_tenant(self, tenant: str, error: str) -> Response:
        refusal = TokenRefusedError(
            400,
            error,
            90002,
            f"Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are "
            "signing into the correct cloud.",
        )
        return JSONResponse(self.error_body(refusal), status_code=400, headers=_NO_STORE)

    async def _discovery(self, request: Request) -> Response:
        if request.path_params["tenant"] != self.tenant_id:
            return self._unknown_tenant(request.path_params["tenant"], "invalid_tenant")
        return JSONResponse(self.openid_configuration())

    async def _keys(self, request: Request) -> Response:
        if request.path_params["tenant"] != self.tenant_id:
            return self._unknown_tenant(request.path_params["tenant"], "invalid_tenant")
        return JSONResponse(self.jwks())

    async def _token(self, request: Request) -> Response:
        if request.path_params["tenant"] != self.tenant_id:
            return self._unknown_tenant(request.path_params["tenant"], "invalid_request")
        # OAuth 2.0 token requests are always application/x-www-form-urlencoded (RFC 6749 §4.4.2).
        fields = dict(parse_qsl((await request.body()).decode("utf-8", "replace"), keep_blank_values=True))
        try:
            answer = self.issue(fields, request.headers.get("authorization"))
        except TokenRefusedError as refusal:
            return JSONResponse(self.error_body(refusal), status_code=refusal.status, headers=_NO_STORE)
        return JSONResponse(answer, headers=_NO_STORE)


def _missing_parameter(name: str) -> TokenRefusedError:
    return TokenRefusedError(
        400, "invalid_request", 900144, f"The request body must contain the following parameter: '{name}'."
    )


def _client_credentials(form: Mapping[str, str], authorization: str | None) -> tuple[str, str]:
    """client_secret_post wins; client_secret_basic (RFC 6749 §2.3.1, form-encoded parts) is the fallback."""
    client_id, client_secret = form.get("client_id", ""), form.get("client_secret", "")
    if authorization and authorization.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            decoded = ""
        basic_id, _, basic_secret = decoded.partition(":")
        client_id = client_id or unquote(basic_id.replace("+", " "))
        client_secret = client_secret or unquote(basic_secret.replace("+", " "))
    return client_id, client_secret


def _single_default_scope(scope: str) -> str:
    """The resource of the one ``<resource>/.default`` scope a client-credentials request must carry."""
    scopes = scope.split()
    if not scopes:
        raise _missing_parameter("scope")
    bad = [item for item in scopes if not item.endswith(_DEFAULT_SCOPE_SUFFIX)]
    if bad or len(scopes) > 1:
        shown = bad[0] if bad else scope
        raise TokenRefusedError(
            400,
            "invalid_scope",
            1002012,
            f"The provided value for scope {shown} is not valid. Client credential flows must have a "
            "scope value with /.default suffixed to the resource identifier (application ID URI).",
        )
    return scopes[0].removesuffix(_DEFAULT_SCOPE_SUFFIX)
