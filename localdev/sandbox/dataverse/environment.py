"""The sandbox Dataverse over HTTP: bearer-token check, service protection, Web API and ``$batch``.

Requests under ``/api/data/v9.2/`` need an access token from the sandbox Entra
ID whose audience is this environment's org URL, as Dataverse requires one for
``https://{org}.crm.dynamics.com``. Without one the answer is 401 with a
``WWW-Authenticate: Bearer authorization_uri=..., resource_id=...`` challenge
(the shape Dataverse sends) and an OData error body; Microsoft does not document
the body of that 401, so its code is left empty.

Test controls live outside ``/api/data`` and need no token:
``POST /sandbox/throttle`` (``{"limit", "window_seconds", "retry_after",
"fraction", "seed", "execution_ms_limit", "cost_ms_per_operation",
"concurrent_limit"}``, see ``protection``), ``POST /sandbox/outage`` (``{"seconds": 120}`` down for
two minutes, ``{"seconds": null}`` down until switched back, ``{"seconds": 0}``
back up), ``POST /sandbox/faults`` (``{"fault", "count", "fraction", "seed"}``,
plus ``"seconds"`` for ``late_answer``; ``GET`` shows what is armed),
``POST /sandbox/steps`` (the service endpoint's steps and Service Bus
connection, see ``service_endpoint``; ``GET`` shows them),
``POST /sandbox/settings`` (``{"collation": "CI_AI"|"CI_AS",
"change_tracking_seconds"}``; also start options ``--collation`` and
``--change-tracking-days``), ``GET /sandbox/stats`` and ``POST /sandbox/reset``
(forgets every row, tombstone, counter, throttle setting, fault and outage, and
puts the settings and steps back to those the sandbox started with).

The faults, each for the next ``count`` requests or a seeded ``fraction``:
``html_500`` (500 with an HTML page, as a gateway sends), ``unavailable_503``
(503 with ``Retry-After: 1``), ``too_large_413`` (413, the body refused unread),
``late_answer`` (the answer is held ``seconds`` so the client's read time-out
passes first; the request is still carried out), ``batch_operation_429`` (one
operation inside a ``$batch`` is answered 429 with service protection's code
while the rest run) and ``expired_token_401`` (the token is refused as expired,
as when it lapses mid-run), ``dropped_connection`` (the connection is aborted
before the request is carried out, with no HTTP answer at all) and
``dropped_after_apply`` (the request, a whole ``$batch`` included, is carried
out and then the connection is aborted before the answer: the client cannot
tell it was applied). A dropped request counts in ``/sandbox/stats`` with
status 0.

During an outage every Web API request is answered 503 with an OData error
body and no ``Retry-After``, before its token is looked at, as Dataverse's
front door answers while an environment is unavailable (maintenance, a
failover); the connection itself stays up. The identity endpoints stay up:
Entra ID is another service.
"""

from __future__ import annotations

import asyncio

import jwt
import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from localdev.dropped_connection import drop_connection
from localdev.outage import FaultSetting, FaultSwitches, OutageSwitch
from localdev.sandbox.dataverse.batch import Batch
from localdev.sandbox.dataverse.collation import Collation
from localdev.sandbox.dataverse.errors import ODataError, unavailable
from localdev.sandbox.dataverse.protection import (
    RequestStats,
    ServiceProtection,
    ThrottledError,
    ThrottleSettings,
)
from localdev.sandbox.dataverse.service_endpoint import parse_steps
from localdev.sandbox.dataverse.webapi import API_PATH, ApiReply, ApiRequest, WebApi, error_reply
from localdev.sandbox.identity import IdentityProvider

_METHODS = ["GET", "POST", "PATCH", "DELETE", "PUT"]
HTML_500 = "html_500"
UNAVAILABLE = "unavailable_503"
TOO_LARGE = "too_large_413"
LATE = "late_answer"
BATCH_OPERATION_429 = "batch_operation_429"
LAPSED_SIGN_IN = "expired_token_401"
DROPPED = "dropped_connection"
DROPPED_AFTER_APPLY = "dropped_after_apply"
FAULTS = frozenset(
    {
        HTML_500,
        UNAVAILABLE,
        TOO_LARGE,
        LATE,
        BATCH_OPERATION_429,
        LAPSED_SIGN_IN,
        DROPPED,
        DROPPED_AFTER_APPLY,
    }
)
# The status /sandbox/stats counts a dropped request under: it got no answer.
NO_ANSWER = 0
# What a gateway in front of the Web API sends when the service behind it fails: not OData JSON.
_HTML_500_BODY = (
    b"<!DOCTYPE html><html><head><title>500 - Internal server error.</title></head>"
    b"<body><h2>500 - Internal server error.</h2></body></html>"
)


class DataverseEnvironment:
    """One org: its Web API, who may call it, and the test controls around it."""

    def __init__(
        self, api: WebApi, identity: IdentityProvider, org_url: str, protection: ServiceProtection
    ) -> None:
        self.api = api
        self.identity = identity
        self.org_url = org_url.rstrip("/")
        self.protection = protection
        self.stats = RequestStats()
        self.outage = OutageSwitch()
        self.faults = FaultSwitches(FAULTS)
        self.late_seconds = 0.0
        self._collation = api.store.collation
        self._change_tracking_seconds = api.change_tracking_seconds
        self._batch = Batch(api, self._operation_throttled)

    def routes(self) -> list[Route]:
        return [
            Route(API_PATH + "{target:path}", self._web_api, methods=_METHODS),
            Route("/sandbox/throttle", self._throttle, methods=["POST"]),
            Route("/sandbox/outage", self._outage, methods=["POST"]),
            Route("/sandbox/faults", self._faults, methods=["POST", "GET"]),
            Route("/sandbox/settings", self._settings, methods=["POST"]),
            Route("/sandbox/stats", self._stats, methods=["GET"]),
            Route("/sandbox/steps", self._steps, methods=["POST", "GET"]),
            Route("/sandbox/reset", self._reset, methods=["POST"]),
        ]

    async def _web_api(self, request: Request) -> Response:
        raw_path = request.scope.get("raw_path") or request.url.path.encode()
        target = raw_path.decode("latin-1").removeprefix(API_PATH)
        query = request.scope.get("query_string", b"").decode("latin-1")
        if query:
            target += "?" + query
        body = await request.body()
        batch_requests: int | None = None
        throttle_code: str | None = None
        if self.outage.down:
            reply = error_reply(unavailable())
        elif self.faults.strikes(DROPPED):
            return await self._drop(request, None)
        elif (broken := self._broken()) is not None:
            reply = broken
        elif (refusal := self._refusal(request.headers.get("authorization"))) is not None:
            reply = refusal
        else:
            try:
                self.protection.admit()
            except ThrottledError as throttled:
                reply = error_reply(throttled)
                reply.headers["Retry-After"] = str(throttled.retry_after)
                throttle_code = throttled.code
            else:
                try:
                    reply, batch_requests = self._serve(request, target, body)
                    await asyncio.sleep(self.protection.cost_seconds(batch_requests or 1))
                finally:
                    self.protection.served(batch_requests or 1)
                if self.faults.strikes(DROPPED_AFTER_APPLY):
                    return await self._drop(request, batch_requests)
        if self.faults.strikes(LATE):
            await asyncio.sleep(self.late_seconds)
        self.stats.record(request.method, reply.status, batch_requests, throttle_code)
        return Response(reply.body, status_code=reply.status, headers=reply.headers)

    async def _drop(self, request: Request, batch_requests: int | None) -> Response:
        """Abort the connection instead of answering; the request counts as answered with ``NO_ANSWER``."""
        self.stats.record(request.method, NO_ANSWER, batch_requests)
        await drop_connection(request)
        return Response(status_code=NO_ANSWER)  # never sent: uvicorn discards it, the connection is gone

    def _serve(self, request: Request, target: str, body: bytes) -> tuple[ApiReply, int | None]:
        """The Web API's or ``$batch``'s answer, and how many requests a batch carried."""
        if target == "$batch" and request.method == "POST":
            return self._batch.run(
                request.headers.get("content-type", ""), body, request.headers.get("prefer", "")
            )
        headers = {name.lower(): value for name, value in request.headers.items()}
        headers["prefer"] = ", ".join(request.headers.getlist("prefer"))
        return self.api.handle(ApiRequest(request.method, target, headers, body)), None

    def _broken(self) -> ApiReply | None:
        """A failure switched on with ``/sandbox/faults`` that answers before the token is looked at."""
        if self.faults.strikes(HTML_500):
            return ApiReply(500, {"Content-Type": "text/html"}, _HTML_500_BODY)
        if self.faults.strikes(UNAVAILABLE):
            reply = error_reply(unavailable())
            reply.headers["Retry-After"] = "1"
            return reply
        if self.faults.strikes(TOO_LARGE):
            # The Web API refuses a request body over its limit before reading it (HTTP 413).
            return error_reply(ODataError(413, "", "The request is larger than the service accepts."))
        return None

    def _operation_throttled(self) -> ApiReply | None:
        """One operation inside a ``$batch`` refused by service protection, the others served."""
        if not self.faults.strikes(BATCH_OPERATION_429):
            return None
        reply = error_reply(ThrottledError.requests(ThrottleSettings(), 1))
        reply.headers["Retry-After"] = "1"
        return reply

    def _refusal(self, authorization: str | None) -> ApiReply | None:
        scheme, _, token = (authorization or "").partition(" ")
        if self.faults.strikes(LAPSED_SIGN_IN):
            reason = f"The bearer token is not valid for {self.org_url}: Signature has expired."
        elif scheme.lower() != "bearer" or not token.strip():
            reason = "The request has no bearer token."
        else:
            try:
                self.identity.validate(token.strip(), self.org_url)
                return None
            except jwt.InvalidTokenError as error:
                reason = f"The bearer token is not valid for {self.org_url}: {error}."
        reply = error_reply(ODataError(401, "", reason))
        reply.headers["WWW-Authenticate"] = (
            f"Bearer authorization_uri={self.identity.authority}/oauth2/authorize, "
            f"resource_id={self.org_url}/"
        )
        return reply

    async def _throttle(self, request: Request) -> Response:
        try:
            document = orjson.loads(await request.body() or b"{}")
            settings = ThrottleSettings.from_json(document if isinstance(document, dict) else {})
        except (orjson.JSONDecodeError, TypeError, ValueError) as error:
            return JSONResponse({"error": f"throttle settings not usable: {error}"}, status_code=400)
        self.protection.configure(settings)
        return JSONResponse(settings.as_json())

    async def _outage(self, request: Request) -> Response:
        try:
            document = orjson.loads(await request.body() or b"{}")
            seconds = document["seconds"] if isinstance(document, dict) else document
            if seconds is not None and (isinstance(seconds, bool) or not isinstance(seconds, int | float)):
                raise TypeError("seconds must be a number or null")
        except (orjson.JSONDecodeError, KeyError, TypeError) as error:
            return JSONResponse({"error": f"outage not usable: {error}"}, status_code=400)
        self.outage.begin(seconds)
        return JSONResponse({"down": self.outage.down, "remainingSeconds": self.outage.remaining()})

    async def _faults(self, request: Request) -> Response:
        """``{"fault": "html_500", "count": 2}`` or ``{"fault": ..., "fraction": 0.1, "seed": 7}``."""
        if request.method == "GET":
            return JSONResponse(self.faults.as_json())
        try:
            document = orjson.loads(await request.body() or b"{}")
            if not isinstance(document, dict):
                raise TypeError("the body must be a JSON object")
            self.faults.configure(str(document.get("fault")), FaultSetting.from_json(document))
            if "seconds" in document:
                self.late_seconds = float(document["seconds"])
        except (orjson.JSONDecodeError, TypeError, ValueError) as error:
            return JSONResponse({"error": f"fault not usable: {error}"}, status_code=400)
        return JSONResponse(self.faults.as_json())

    async def _settings(self, request: Request) -> Response:
        """``{"collation": "CI_AS", "change_tracking_seconds": 60}``: the environment's own settings."""
        try:
            document = orjson.loads(await request.body() or b"{}")
            if not isinstance(document, dict):
                raise TypeError("the body must be a JSON object")
            if "collation" in document:
                self.api.store.set_collation(Collation(document["collation"]))
            if "change_tracking_seconds" in document:
                seconds = document["change_tracking_seconds"]
                if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds <= 0:
                    raise ValueError("change_tracking_seconds must be a positive number")
                self.api.change_tracking_seconds = float(seconds)
        except (orjson.JSONDecodeError, TypeError, ValueError) as error:
            return JSONResponse({"error": f"settings not usable: {error}"}, status_code=400)
        return JSONResponse(
            {
                "collation": self.api.store.collation,
                "change_tracking_seconds": self.api.change_tracking_seconds,
            }
        )

    async def _steps(self, request: Request) -> Response:
        """``{"connection_string": ..., "steps": [...]}``: the service endpoint's steps until reset."""
        endpoint = self.api.service_endpoint
        if endpoint is None:
            return JSONResponse({"error": "this sandbox has no service endpoint"}, status_code=404)
        if request.method == "POST":
            try:
                document = orjson.loads(await request.body() or b"{}")
                connection = document.get("connection_string") if isinstance(document, dict) else None
                if connection is not None and not isinstance(connection, str):
                    raise TypeError("connection_string must be a string")
                endpoint.register(connection, parse_steps(document))
            except (orjson.JSONDecodeError, TypeError, ValueError) as error:
                return JSONResponse({"error": f"steps not usable: {error}"}, status_code=400)
        return JSONResponse(endpoint.registration.as_json())

    async def _stats(self, request: Request) -> Response:
        return JSONResponse(self.stats.as_json())

    async def _reset(self, request: Request) -> Response:
        self.api.store.clear()
        self.stats.reset()
        self.protection.configure(ThrottleSettings())
        self.outage.end()
        self.faults.clear()
        self.late_seconds = 0.0
        self.api.store.set_collation(self._collation)
        self.api.change_tracking_seconds = self._change_tracking_seconds
        if self.api.service_endpoint is not None:
            self.api.service_endpoint.reset()
        return Response(status_code=204)
