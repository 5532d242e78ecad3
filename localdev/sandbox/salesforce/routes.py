"""The sandbox org over HTTP: Salesforce's documented endpoints and the sandbox's own controls.

- ``POST /services/oauth2/token`` (client credentials): ``access_token``,
  ``instance_url``, ``id``, ``token_type``, ``issued_at``, ``signature``; no
  ``expires_in``, as Salesforce sends none (the session times out).
- ``GET /services/data/vXX.X/query?q=`` and ``/queryAll?q=``: ``totalSize``,
  ``done``, ``records`` with ``attributes``, and ``nextRecordsUrl``
  (``/services/data/vXX.X/query/<locator>-<offset>``) while more remain;
  ``Sforce-Query-Options: batchSize=N`` (200..2000, default 2000).
- ``/sobjects/{Object}`` POST (201 ``{"id","success","errors"}``), and
  ``/sobjects/{Object}/{id}`` GET, PATCH (204), DELETE (204).
- ``POST /composite``: ``compositeRequest`` subrequests, ``@{ref.id}``
  references, ``allOrNone``; it counts as one call.
- Bulk API 2.0 query jobs under ``/jobs/query`` (``bulk.py``).
- Every REST answer carries ``Sforce-Limit-Info: api-usage=N/M``; errors are
  ``[{"message", "errorCode"}]``.

Controls under ``/sandbox/salesforce/``: ``reset``, ``seed`` (a generated
pipeline), ``records`` (insert with system fields; GET ``records/{Object}``
the raw store, deleted included), ``outage`` (``{"down": true}``), ``limits``
(``{"daily_limit", "used"}``), ``expire-sessions`` and ``bulk-jobs`` (GET: the query jobs run).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from localdev.sandbox.salesforce.bulk import BulkQueries
from localdev.sandbox.salesforce.org import (
    API_VERSION,
    DEFAULT_BATCH_SIZE,
    MIN_BATCH_SIZE,
    OBJECTS,
    OrgError,
    SalesforceOrg,
    wire,
)
from localdev.sandbox.salesforce.seed import seed_pipeline
from localdev.sandbox.salesforce.soql import SoqlError, parse

_DATA = "/services/data/{version}"
_REFERENCE = re.compile(r"@\{([A-Za-z0-9_]+)\.([A-Za-z0-9_]+)\}")


class SalesforceSandbox:
    """The routes of one sandbox org."""

    def __init__(self, org: SalesforceOrg) -> None:
        self.org = org
        self.bulk = BulkQueries(org)

    def routes(self) -> list[Route]:
        return [
            Route("/services/oauth2/token", self._token, methods=["POST"]),
            Route(_DATA + "/query", self._query, methods=["GET"]),
            Route(_DATA + "/queryAll", self._query_all, methods=["GET"]),
            Route(_DATA + "/query/{locator}", self._more, methods=["GET"]),
            Route(_DATA + "/queryAll/{locator}", self._more, methods=["GET"]),
            Route(_DATA + "/sobjects/{sobject}", self._sobjects, methods=["POST"]),
            Route(
                _DATA + "/sobjects/{sobject}/{record_id}", self._record, methods=["GET", "PATCH", "DELETE"]
            ),
            Route(_DATA + "/composite", self._composite, methods=["POST"]),
            *self.bulk.routes(),
            Route("/sandbox/salesforce/reset", self._reset, methods=["POST"]),
            Route("/sandbox/salesforce/seed", self._seed, methods=["POST"]),
            Route("/sandbox/salesforce/records", self._insert, methods=["POST"]),
            Route("/sandbox/salesforce/records/{sobject}", self._records, methods=["GET"]),
            Route("/sandbox/salesforce/outage", self._outage, methods=["POST"]),
            Route("/sandbox/salesforce/limits", self._limits, methods=["POST", "GET"]),
            Route("/sandbox/salesforce/expire-sessions", self._expire, methods=["POST"]),
        ]

    # Salesforce's endpoints

    async def _token(self, request: Request) -> Response:
        form = {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}
        if form.get("grant_type") != "client_credentials":
            return JSONResponse(
                {"error": "unsupported_grant_type", "error_description": "grant type not supported"}, 400
            )
        try:
            token = self.org.issue_token(form.get("client_id", ""), form.get("client_secret", ""))
        except OrgError as error:
            return JSONResponse({"error": error.code, "error_description": str(error)}, error.status)
        issued = str(int(time.time() * 1000))
        identity = f"{self.org.instance_url}/id/00DHb0000000001/005Hb0000000001"
        digest = hmac.new(token.encode(), (identity + issued).encode(), hashlib.sha256).digest()
        return JSONResponse(
            {
                "access_token": token,
                "instance_url": self.org.instance_url,
                "id": identity,
                "token_type": "Bearer",
                "issued_at": issued,
                "signature": base64.b64encode(digest).decode(),
            }
        )

    async def _query(self, request: Request) -> Response:
        return self._answer(request, lambda: self._run_query(request, include_deleted=False))

    async def _query_all(self, request: Request) -> Response:
        return self._answer(request, lambda: self._run_query(request, include_deleted=True))

    async def _more(self, request: Request) -> Response:
        return self._answer(request, lambda: (200, self._page(request.path_params["locator"])))

    async def _sobjects(self, request: Request) -> Response:
        body = await request.body()
        return self._answer(request, lambda: self._create(request.path_params["sobject"], body))

    async def _record(self, request: Request) -> Response:
        body = await request.body()
        name, record_id = request.path_params["sobject"], request.path_params["record_id"]
        return self._answer(request, lambda: self._one(request.method, name, record_id, body))

    async def _composite(self, request: Request) -> Response:
        body = await request.body()
        return self._answer(request, lambda: (200, self._run_composite(body)))

    def _answer(self, request: Request, work: Any) -> Response:
        """Admit the call (counting it), do the work, and add the limit header to whatever answers."""
        try:
            self.org.admit(request.headers.get("authorization"))
            status, body = work()
        except OrgError as error:
            status, body = error.status, error.body()
        except SoqlError as error:
            status, body = 400, [{"message": str(error), "errorCode": error.code}]
        reply = Response(status_code=status) if body is None else _json(body, status)
        reply.headers["Sforce-Limit-Info"] = self.org.limit_info()
        return reply

    def _run_query(self, request: Request, *, include_deleted: bool) -> tuple[int, Any]:
        text = request.query_params.get("q")
        if not text:
            raise OrgError(400, "MALFORMED_QUERY", "A query string has to be specified")
        query = parse(text, lambda name: OBJECTS[name].known if name in OBJECTS else None)
        records = query.run(self.org.snapshot(query.sobject, include_deleted=include_deleted))
        shaped = [_shaped(query.sobject, record, query.fields) for record in records]
        locator = self.org.park(
            shaped, query.fields, _batch_size(request.headers.get("sforce-query-options"))
        )
        return 200, self._page(f"{locator}-0")

    def _page(self, reference: str) -> dict[str, Any]:
        locator, _, offset_text = reference.rpartition("-")
        parked = self.org.locators.get(locator)
        if parked is None or not offset_text.isdigit():
            raise OrgError(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        offset = int(offset_text)
        end = offset + parked.batch_size
        page: dict[str, Any] = {
            "totalSize": len(parked.records),
            "done": end >= len(parked.records),
            "records": parked.records[offset:end],
        }
        if not page["done"]:
            page["nextRecordsUrl"] = f"/services/data/{API_VERSION}/query/{locator}-{end}"
        return page

    def _create(self, name: str, body: bytes) -> tuple[int, Any]:
        record_id = self.org.create(name, _document(body))
        return 201, {"id": record_id, "success": True, "errors": []}

    def _one(self, method: str, name: str, record_id: str, body: bytes) -> tuple[int, Any]:
        if method == "GET":
            record = self.org.get(name, record_id)
            return 200, _shaped(name, record, tuple(record))
        if method == "PATCH":
            self.org.update(name, record_id, _document(body))
        else:
            self.org.delete(name, record_id)
        return 204, None

    def _run_composite(self, body: bytes) -> dict[str, Any]:
        document = _document(body)
        subrequests = document.get("compositeRequest")
        if not isinstance(subrequests, list) or not 1 <= len(subrequests) <= 25:
            raise OrgError(400, "INVALID_INPUT", "compositeRequest must hold 1 to 25 subrequests")
        all_or_none = bool(document.get("allOrNone"))
        answers: list[dict[str, Any]] = []
        results: dict[str, Any] = {}
        failed = False
        with self.org.lock:
            for sub in subrequests:
                reference = str(sub.get("referenceId", ""))
                if failed and all_or_none:
                    answers.append(
                        _sub_answer(
                            reference,
                            400,
                            [
                                {
                                    "errorCode": "PROCESSING_HALTED",
                                    "message": "The transaction was rolled back since another operation in the same transaction failed.",
                                }
                            ],
                        )
                    )
                    continue
                try:
                    status, answer = self._subrequest(sub, results)
                except OrgError as error:
                    status, answer = error.status, error.body()
                except SoqlError as error:
                    status, answer = 400, [{"message": str(error), "errorCode": error.code}]
                failed = failed or status >= 400
                if isinstance(answer, dict):
                    results[reference] = answer
                answers.append(_sub_answer(reference, status, answer))
        return {"compositeResponse": answers}

    def _subrequest(self, sub: dict[str, Any], results: dict[str, Any]) -> tuple[int, Any]:
        url = _resolved(str(sub.get("url", "")), results)
        method = str(sub.get("method", "GET")).upper()
        body = orjson.dumps(sub["body"]) if "body" in sub else b""
        prefix = f"/services/data/{API_VERSION}/sobjects/"
        if not url.startswith(prefix):
            raise OrgError(400, "INVALID_INPUT", f"composite supports sobjects subrequests here, not {url}")
        parts = url.removeprefix(prefix).strip("/").split("/")
        if len(parts) == 1 and method == "POST":
            return self._create(parts[0], body)
        if len(parts) == 2 and method in ("GET", "PATCH", "DELETE"):
            return self._one(method, parts[0], parts[1], body)
        raise OrgError(405, "METHOD_NOT_ALLOWED", f"{method} is not allowed on {url}")

    # the sandbox's controls

    async def _reset(self, request: Request) -> Response:
        self.org.reset()
        self.bulk.jobs.clear()
        return Response(status_code=204)

    async def _seed(self, request: Request) -> Response:
        document = orjson.loads(await request.body() or b"{}")
        counts = seed_pipeline(self.org, **document)
        return JSONResponse(counts)

    async def _insert(self, request: Request) -> Response:
        """``{"Object": [{field: value}]}``: records as they are (system fields allowed); answers their ids."""
        document = orjson.loads(await request.body())
        try:
            ids = {
                name: [self.org.create(name, r, system=True) for r in rows] for name, rows in document.items()
            }
        except OrgError as error:
            return _json(error.body(), error.status)
        return JSONResponse(ids)

    async def _records(self, request: Request) -> Response:
        name = request.path_params["sobject"]
        try:
            rows = self.org.snapshot(name, include_deleted=True)
        except OrgError as error:
            return _json(error.body(), error.status)
        return _json([{k: wire(v) for k, v in row.items()} for row in rows], 200)

    async def _outage(self, request: Request) -> Response:
        self.org.down = bool(orjson.loads(await request.body() or b"{}").get("down"))
        return JSONResponse({"down": self.org.down})

    async def _limits(self, request: Request) -> Response:
        if request.method == "POST":
            document = orjson.loads(await request.body() or b"{}")
            with self.org.lock:
                self.org.daily_limit = int(document.get("daily_limit", self.org.daily_limit))
                self.org.used = int(document.get("used", self.org.used))
        return JSONResponse({"daily_limit": self.org.daily_limit, "used": self.org.used})

    async def _expire(self, request: Request) -> Response:
        self.org.expire_sessions()
        return Response(status_code=204)


def _batch_size(options: str | None) -> int:
    match = re.search(r"batchSize=(\d+)", options or "")
    if match is None:
        return DEFAULT_BATCH_SIZE
    return min(max(int(match.group(1)), MIN_BATCH_SIZE), DEFAULT_BATCH_SIZE)


def _shaped(name: str, record: Mapping[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    shaped: dict[str, Any] = {
        "attributes": {"type": name, "url": f"/services/data/{API_VERSION}/sobjects/{name}/{record['Id']}"}
    }
    shaped.update({field: wire(record.get(field)) for field in fields})
    return shaped


def _sub_answer(reference: str, status: int, body: Any) -> dict[str, Any]:
    return {"body": body, "httpHeaders": {}, "httpStatusCode": status, "referenceId": reference}


def _resolved(url: str, results: dict[str, Any]) -> str:
    def value(match: re.Match[str]) -> str:
        earlier = results.get(match.group(1))
        if earlier is None or match.group(2) not in earlier:
            raise OrgError(400, "INVALID_REFERENCE", f"Invalid reference specified: {match.group(0)}")
        return str(earlier[match.group(2)])

    return _REFERENCE.sub(value, url)


def _document(body: bytes) -> dict[str, Any]:
    try:
        document = orjson.loads(body or b"{}")
    except orjson.JSONDecodeError as error:
        raise OrgError(400, "JSON_PARSER_ERROR", f"The request body is not JSON: {error}") from None
    if not isinstance(document, dict):
        raise OrgError(400, "JSON_PARSER_ERROR", "The request body must be a JSON object")
    return document


def _json(body: Any, status: int) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json;charset=UTF-8")
