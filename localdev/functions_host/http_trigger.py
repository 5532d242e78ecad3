"""HTTP triggers served as the Functions host serves them: route, method, key check, then the function.

Requests reach ``/<routePrefix>/<route>``. A path no route matches is 404, a
matched route with an undeclared method is 405, a missing or wrong key is 401,
a body longer than ``FUNCTIONS_REQUEST_BODY_SIZE_LIMIT`` (Azure's default: 100 MB)
is a bare 413, refused from its ``Content-Length`` before it is read and cut off
when it runs past the limit anyway, and a function that raises is a bare 500,
the answers a caller gets in Azure.
Keys come from local settings: ``LOCAL_FUNCTION_KEY`` opens ``function``-level
routes, ``LOCAL_MASTER_KEY`` opens every route, ``admin`` ones included.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, quote

import azure.functions as func
from opentelemetry.trace import SpanKind

from localdev.functions_host.catalog import AppFunction
from localdev.functions_host.invocation import Invoker, Outcome
from localdev.functions_host.routes import RouteTemplate
from localdev.functions_host.telemetry import invocation_span
from shared.telemetry import names

FUNCTION_KEY_SETTING = "LOCAL_FUNCTION_KEY"
MASTER_KEY_SETTING = "LOCAL_MASTER_KEY"
ANONYMOUS, FUNCTION, ADMIN = "anonymous", "function", "admin"
HTTP_REASON = "This function was programmatically called via the host APIs."
BODY_LIMIT_SETTING = "FUNCTIONS_REQUEST_BODY_SIZE_LIMIT"
DEFAULT_BODY_LIMIT = (
    104_857_600  # bytes: Azure's host refuses longer request bodies unless the setting says otherwise
)

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


class MissingKeyError(RuntimeError):
    """A function's auth level needs a key that the local settings do not define."""


@dataclass(frozen=True)
class HttpEndpoint:
    """One HTTP-triggered function: its route, the methods it declared (``None``: any) and its auth level."""

    function: AppFunction
    route: RouteTemplate
    methods: frozenset[str] | None
    auth_level: str

    def describe(self, base_url: str) -> str:
        methods = ",".join(sorted(self.methods)) if self.methods else "GET,POST,PUT,PATCH,DELETE,HEAD,OPTIONS"
        return f"[{methods}] {base_url}/{self.route.template} (auth: {self.auth_level})"


def http_endpoint(function: AppFunction, route_prefix: str) -> HttpEndpoint:
    """The endpoint a function's ``httpTrigger`` declares, under ``route_prefix``."""
    route = str(function.trigger.get("route") or function.name)
    template = "/".join(part.strip("/") for part in (route_prefix, route) if part.strip("/"))
    methods = function.trigger.get("methods")
    auth_level = str(function.trigger.get("authLevel") or FUNCTION).lower()
    if auth_level not in (ANONYMOUS, FUNCTION, ADMIN):
        raise ValueError(f"auth level '{auth_level}' is not anonymous, function or admin")
    return HttpEndpoint(
        function,
        RouteTemplate(template),
        frozenset(str(method).upper() for method in methods) if methods else None,
        auth_level,
    )


@dataclass(frozen=True)
class FunctionKeys:
    function_key: str | None
    master_key: str | None

    @classmethod
    def from_settings(cls, settings: Mapping[str, str]) -> FunctionKeys:
        return cls(settings.get(FUNCTION_KEY_SETTING) or None, settings.get(MASTER_KEY_SETTING) or None)

    def require_for(self, endpoints: Iterable[HttpEndpoint]) -> None:
        """Refuse to start when a route's auth level needs a key the settings lack."""
        needed = {
            FUNCTION: (FUNCTION_KEY_SETTING, self.function_key),
            ADMIN: (MASTER_KEY_SETTING, self.master_key),
        }
        for endpoint in endpoints:
            if endpoint.auth_level in needed:
                setting, key = needed[endpoint.auth_level]
                if key is None:
                    raise MissingKeyError(
                        f"Function '{endpoint.function.name}' has auth level '{endpoint.auth_level}', "
                        f"so the local host needs Values.{setting} in local.settings.json"
                    )

    def admit(self, auth_level: str, presented: str | None) -> bool:
        if auth_level == ANONYMOUS:
            return True
        accepted = [self.master_key] if auth_level == ADMIN else [self.function_key, self.master_key]
        return presented is not None and any(
            key is not None and hmac.compare_digest(key.encode(), presented.encode()) for key in accepted
        )


def _headers(scope: Scope) -> dict[str, str]:
    headers: dict[str, str] = {}
    for raw_name, raw_value in scope["headers"]:
        name, value = raw_name.decode("latin-1").lower(), raw_value.decode("latin-1")
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return headers


def request_body_limit(settings: Mapping[str, str]) -> int:
    """The longest request body the host reads, in bytes, from the app settings as Azure's host takes it."""
    value = settings.get(BODY_LIMIT_SETTING)
    return int(value) if value else DEFAULT_BODY_LIMIT


def _declared_too_long(headers: Mapping[str, str], limit: int) -> bool:
    declared = headers.get("content-length", "")
    return declared.isdigit() and int(declared) > limit


async def _body(receive: Receive, limit: int) -> bytes | None:
    """The whole body, or None as soon as it runs past ``limit`` (the rest is never held)."""
    chunks, length = [], 0
    while True:
        message = await receive()
        chunk = message.get("body", b"")
        length += len(chunk)
        if length > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks)


async def _respond(send: Send, status: int, headers: list[tuple[str, str]], body: bytes = b"") -> None:
    encoded = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers]
    encoded.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": encoded})
    await send({"type": "http.response.body", "body": body})


def _response_parts(value: Any) -> tuple[int, list[tuple[str, str]], bytes] | None:
    """Status, headers and body of what a function returned, as the worker's HTTP converter reads them."""
    if isinstance(value, str):
        return 200, [("content-type", "text/plain; charset=utf-8")], value.encode()
    if not isinstance(value, func.HttpResponse):
        return None
    response = value
    headers = [(name, text) for name, text in response.headers.items() if name.lower() != "content-length"]
    if not any(name.lower() == "content-type" for name, _ in headers):
        mimetype = response.mimetype
        charset = f"; charset={response.charset}" if mimetype.startswith("text/") else ""
        headers.append(("content-type", mimetype + charset))
    return response.status_code, headers, response.get_body()


class HttpTriggers:
    """The ASGI application that routes requests to the app's HTTP-triggered functions."""

    def __init__(
        self,
        endpoints: list[HttpEndpoint],
        keys: FunctionKeys,
        invoker: Invoker,
        log: logging.Logger,
        body_limit: int = DEFAULT_BODY_LIMIT,
    ) -> None:
        self._endpoints = sorted(endpoints, key=lambda endpoint: endpoint.route.precedence)
        self._keys = keys
        self._body_limit = body_limit
        self._invoker = invoker
        self._log = log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        method = scope["method"].upper()
        path = scope["path"]
        matches = [(e, params) for e in self._endpoints if (params := e.route.match(path)) is not None]
        if not matches:
            if path == "/" and method in ("GET", "HEAD"):
                await _respond(send, 200, [("content-type", "text/plain; charset=utf-8")], b"Host is running")
                return
            await _respond(send, 404, [])
            return
        allowed = [(e, p) for e, p in matches if e.methods is None or method in e.methods]
        if not allowed:
            methods = sorted({m for endpoint, _ in matches for m in endpoint.methods or ()})
            await _respond(send, 405, [("allow", ", ".join(methods))])
            return
        endpoint, route_params = allowed[0]
        headers = _headers(scope)
        params = dict(parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True))
        presented = headers.get("x-functions-key") or params.get("code")
        if not self._keys.admit(endpoint.auth_level, presented):
            await _respond(send, 401, [])
            return
        body = (
            None if _declared_too_long(headers, self._body_limit) else await _body(receive, self._body_limit)
        )
        if body is None:
            await _respond(send, 413, [])
            return
        request = func.HttpRequest(
            method,
            self._url(scope, headers),
            headers=headers,
            params=params,
            route_params=route_params,
            body=body,
        )
        with invocation_span(
            names.SPAN_HTTP_REQUEST,
            SpanKind.SERVER,
            endpoint.function.name,
            carrier=headers,
            attributes={names.HTTP_METHOD: method, names.URL_PATH: path},
        ) as span:
            outcome = await self._invoker.invoke(endpoint.function, request, HTTP_REASON)
            span.set_attribute(names.HTTP_STATUS, _status_of(outcome))
        if not outcome.succeeded:
            await _respond(send, 500, [])
            return
        response = _response_parts(outcome.value)
        if response is None:
            self._log.error(
                "Functions.%s returned %s; an HTTP function must return func.HttpResponse or str",
                endpoint.function.name,
                type(outcome.value).__name__,
            )
            await _respond(send, 500, [])
            return
        await _respond(send, *response)

    @staticmethod
    def _url(scope: Scope, headers: Mapping[str, str]) -> str:
        host = headers.get("host") or "{}:{}".format(*scope["server"])
        path = scope.get("raw_path", b"").decode("latin-1") or quote(scope["path"])
        query = scope["query_string"].decode("latin-1")
        return f"{scope['scheme']}://{host}{path}" + (f"?{query}" if query else "")


def _status_of(outcome: Outcome) -> int:
    """The status the caller gets: the function's, or 500 when it failed or returned no response."""
    if not outcome.succeeded:
        return 500
    if isinstance(outcome.value, func.HttpResponse):
        return int(outcome.value.status_code)
    return 200 if isinstance(outcome.value, str) else 500
