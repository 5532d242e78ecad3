"""Salesforce's REST API as the hub calls it: SOQL queries page by page, and record writes.

Every call goes through the hub's resilient HTTP client for the instance's
host (retries of 5xx and lost connections, breaker, deadline), with the
session's bearer token asked for per attempt. Before each call the API budget
is checked (``budget``), and every answer's ``Sforce-Limit-Info`` updates it.
A 401 ``INVALID_SESSION_ID`` renews the token once and sends the call again;
other failures become hub errors through ``errors``.

``query`` follows ``nextRecordsUrl`` until ``done`` (``/query`` leaves deleted
records out, ``/queryAll`` returns them with ``IsDeleted`` true), asking for
pages of ``batch_size`` with ``Sforce-Query-Options: batchSize=N`` (200 to
2,000; Salesforce may send fewer)
(developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_queryall.htm,
.../headers_queryoptions.htm).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from shared.connectors.salesforce.budget import ApiBudget
from shared.connectors.salesforce.errors import SESSION_EXPIRED, error_body, salesforce_error
from shared.connectors.salesforce.session import SalesforceSession, Session
from shared.http.hosts import HostRegistry

MIN_BATCH_SIZE, MAX_BATCH_SIZE = 200, 2000


@dataclass(frozen=True)
class QueryPage:
    records: list[dict[str, Any]]
    total_size: int


class SalesforceRest:
    """One org's REST API at one API version, within the hub's share of its daily calls."""

    def __init__(
        self,
        hosts: HostRegistry,
        session: SalesforceSession,
        budget: ApiBudget,
        *,
        api_version: str = "v62.0",
        batch_size: int = MAX_BATCH_SIZE,
    ) -> None:
        if not MIN_BATCH_SIZE <= batch_size <= MAX_BATCH_SIZE:
            raise ValueError(f"Salesforce's query batch size is {MIN_BATCH_SIZE}..{MAX_BATCH_SIZE}")
        self._hosts = hosts
        self._session = session
        self.budget = budget
        self._root = f"/services/data/{api_version}"
        self._batch_size = batch_size

    def query(self, soql: str, *, include_deleted: bool = False) -> Iterator[list[dict[str, Any]]]:
        """The query's records, one page per answer, without Salesforce's ``attributes``."""
        for page in self.query_pages(soql, include_deleted=include_deleted):
            yield page.records

    def query_pages(self, soql: str, *, include_deleted: bool = False) -> Iterator[QueryPage]:
        """The query's pages, each with the ``totalSize`` Salesforce counts for the whole query."""
        resource = "queryAll" if include_deleted else "query"
        url: str | None = f"{self._root}/{resource}?q={quote(soql, safe='')}"
        while url is not None:
            page = self._call("GET", url, f"{resource} page").json()
            records = [{k: v for k, v in record.items() if k != "attributes"} for record in page["records"]]
            yield QueryPage(records, int(page.get("totalSize", len(records))))
            url = None if page.get("done", True) else page["nextRecordsUrl"]

    @property
    def root(self) -> str:
        """``/services/data/<version>``: where the org's REST and Bulk API 2.0 resources live."""
        return self._root

    def call(
        self, method: str, url: str, operation: str, *, body: Mapping[str, Any] | None = None
    ) -> httpx.Response:
        """One call to the org within the budget, renewing an expired session once (Bulk API 2.0 uses it)."""
        return self._call(method, url, operation, body=body)

    def create(self, sobject: str, fields: Mapping[str, Any]) -> str:
        answer = self._call("POST", f"{self._root}/sobjects/{sobject}", f"create {sobject}", body=fields)
        return str(answer.json()["id"])

    def update(self, sobject: str, record_id: str, fields: Mapping[str, Any]) -> None:
        self._call("PATCH", f"{self._root}/sobjects/{sobject}/{record_id}", f"update {sobject}", body=fields)

    def _call(
        self, method: str, url: str, operation: str, *, body: Mapping[str, Any] | None = None
    ) -> httpx.Response:
        session = self._session.current()
        response = self._send(session, method, url, body)
        if response.status_code == 401 and error_body(response).code == SESSION_EXPIRED:
            response = self._send(self._session.renew(session), method, url, body)
        if response.status_code >= 400:
            raise salesforce_error(response, operation)
        return response

    def _send(
        self, session: Session, method: str, url: str, body: Mapping[str, Any] | None
    ) -> httpx.Response:
        self.budget.check()
        headers = {"Accept": "application/json", "Sforce-Query-Options": f"batchSize={self._batch_size}"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        return self._hosts.client(session.instance_url).send(
            method,
            url,
            # A PATCH of the same fields is harmless to repeat; a create is not (it would make two).
            idempotent=method in ("GET", "PATCH"),
            headers=headers,
            content=json.dumps(body).encode() if body is not None else None,
            auth=lambda: {"Authorization": f"Bearer {session.access_token}"},
            observe=self.budget.observe,
        )
