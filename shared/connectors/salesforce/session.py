"""Signing in to Salesforce as the connected app: the OAuth 2.0 client-credentials flow.

The hub posts ``grant_type=client_credentials`` with the connected app's
consumer key and secret to ``<My Domain>/services/oauth2/token`` and gets an
access token for the app's integration user plus the ``instance_url`` its API
calls go to (help.salesforce.com, "OAuth 2.0 Client Credentials Flow for
Server-to-Server Integration"; the flow needs the org's My Domain URL, not
login.salesforce.com). Salesforce sends no ``expires_in``: a token lives
until the org's session timeout, so it is cached until an API call answers
401 ``INVALID_SESSION_ID`` and then renewed once (``renew``). The secret comes
from Key Vault (``salesforce-client-secret``) on each sign-in, so a rotated
secret is picked up at the next one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

from shared.errors import ErrorClass, HubError
from shared.http.client import ResilientClient

TOKEN_PATH = "/services/oauth2/token"  # noqa: S105 - a path, not a secret


@dataclass(frozen=True)
class Session:
    access_token: str
    instance_url: str


class SalesforceSession:
    """The one access token the process uses, shared by every call until Salesforce refuses it."""

    def __init__(self, login: ResilientClient, client_id: str, client_secret: Callable[[], str]) -> None:
        self._login = login
        self._client_id = client_id
        self._client_secret = client_secret
        self._session: Session | None = None
        self._lock = threading.Lock()

    def current(self) -> Session:
        with self._lock:
            if self._session is None:
                self._session = self._sign_in()
            return self._session

    def renew(self, refused: Session) -> Session:
        """A new token, unless another thread already replaced the refused one."""
        with self._lock:
            if self._session is None or self._session == refused:
                self._session = self._sign_in()
            return self._session

    def _sign_in(self) -> Session:
        form = urlencode(
            {
                "grant_type": "client_credentials",
                "client_id": self._client_id,
                "client_secret": self._client_secret(),
            }
        )
        response = self._login.send(
            "POST",
            TOKEN_PATH,
            idempotent=True,  # asking for a token twice only issues two tokens
            headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
            content=form.encode(),
        )
        if response.status_code >= 400:
            try:
                reason = str(response.json().get("error", response.reason_phrase))
            except ValueError:
                reason = response.reason_phrase
            raise HubError(
                f"Salesforce refused the connected app's sign-in (HTTP {response.status_code} {reason}); "
                "check SALESFORCE_CLIENT_ID, the salesforce-client-secret secret and that the app "
                "allows the client credentials flow",
                error_class=ErrorClass.AUTH,
                context={"system": "salesforce", "operation": "sign in"},
            )
        answer = response.json()
        return Session(answer["access_token"], str(answer["instance_url"]).rstrip("/"))
