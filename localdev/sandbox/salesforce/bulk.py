"""The sandbox org's Bulk API 2.0 query jobs, as Salesforce documents them.

``POST /jobs/query`` (``{"operation": "query" | "queryAll", "query": soql}``)
answers the job in state ``UploadComplete``; ``GET /jobs/query/{id}`` answers
``InProgress`` once, then ``JobComplete`` (so a client must poll);
``GET /jobs/query/{id}/results?maxRecords=N&locator=L`` answers CSV (a header
row, empty for null, ``true``/``false``), with ``Sforce-NumberOfRecords`` and
``Sforce-Locator`` (``null`` on the last set)
(developer.salesforce.com/docs/atlas.en-us.api_asynch.meta/api_asynch/query_get_job_results.htm).
Every call is admitted and counted as the REST ones are.
"""

from __future__ import annotations

import csv
import io
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from localdev.sandbox.salesforce.org import API_VERSION, OBJECTS, OrgError, SalesforceOrg, wire
from localdev.sandbox.salesforce.soql import SoqlError, parse

_JOBS = f"/services/data/{API_VERSION}/jobs/query"
DEFAULT_MAX_RECORDS = 50_000


@dataclass
class QueryJob:
    id: str
    operation: str
    sobject: str
    fields: tuple[str, ...]
    records: list[Mapping[str, Any]]
    polls: int = 0
    result_sets: int = 0


class BulkQueries:
    def __init__(self, org: SalesforceOrg) -> None:
        self.org = org
        self.jobs: dict[str, QueryJob] = {}

    def routes(self) -> list[Route]:
        return [
            Route(_JOBS, self._create, methods=["POST"]),
            Route(_JOBS + "/{job_id}", self._job, methods=["GET"]),
            Route(_JOBS + "/{job_id}/results", self._results, methods=["GET"]),
            Route("/sandbox/salesforce/bulk-jobs", self._listed, methods=["GET"]),
        ]

    async def _listed(self, request: Request) -> Response:
        """The control plane's view: each job, what it read and how many result sets were fetched."""
        with self.org.lock:
            jobs = list(self.jobs.values())
        listed = [
            {
                "id": j.id,
                "operation": j.operation,
                "object": j.sobject,
                "records": len(j.records),
                "resultSets": j.result_sets,
            }
            for j in jobs
        ]
        return _json(listed, 200)

    async def _create(self, request: Request) -> Response:
        body = await request.body()
        return self._answer(request, lambda: self._start(json.loads(body or b"{}")))

    async def _job(self, request: Request) -> Response:
        return self._answer(request, lambda: self._state(request.path_params["job_id"]))

    async def _results(self, request: Request) -> Response:
        return self._answer(request, lambda: self._csv(request))

    def _answer(self, request: Request, work: Any) -> Response:
        try:
            self.org.admit(request.headers.get("authorization"))
            reply: Response = work()
        except OrgError as error:
            reply = _json(error.body(), error.status)
        except SoqlError as error:
            reply = _json([{"message": str(error), "errorCode": error.code}], 400)
        reply.headers["Sforce-Limit-Info"] = self.org.limit_info()
        return reply

    def _start(self, body: dict[str, Any]) -> Response:
        operation = body.get("operation")
        if operation not in ("query", "queryAll") or not body.get("query"):
            raise OrgError(400, "INVALIDJOB", "operation must be query or queryAll, with a query")
        query = parse(str(body["query"]), lambda name: OBJECTS[name].known if name in OBJECTS else None)
        records = query.run(self.org.snapshot(query.sobject, include_deleted=operation == "queryAll"))
        job = QueryJob(f"750Hb{secrets.token_hex(6)}", operation, query.sobject, query.fields, records)
        with self.org.lock:
            self.jobs[job.id] = job
        return _json(self._info(job, "UploadComplete"), 200)

    def _state(self, job_id: str) -> Response:
        job = self._find(job_id)
        job.polls += 1
        return _json(self._info(job, "InProgress" if job.polls == 1 else "JobComplete"), 200)

    def _csv(self, request: Request) -> Response:
        job = self._find(request.path_params["job_id"])
        if job.polls < 2:
            raise OrgError(400, "INVALIDJOBSTATE", "the job is not JobComplete")
        start = int(request.query_params.get("locator") or 0)
        size = int(request.query_params.get("maxRecords") or DEFAULT_MAX_RECORDS)
        chunk = job.records[start : start + size]
        job.result_sets += 1
        text = io.StringIO()
        writer = csv.writer(text, lineterminator="\n")
        writer.writerow(job.fields)
        writer.writerows([_cell(record.get(field)) for field in job.fields] for record in chunk)
        following = start + size
        locator = str(following) if following < len(job.records) else "null"
        return Response(
            text.getvalue(),
            media_type="text/csv",
            headers={"Sforce-Locator": locator, "Sforce-NumberOfRecords": str(len(chunk))},
        )

    def _find(self, job_id: str) -> QueryJob:
        with self.org.lock:
            job = self.jobs.get(job_id)
        if job is None:
            raise OrgError(404, "NOT_FOUND", "The requested resource does not exist")
        return job

    def _info(self, job: QueryJob, state: str) -> dict[str, Any]:
        return {
            "id": job.id,
            "operation": job.operation,
            "object": job.sobject,
            "state": state,
            "contentType": "CSV",
            "apiVersion": float(API_VERSION.removeprefix("v")),
            "lineEnding": "LF",
            "columnDelimiter": "COMMA",
        }


def _cell(value: Any) -> str:
    shown = wire(value)
    if shown is None:
        return ""
    if isinstance(shown, bool):
        return "true" if shown else "false"
    return str(shown)


def _json(body: Any, status: int) -> Response:
    return Response(json.dumps(body), status_code=status, media_type="application/json")
