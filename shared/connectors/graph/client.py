"""Microsoft Graph v1.0 over the hub's resilient HTTP client, signed in app-only through MSAL.

The token is the client-credentials grant for ``https://graph.microsoft.com/.default``
(the same app registration and MSAL cache as Dataverse's, another resource),
asked for on every attempt so a renewed token is the one sent; a 401 drops it
once and the call is sent again. Graph's error body (``error.code`` and
``error.message``) is what an error says, never a token or a query string.

Why not ``msgraph-sdk``: it is async-only (Kiota over ``httpx.AsyncClient``)
and brings its own retry, redirect and auth middleware, so it would bypass the
hub's one retry table, breakers and deadlines (``shared/http``), and every
trigger here is synchronous. The calls the hub makes are six small JSON
requests, written against Microsoft's documented shapes in this module.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx
import orjson

from shared.connectors.dataverse.auth import RenewableToken
from shared.errors import ErrorClass, HubError, NotFoundError, classify_status
from shared.http.client import ResilientClient

GRAPH_SCOPE_RESOURCE = "https://graph.microsoft.com"  # the token's resource, whatever URL Graph is served at
_JSON = "application/json"


class GraphClient:
    """JSON calls to Graph under one base URL (``https://graph.microsoft.com/v1.0`` in Azure)."""

    def __init__(self, http: ResilientClient, token: RenewableToken) -> None:
        self._http = http
        self._token = token

    def get(self, url: str, params: Mapping[str, str] | None = None) -> dict[str, Any]:
        """GET a path under the base URL, or an absolute ``@odata.nextLink`` / ``@odata.deltaLink``."""
        return json_body(self.send("GET", url, params=params), url)

    def send(
        self,
        method: str,
        url: str,
        *,
        body: Mapping[str, Any] | None = None,
        params: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
        allowed: frozenset[int] = frozenset(),
    ) -> httpx.Response:
        """The response to a 2xx (or to a status in ``allowed``); a ``HubError`` classified by status otherwise."""
        content = orjson.dumps(dict(body)) if body is not None else None
        headers = {"Accept": _JSON, **({"Content-Type": _JSON} if content is not None else {})}
        response = self._attempt(method, url, headers, content, params, idempotent)
        if response.status_code == 401:
            self._token.renew()
            response = self._attempt(method, url, headers, content, params, idempotent)
        if response.is_success or response.status_code in allowed or response.is_redirect:
            return response
        raise graph_error(response, method, url)

    def download(self, url: str) -> bytes:
        """A file's bytes: Graph answers ``/content`` with 302 to a pre-authenticated URL, fetched without a token."""
        response = self.send("GET", url)
        if response.is_redirect:
            location = response.headers["Location"]
            response = self._http.send("GET", location)
            if not response.is_success:
                raise graph_error(response, "GET", "the file's download URL")
        return response.content

    def _attempt(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        content: bytes | None,
        params: Mapping[str, str] | None,
        idempotent: bool | None,
    ) -> httpx.Response:
        return self._http.send(
            method,
            url,
            headers=headers,
            content=content,
            params=params,
            idempotent=idempotent,
            auth=lambda: {"Authorization": f"Bearer {self._token()}"},
        )


def graph_error(response: httpx.Response, method: str, url: str) -> HubError:
    """Graph's error as the hub's: 404 is ``NotFoundError``, the rest classified by status."""
    try:
        error = orjson.loads(response.content).get("error", {})
        code, message = str(error.get("code", "")), str(error.get("message", ""))
    except (orjson.JSONDecodeError, AttributeError):
        code, message = "", response.reason_phrase
    path = url.split("?", 1)[0]
    text = f"Graph {method} {path} answered {response.status_code} {code}: {message}".strip()
    context = {"system": "graph", "operation": f"{method} {path}", "status": response.status_code}
    if response.status_code == 404:
        return NotFoundError(text, context=context)
    return HubError(text, error_class=classify_status(response.status_code), context=context)


def json_body(response: httpx.Response, url: str) -> dict[str, Any]:
    """The response's JSON object; a transient error when Graph answered something else."""
    try:
        document = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        document = None
    if not isinstance(document, dict):
        raise HubError(
            f"Graph GET {url.split('?', 1)[0]} did not answer a JSON object",
            error_class=ErrorClass.TRANSIENT,
            context={"system": "graph"},
        )
    return document
