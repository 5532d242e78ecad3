"""Who is calling and what they may do: function keys, and Entra ID bearer tokens when configured.

The Functions host checks function keys before the hub sees a request (and
admin-level routes take only the master key), so a key caller reaching here
has already been admitted for the route's level. When the API is registered
in Entra ID (``EntraAudience``), every keyed call must also carry a bearer
token for it: signature (JWKS, cached), issuer, audience (``{clientId}`` or
``api://{clientId}``), tenant and expiry are checked, and the token's app roles
decide access. A bad or missing token is 401; a good token without the role is
403.
"""

from __future__ import annotations

import hashlib
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt

from shared.api.http import ApiRequest
from shared.api.problems import ProblemError
from shared.api.roles import LADDER, Caller, Role

_ALGORITHMS = ["RS256"]
_LEEWAY_SECONDS = 60
_JWKS_CACHE_SECONDS = 3600
_PUBLIC_AUTHORITY = "https://login.microsoftonline.com"


@dataclass(frozen=True)
class EntraAudience:
    """The API's own app registration: its client id, tenant and the authority that signs its tokens."""

    client_id: str
    tenant_id: str
    authority_host: str = _PUBLIC_AUTHORITY
    ca_bundle: Path | None = None

    @property
    def issuers(self) -> list[str]:
        """v2.0 tokens name the authority; v1.0 tokens from public Entra ID name sts.windows.net."""
        authority = self.authority_host.rstrip("/")
        issuers = [f"{authority}/{self.tenant_id}/v2.0"]
        if authority == _PUBLIC_AUTHORITY:
            issuers.append(f"https://sts.windows.net/{self.tenant_id}/")
        return issuers

    @property
    def jwks_uri(self) -> str:
        return f"{self.authority_host.rstrip('/')}/{self.tenant_id}/discovery/v2.0/keys"


class BearerTokens:
    """Checks Entra ID access tokens for the API; signing keys are fetched once and cached."""

    def __init__(self, audience: EntraAudience) -> None:
        self._audience = audience
        context = ssl.create_default_context(cafile=str(audience.ca_bundle) if audience.ca_bundle else None)
        self._keys = jwt.PyJWKClient(
            audience.jwks_uri, cache_keys=True, lifespan=_JWKS_CACHE_SECONDS, timeout=10, ssl_context=context
        )

    def caller(self, token: str) -> Caller:
        """The caller a token names; raises ``ProblemError`` 401 saying why the token is refused."""
        audience = self._audience
        try:
            key = self._keys.get_signing_key_from_jwt(token)
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=_ALGORITHMS,
                audience=[audience.client_id, f"api://{audience.client_id}"],
                issuer=audience.issuers,
                leeway=_LEEWAY_SECONDS,
                options={"require": ["exp", "iss", "aud", "tid"]},
            )
        except jwt.PyJWKClientConnectionError:
            raise ProblemError(
                503, "identity-unavailable", "The hub could not fetch Entra ID's signing keys; try again."
            ) from None
        except (jwt.InvalidTokenError, jwt.PyJWKClientError) as error:
            raise _unauthorized(f"The bearer token was refused: {_reason(error)}.") from None
        if claims.get("tid") != audience.tenant_id:
            raise _unauthorized("The bearer token was issued for another tenant.")
        roles = frozenset(Role(role) for role in claims.get("roles", ()) if role in set(Role))
        subject = str(claims.get("oid") or claims.get("sub"))
        return Caller(f"entra:{subject}", roles)


def _reason(error: Exception) -> str:
    if isinstance(error, jwt.ExpiredSignatureError):
        return "it has expired"
    if isinstance(error, jwt.InvalidAudienceError):
        return "it is for another audience"
    if isinstance(error, jwt.InvalidIssuerError):
        return "it is from another issuer"
    if isinstance(error, jwt.InvalidSignatureError | jwt.PyJWKClientError):
        return "its signature does not match Entra ID's keys"
    return "it is malformed or incomplete"


def _unauthorized(detail: str) -> ProblemError:
    return ProblemError(
        401, "unauthorized", detail, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}
    )


def key_caller(request: ApiRequest) -> Caller:
    """A caller the Functions host admitted by key, named by a digest of the key (never the key).

    A key admits the Read/Run/Admin ladder only: no key approves a budget revision.
    """
    key = request.header("x-functions-key") or request.query.get("code") or ""
    digest = hashlib.sha256(key.encode()).hexdigest()[:12]
    return Caller(f"key:{digest}", frozenset(LADDER))


def identify(request: ApiRequest, tokens: BearerTokens | None) -> Caller:
    """The caller of a keyed route: by bearer token when Entra ID is configured, else by key."""
    if tokens is None:
        return key_caller(request)
    authorization = request.header("authorization") or ""
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ProblemError(
            401,
            "unauthorized",
            "This API needs an Entra ID bearer token (Authorization: Bearer ...).",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return tokens.caller(token.strip())


def require(caller: Caller, role: Role) -> None:
    if not caller.may(role):
        raise ProblemError(403, "forbidden", f"This call needs the app role '{role.value}'.")
