"""A strict double of the Dataverse Web API v9.2, written from Microsoft's documentation.

It answers the calls the hub makes the way learn.microsoft.com shows them:

* "Perform conditional operations using the Web API": PATCH upsert answers 204
  with ``OData-EntityId``; ``If-None-Match: *`` on an existing row answers 412
  "A record with matching key values already exists."; ``If-Match: *`` on a
  missing row answers 404; a stale ``If-Match`` etag answers 412 "The version
  of the existing record doesn't match the RowVersion property provided.";
  error bodies are ``{"error": {"code": "", "message": ...}}``.
* "Use Upsert to Create or Update a record": key columns belong in the URL, not
  the body; ``OData-EntityId`` names the row by its alternate key.
* "Create a table row using the Web API": ``POST set`` creates, its key
  columns in the body; a row already holding them answers 412 with
  DuplicateRecordEntityKey ``0x80060892`` ("Web service error codes").
* "Execute batch operations using the Web API": multipart/mixed with parts of
  ``Content-Type: application/http`` and ``Content-Transfer-Encoding: binary``,
  at most 1000 requests, answers in request order under a ``batchresponse_``
  boundary; without ``Prefer: odata.continue-on-error`` the batch stops at the
  first failure and takes its status.
* "Service protection API limits": 429 with ``Retry-After`` seconds and the
  codes 0x80072322 / 0x80072321.
* "Page results" and "Use change tracking": ``Prefer: odata.maxpagesize``,
  ``@odata.nextLink``, ``Prefer: odata.track-changes``, ``@odata.deltaLink``
  and ``$deletedEntity`` entries.

Strict: a request outside that protocol (no bearer token, missing OData
headers, unknown table, wrong key columns, key columns in a body, ``$skip``,
a malformed or oversized batch) is recorded in ``violations`` and answered 400;
the fixture fails the test if any were recorded.
"""

from __future__ import annotations

import json
import random
import re
import threading
import time
import uuid
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit

import httpx

ORG = "https://towneparkdev.crm.dynamics.com"
ROOT = ORG + "/api/data/v9.2/"
TOKEN = "webapi-double-token"
_PATH_PREFIX = "/api/data/v9.2/"
_MAX_BATCH = 1000
_MAX_PAGE = 5000
_REASONS = {
    200: "OK",
    204: "No Content",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    412: "Precondition Failed",
    429: "Too Many Requests",
    503: "Service Unavailable",
}
_THROTTLE_BODY = {
    "code": "0x80072322",
    "message": "Number of requests exceeded the limit of 6000 over time window of 300 seconds.",
}


@dataclass
class Answer:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: dict[str, Any] | None = None

    def content(self) -> bytes:
        return json.dumps(self.body).encode() if self.body is not None else b""


def _error(status: int, message: str, code: str = "") -> Answer:
    return Answer(
        status,
        {"Content-Type": "application/json; odata.metadata=minimal", "OData-Version": "4.0"},
        {"error": {"code": code, "message": message}},
    )


@dataclass
class Table:
    entity_set: str
    logical_name: str
    primary_id: str
    alternate_key: tuple[str, ...]
    max_lengths: dict[str, int] = field(default_factory=dict)
    columns: frozenset[str] | None = None
    rows: dict[tuple[Any, ...], dict[str, Any]] = field(default_factory=dict)
    deleted: list[tuple[int, str]] = field(default_factory=list)


@dataclass(frozen=True)
class Seen:
    """One HTTP request the double received (a batch counts once, its operations separately)."""

    method: str
    path: str
    operations: int = 0


def _normal(values: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(value.casefold() if isinstance(value, str) else value for value in values)


_LITERAL = re.compile(r"'((?:[^']|'')*)'|(-?\d+(?:\.\d+)?)|(true|false)")


def _parse_literal(text: str) -> Any:
    match = _LITERAL.fullmatch(text.strip())
    if not match:
        raise ValueError(f"not an OData literal: {text!r}")
    if match.group(1) is not None:
        return match.group(1).replace("''", "'")
    if match.group(2) is not None:
        number = match.group(2)
        return float(number) if "." in number else int(number)
    return match.group(3) == "true"


def _split_top(text: str, separator: str) -> list[str]:
    """Split on ``separator`` outside single-quoted strings."""
    parts, current, quoted, i = [], "", False, 0
    while i < len(text):
        if text[i] == "'":
            quoted = not quoted
        if not quoted and text.startswith(separator, i):
            parts.append(current)
            current, i = "", i + len(separator)
            continue
        current += text[i]
        i += 1
    parts.append(current)
    return parts


class WebApiDouble:
    def __init__(self, root: str = ROOT, token: str = TOKEN, seed: int = 7) -> None:
        self.root = root
        self.token = token
        self.tables: dict[str, Table] = {}
        self.violations: list[str] = []
        self.seen: list[Seen] = []
        self.executed: Counter[str] = Counter()  # successful writes per "set(key)"
        self.sent_operations = 0
        self.throttled = 0  # 429 answers given, to batches and to operations inside them
        self.throttle_fraction = 0.0
        self.throttle_retry_after = "2"
        self.batch_throttles: list[str] = []
        self.batch_failures: list[int] = []
        self.writes: list[tuple[str, str, dict[str, str], dict[str, Any] | None]] = []
        self.honour_continue_on_error = True
        self.max_in_flight = 0
        self.hold_seconds = 0.0
        self._in_flight = 0
        self._version = 1000
        self._random = random.Random(seed)
        self._lock = threading.RLock()

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def add_table(
        self,
        entity_set: str,
        alternate_key: tuple[str, ...],
        *,
        max_lengths: Mapping[str, int] | None = None,
        columns: frozenset[str] | None = None,
    ) -> Table:
        logical = entity_set[:-1] if entity_set.endswith("s") else entity_set
        table = Table(entity_set, logical, logical + "id", alternate_key, dict(max_lengths or {}), columns)
        self.tables[entity_set] = table
        return table

    def seed(self, entity_set: str, rows: list[dict[str, Any]]) -> None:
        with self._lock:
            table = self.tables[entity_set]
            for row in rows:
                key = tuple(row[name] for name in table.alternate_key)
                stored = {**row, table.primary_id: str(uuid.uuid4()), "_version": self._next_version()}
                table.rows[_normal(key)] = stored

    def rows(self, entity_set: str) -> list[dict[str, Any]]:
        with self._lock:
            return [
                {name: value for name, value in row.items() if name != "_version"}
                for row in self.tables[entity_set].rows.values()
            ]

    def row(self, entity_set: str, *key: Any) -> dict[str, Any] | None:
        with self._lock:
            found = self.tables[entity_set].rows.get(_normal(tuple(key)))
            return None if found is None else {k: v for k, v in found.items() if k != "_version"}

    def edit(self, entity_set: str, key: tuple[Any, ...], changes: Mapping[str, Any]) -> None:
        """Someone changes a row in Dataverse (a model-driven app user, a flow)."""
        with self._lock:
            row = self.tables[entity_set].rows[_normal(key)]
            row.update(changes)
            row["_version"] = self._next_version()

    def remove(self, entity_set: str, key: tuple[Any, ...]) -> None:
        with self._lock:
            table = self.tables[entity_set]
            row = table.rows.pop(_normal(key))
            table.deleted.append((self._next_version(), row[table.primary_id]))

    def batches(self) -> list[Seen]:
        return [seen for seen in self.seen if seen.path.endswith("$batch")]

    def _next_version(self) -> int:
        self._version += 1
        return self._version

    def _violation(self, message: str) -> Answer:
        self.violations.append(message)
        return _error(400, f"double: {message}")

    # -- the transport ------------------------------------------------------------------------------

    def handle(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)
        try:
            if self.hold_seconds:
                time.sleep(self.hold_seconds)  # lets parallel batches overlap for the concurrency test
            with self._lock:
                answer, raw = self._top(request)
        finally:
            with self._lock:
                self._in_flight -= 1
        if raw is not None:
            return raw
        return httpx.Response(answer.status, headers=answer.headers, content=answer.content())

    def _top(self, request: httpx.Request) -> tuple[Answer, httpx.Response | None]:
        path = request.url.path
        self.seen.append(Seen(request.method, path))
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            if request.headers.get("Authorization", "").startswith("Bearer "):
                return _error(401, "The user is not authenticated."), None
            return self._violation(f"{request.method} {path} without a bearer token"), None
        for name, value in (
            ("OData-Version", "4.0"),
            ("OData-MaxVersion", "4.0"),
            ("Accept", "application/json"),
        ):
            if request.headers.get(name) != value:
                return self._violation(f"{request.method} {path} without {name}: {value}"), None
        if not path.startswith(_PATH_PREFIX):
            return self._violation(f"{path} is not under {_PATH_PREFIX}"), None
        if path == _PATH_PREFIX + "$batch":
            return self._batch(request)
        return self._operation(request.method, request.url, dict(request.headers), request.content), None

    # -- single operations --------------------------------------------------------------------------

    def _operation(
        self, method: str, url: httpx.URL | str, headers: Mapping[str, str], body: bytes
    ) -> Answer:
        url = httpx.URL(url) if isinstance(url, str) else url
        resource = unquote(url.raw_path.decode("ascii").split("?", 1)[0][len(_PATH_PREFIX) :])
        headers = {name.lower(): value for name, value in headers.items()}
        if method == "GET":
            return self._get(resource, url, headers)
        if method == "POST" and resource in self.tables:
            self.writes.append((method, resource, dict(headers), json.loads(body) if body else None))
            return self._post(self.tables[resource], body)
        match = re.fullmatch(r"(\w+)\((.*)\)", resource)
        if not match or match.group(1) not in self.tables:
            return self._violation(f"{method} {resource}: not a known table row")
        table = self.tables[match.group(1)]
        try:
            key = self._parse_key(table, match.group(2))
        except ValueError as error:
            return self._violation(f"{method} {resource}: {error}")
        self.writes.append((method, resource, dict(headers), json.loads(body) if body else None))
        if method == "PATCH":
            return self._patch(table, key, headers, body)
        if method == "DELETE":
            return self._delete(table, key)
        return self._violation(f"{method} is not a method the hub uses")

    def _parse_key(self, table: Table, text: str) -> tuple[Any, ...]:
        values: dict[str, Any] = {}
        for pair in _split_top(text, ","):
            name, equals, literal = pair.partition("=")
            if not equals:
                raise ValueError(f"key segment {pair!r} is not name=value")
            values[name.strip()] = _parse_literal(literal)
        if set(values) != set(table.alternate_key):
            raise ValueError(
                f"key columns {sorted(values)} are not the alternate key {list(table.alternate_key)}"
            )
        return tuple(values[name] for name in table.alternate_key)

    def _entity_id(self, table: Table, key: tuple[Any, ...]) -> str:
        pairs = []
        for name, value in zip(table.alternate_key, key, strict=True):
            literal = "'" + value.replace("'", "''") + "'" if isinstance(value, str) else json.dumps(value)
            pairs.append(f"{name}={literal}")
        return f"{self.root}{table.entity_set}({','.join(pairs)})"

    def _patch(self, table: Table, key: tuple[Any, ...], headers: Mapping[str, str], body: bytes) -> Answer:
        if not headers.get("content-type", "").startswith("application/json"):
            return self._violation(f"PATCH {table.entity_set} without a JSON Content-Type")
        try:
            data = json.loads(body)
        except ValueError:
            return self._violation(f"PATCH {table.entity_set}: the body is not JSON")
        in_body = set(data) & set(table.alternate_key)
        if in_body:
            return self._violation(f"PATCH {table.entity_set}: key columns {sorted(in_body)} in the body")
        for name, value in data.items():
            if table.columns is not None and name not in table.columns:
                return _error(
                    400,
                    f"Could not find a property named '{name}' on type "
                    f"'Microsoft.Dynamics.CRM.{table.logical_name}'.",
                    "0x80060888",
                )
            limit = table.max_lengths.get(name)
            if limit is not None and isinstance(value, str) and len(value) > limit:
                return _error(
                    400,
                    f"A validation error occurred.  The length of the '{name}' attribute of the "
                    f"'{table.logical_name}' entity exceeded the maximum allowed length of '{limit}'.",
                    "0x80044331",
                )
        existing = table.rows.get(_normal(key))
        if_match, if_none_match = headers.get("if-match"), headers.get("if-none-match")
        if if_none_match is not None and if_none_match != "*":
            return self._violation(f"If-None-Match: {if_none_match} on a write")
        if if_none_match == "*" and existing is not None:
            return _error(412, "A record with matching key values already exists.")
        if if_match is not None:
            if existing is None:
                return _error(404, f"{table.logical_name} With Ids = {key} Do Not Exist")
            if if_match != "*" and if_match != f'W/"{existing["_version"]}"':
                return _error(
                    412, "The version of the existing record doesn't match the RowVersion property provided."
                )
        if existing is None:
            existing = {name: value for name, value in zip(table.alternate_key, key, strict=True)}
            existing[table.primary_id] = str(uuid.uuid4())
            table.rows[_normal(key)] = existing
        existing.update(data)
        existing["_version"] = self._next_version()
        self.executed[f"{table.entity_set}{key}"] += 1
        entity_id = self._entity_id(table, key)
        return Answer(204, {"OData-Version": "4.0", "Location": entity_id, "OData-EntityId": entity_id})

    def _post(self, table: Table, body: bytes) -> Answer:
        data = json.loads(body)
        missing = set(table.alternate_key) - set(data)
        if missing:
            return self._violation(f"POST {table.entity_set} without key columns {sorted(missing)}")
        key = tuple(data[name] for name in table.alternate_key)
        if _normal(key) in table.rows:
            return _error(
                412,
                f"Entity Key {table.logical_name}_key violated. A record with the same value for "
                f"{', '.join(table.alternate_key)} already exists. A duplicate record cannot be created. "
                "Select one or more unique values and try again.",
                "0x80060892",
            )
        row = {**data, table.primary_id: str(uuid.uuid4()), "_version": self._next_version()}
        table.rows[_normal(key)] = row
        self.executed[f"{table.entity_set}{key}"] += 1
        entity_id = f"{self.root}{table.entity_set}({row[table.primary_id]})"
        return Answer(204, {"OData-Version": "4.0", "OData-EntityId": entity_id})

    def _delete(self, table: Table, key: tuple[Any, ...]) -> Answer:
        row = table.rows.pop(_normal(key), None)
        if row is None:
            return _error(404, f"{table.logical_name} With Ids = {key} Does Not Exist")
        table.deleted.append((self._next_version(), row[table.primary_id]))
        self.executed[f"{table.entity_set}{key}"] += 1
        return Answer(204, {"OData-Version": "4.0"})

    # -- reads --------------------------------------------------------------------------------------

    def _get(self, resource: str, url: httpx.URL, headers: Mapping[str, str]) -> Answer:
        table = self.tables.get(resource)
        if table is None:
            return self._violation(f"GET {resource}: not a known table")
        options = dict(parse_qsl(url.query.decode("ascii"), keep_blank_values=True))
        unsupported = set(options) - {"$select", "$filter", "$skiptoken", "$deltatoken"}
        if unsupported:
            return self._violation(
                f"GET {resource} with {sorted(unsupported)}; page with nextLink, not $skip/$top"
            )
        if "$select" not in options:
            return self._violation(f"GET {resource} without $select")
        select = options["$select"].split(",")
        prefer = [item.strip() for item in headers.get("prefer", "").split(",") if item.strip()]
        page_size = _MAX_PAGE
        tracking = False
        for item in prefer:
            if item.startswith("odata.maxpagesize="):
                page_size = int(item.split("=", 1)[1])
                if not 1 <= page_size <= _MAX_PAGE:
                    return self._violation(f"odata.maxpagesize={page_size}")
            elif item == "odata.track-changes":
                tracking = True
        since = options.get("$deltatoken")
        if (tracking or since) and "$filter" in options:
            return _error(
                400, 'The "$filter" query parameter isn\'t supported when Change Tracking is enabled.'
            )
        try:
            rows = self._matching(table, options.get("$filter"))
        except ValueError as error:
            return self._violation(f"GET {resource}: {error}")
        deleted: list[dict[str, Any]] = []
        if since is not None:
            rows = [row for row in rows if row["_version"] > int(since)]
            deleted = [
                {
                    "@odata.context": f"{self.root}$metadata#{table.entity_set}/$deletedEntity",
                    "id": row_id,
                    "reason": "deleted",
                }
                for version, row_id in table.deleted
                if version > int(since)
            ]
        rows.sort(key=lambda row: row["_version"])
        items = [self._project(table, row, select) for row in rows] + deleted
        start = int(options.get("$skiptoken", "0"))
        page = items[start : start + page_size]
        body: dict[str, Any] = {
            "@odata.context": f"{self.root}$metadata#{table.entity_set}({','.join(select)})"
        }
        body["value"] = page
        if start + page_size < len(items):
            following = {k: v for k, v in options.items() if k != "$skiptoken"} | {
                "$skiptoken": str(start + page_size)
            }
            body["@odata.nextLink"] = self._link(table, following)
        elif tracking or since is not None:
            body["@odata.deltaLink"] = self._link(
                table, {"$select": options["$select"], "$deltatoken": str(self._version)}
            )
        headers_out = {"Content-Type": "application/json; odata.metadata=minimal", "OData-Version": "4.0"}
        if tracking:
            headers_out["Preference-Applied"] = "odata.track-changes"
        return Answer(200, headers_out, body)

    def _link(self, table: Table, options: Mapping[str, str]) -> str:
        """A next or delta link as Dataverse writes them: ``$`` options left bare, values escaped."""
        query = "&".join(name + "=" + quote(value, safe="',()=:$") for name, value in options.items())
        return f"{self.root}{table.entity_set}?{query}"

    def _project(self, table: Table, row: Mapping[str, Any], select: list[str]) -> dict[str, Any]:
        projected: dict[str, Any] = {"@odata.etag": f'W/"{row["_version"]}"'}
        projected.update({name: row.get(name) for name in select})
        projected[table.primary_id] = row[table.primary_id]
        return projected

    def _matching(self, table: Table, filter_text: str | None) -> list[dict[str, Any]]:
        rows = list(table.rows.values())
        if not filter_text:
            return rows
        wanted: list[dict[str, Any]] = []
        for raw_clause in _split_top(filter_text, " or "):
            clause = raw_clause.strip()
            if not (clause.startswith("(") and clause.endswith(")")):
                raise ValueError(f"filter clause {clause!r} is not parenthesised")
            terms: dict[str, Any] = {}
            for term in _split_top(clause[1:-1], " and "):
                name, operator, literal = term.strip().split(" ", 2)
                if operator != "eq":
                    raise ValueError(f"filter operator {operator!r}")
                terms[name] = _parse_literal(literal)
            wanted.append(terms)
        return [
            row
            for row in rows
            if any(all(_normal((row.get(n),)) == _normal((v,)) for n, v in terms.items()) for terms in wanted)
        ]

    # -- $batch -------------------------------------------------------------------------------------

    def _batch(self, request: httpx.Request) -> tuple[Answer, httpx.Response | None]:
        if request.method != "POST":
            return self._violation(f"{request.method} $batch"), None
        match = re.search(r'boundary="?([^";]+)"?', request.headers.get("Content-Type", ""))
        if not request.headers.get("Content-Type", "").startswith("multipart/mixed") or not match:
            return self._violation("$batch without Content-Type: multipart/mixed; boundary=..."), None
        if self.batch_failures:
            status = self.batch_failures.pop(0)
            return _error(status, "Service unavailable, try again."), None
        if self.batch_throttles:
            retry_after = self.batch_throttles.pop(0)
            self.throttled += 1
            answer = _error(
                429,
                "Combined execution time of incoming requests exceeded limit of 1,200,000 milliseconds "
                "over time window of 300 seconds. Decrease number of concurrent requests or reduce the "
                "duration of requests and try again later.",
                "0x80072321",
            )
            answer.headers["Retry-After"] = retry_after
            return answer, None
        try:
            operations = self._batch_operations(request.content, match.group(1))
        except ValueError as error:
            return self._violation(f"$batch body: {error}"), None
        self.seen[-1] = Seen("POST", request.url.path, len(operations))
        if not operations:
            return self._violation("an empty $batch"), None
        if len(operations) > _MAX_BATCH:
            return self._violation(f"a $batch of {len(operations)} requests; the limit is {_MAX_BATCH}"), None
        asked = "odata.continue-on-error" in request.headers.get("Prefer", "")
        continue_on_error = asked and self.honour_continue_on_error
        answers: list[Answer] = []
        top_status = 200
        for method, url, headers, body in operations:
            self.sent_operations += 1
            if method in ("PATCH", "DELETE") and self._random.random() < self.throttle_fraction:
                answer = _error(429, _THROTTLE_BODY["message"], _THROTTLE_BODY["code"])
                self.throttled += 1
                answer.headers["Retry-After"] = self.throttle_retry_after
            else:
                answer = self._operation(method, url, headers, body)
            answers.append(answer)
            if answer.status >= 400 and not continue_on_error:
                top_status = answer.status
                break
        boundary = f"batchresponse_{uuid.uuid4()}"
        headers_out = {"OData-Version": "4.0", "Content-Type": f"multipart/mixed; boundary={boundary}"}
        if continue_on_error:
            headers_out["Preference-Applied"] = "odata.continue-on-error"
        raw = httpx.Response(top_status, headers=headers_out, content=self._multipart(boundary, answers))
        return Answer(top_status), raw

    def _batch_operations(self, body: bytes, boundary: str) -> list[tuple[str, str, dict[str, str], bytes]]:
        text = body.decode("utf-8")
        delimiter = "--" + boundary
        if not text.rstrip().endswith(delimiter + "--"):
            raise ValueError("the batch does not end with its closing delimiter")
        chunks = text.split(delimiter)
        if chunks[0].strip():
            raise ValueError("text before the first delimiter")
        operations = []
        for chunk in chunks[1:-1]:
            part_head, _, message = chunk.removeprefix("\r\n").partition("\r\n\r\n")
            part_headers = dict(line.split(": ", 1) for line in part_head.split("\r\n") if line)
            if part_headers.get("Content-Type") != "application/http":
                raise ValueError(f"a part with Content-Type {part_headers.get('Content-Type')!r}")
            if part_headers.get("Content-Transfer-Encoding") != "binary":
                raise ValueError("a part without Content-Transfer-Encoding: binary")
            request_head, _, request_body = message.partition("\r\n\r\n")
            lines = request_head.split("\r\n")
            request_line = re.fullmatch(r"(GET|POST|PATCH|PUT|DELETE) (\S+) HTTP/1\.1", lines[0])
            if not request_line:
                raise ValueError(f"request line {lines[0]!r}")
            headers = dict(line.split(": ", 1) for line in lines[1:] if line)
            method, target = request_line.groups()
            if target.startswith(_PATH_PREFIX):
                target = self.root.rstrip("/").rsplit(_PATH_PREFIX.rstrip("/"), 1)[0] + target
            if not target.startswith(self.root):
                raise ValueError(f"operation URL {target} is not under {self.root}")
            if urlsplit(target).path.endswith("$batch"):
                raise ValueError("a batch inside a batch")
            operations.append((method, target, headers, request_body.removesuffix("\r\n").encode("utf-8")))
        return operations

    def _multipart(self, boundary: str, answers: list[Answer]) -> bytes:
        out = []
        for answer in answers:
            out.append(
                f"--{boundary}\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n"
            )
            out.append(f"HTTP/1.1 {answer.status} {_REASONS.get(answer.status, 'Status')}\r\n")
            for name, value in answer.headers.items():
                out.append(f"{name}: {value}\r\n")
            out.append("\r\n")
            out.append(answer.content().decode() + "\r\n" if answer.body is not None else "\r\n")
        out.append(f"--{boundary}--\r\n")
        return "".join(out).encode("utf-8")
