"""The hub's bearer token for Dataverse: OAuth client credentials through MSAL, cached until it expires.

Dataverse accepts an application user (an app registration with a security
role) signing in with its client secret; the scope is ``<org URL>/.default``.
MSAL keeps the token in its cache and only asks Entra ID again when it is about
to expire, so calling this for every HTTP attempt costs nothing and means a
refreshed token is the one sent. The secret comes from the hub's SecretStore
through a callable, so a rotated secret is picked up when Entra refuses the old
one; it is never logged nor put in an error. A token Dataverse refuses (401:
revoked, or lapsed mid-run while MSAL still thought it good) is dropped with
``renew`` so the next call signs in again.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import msal
import requests

from shared.errors import ErrorClass, HubError

DEFAULT_AUTHORITY_HOST = "https://login.microsoftonline.com"
_REFUSED_CLIENT = frozenset({"invalid_client", "unauthorized_client"})
_WRONG_SETTING = frozenset({"invalid_request", "invalid_scope", "invalid_resource", "invalid_tenant"})
_BUSY = frozenset({"temporarily_unavailable", "server_error"})


class _TrustingSession(requests.Session):
    """The session MSAL talks to Entra ID through, trusting exactly the CA bundle it was given.

    The local identity sandbox is signed by a throwaway CA. ``Session.verify``
    alone is not enough: requests lets ``REQUESTS_CA_BUNDLE`` override it per
    request (psf/requests#3829), so the bundle is passed on every request.
    """

    def __init__(self, verify: bool | str) -> None:
        super().__init__()
        self.verify = verify

    def request(self, *args: Any, **kwargs: Any) -> requests.Response:
        kwargs["verify"] = self.verify
        return super().request(*args, **kwargs)


@runtime_checkable
class RenewableToken(Protocol):
    """A token source whose cached token can be thrown away, so the next call asks Entra ID again."""

    def __call__(self) -> str: ...

    def renew(self) -> None: ...


class DataverseToken:
    """Callable giving a current access token for one Dataverse environment."""

    def __init__(
        self,
        *,
        org_url: str,
        tenant_id: str,
        client_id: str,
        client_secret: Callable[[], str],
        authority_host: str = DEFAULT_AUTHORITY_HOST,
        verify: bool | Path = True,
        timeout_seconds: float = 30.0,
    ) -> None:
        self._scopes = [org_url.rstrip("/") + "/.default"]
        self._authority = f"{authority_host.rstrip('/')}/{tenant_id}"
        self._client_id = client_id
        self._secret = client_secret
        self._timeout = timeout_seconds
        self._session = _TrustingSession(str(verify) if isinstance(verify, Path) else verify)
        self._lock = threading.Lock()
        self._app: msal.ConfidentialClientApplication | None = None

    def __call__(self) -> str:
        result = self._acquire()
        if result.get("error") in _REFUSED_CLIENT:
            # The secret may have been rotated since MSAL was built: try once more with the current one.
            with self._lock:
                self._app = None
            result = self._acquire()
        token = result.get("access_token")
        if isinstance(token, str) and token:
            return token
        raise self._refusal(result)

    def renew(self) -> None:
        """Forget the cached token (MSAL's cache lives in its application): the next call signs in."""
        with self._lock:
            self._app = None

    def _application(self) -> msal.ConfidentialClientApplication:
        with self._lock:
            if self._app is None:
                self._app = msal.ConfidentialClientApplication(
                    self._client_id,
                    client_credential=self._secret(),
                    authority=self._authority,
                    http_client=self._session,
                    timeout=self._timeout,
                    # The authority comes from the hub's own settings; asking
                    # login.microsoftonline.com to vouch for it adds a call and
                    # breaks the offline sandbox.
                    instance_discovery=False,
                )
            return self._app

    def _acquire(self) -> dict[str, Any]:
        context = {"system": "entra-id", "operation": "acquire_token", "authority": self._authority}
        try:
            result = self._application().acquire_token_for_client(scopes=self._scopes)
        except requests.exceptions.SSLError:
            raise HubError(
                f"TLS with Entra ID at {self._authority} failed; check the CA bundle the hub trusts",
                error_class=ErrorClass.CONFIG,
                context=context,
            ) from None
        except requests.RequestException as error:
            raise HubError(
                f"could not reach Entra ID at {self._authority}: {type(error).__name__}",
                error_class=ErrorClass.TRANSIENT,
                context=context,
            ) from None
        except ValueError as error:
            # MSAL raises ValueError when the authority's OIDC discovery fails: a wrong tenant or host.
            raise HubError(
                f"Entra ID authority {self._authority} is not usable: {str(error).splitlines()[0][:200]}",
                error_class=ErrorClass.CONFIG,
                context=context,
            ) from None
        return dict(result or {})

    def _refusal(self, result: dict[str, Any]) -> HubError:
        error = str(result.get("error") or "no_token")
        description = str(result.get("error_description") or "").splitlines()
        detail = description[0][:300] if description else "no description"
        if error in _REFUSED_CLIENT:
            error_class = ErrorClass.AUTH
        elif error in _WRONG_SETTING:
            error_class = ErrorClass.CONFIG
        elif error in _BUSY:
            error_class = ErrorClass.TRANSIENT
        else:
            error_class = ErrorClass.AUTH
        return HubError(
            f"Entra ID refused the hub's token request ({error}): {detail}",
            error_class=error_class,
            context={"system": "entra-id", "operation": "acquire_token", "client_id": self._client_id},
        )
