"""Every operation of the served document, called with valid inputs on the local host, answers as it documents.

The host runs the real ``function_app.py`` over Azurite, the Service Bus
emulator, the sandbox Dataverse, the sandbox GP and the sandbox EDW. Each
answer is checked by schemathesis against the document the host serves
(Swagger 2.0, ``x-nullable`` included), and its status must be one the
operation documents. A new operation fails the walk until it is called here.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import schemathesis
from azure.storage.blob import BlobServiceClient
from schemathesis.specs.openapi.schemas import OpenApiSchema

from localdev.sandbox_sql import SandboxSummary
from shared.platform.blob_store import BlobStore
from shared.platform.dead_letter_shelf import DeadLetterShelf, ShelvedMessage
from tests.billing.forecast_world import ADVANCED, forecasts, site_with_contract, statement
from tests.fixtures.dataverse_sandbox import DataverseSandbox
from tests.fixtures.hub_host import MASTER_KEY, HubHost
from tests.salesforce.org_settings import signed_lead

pytestmark = [pytest.mark.services, pytest.mark.timeout(300)]

BASE_PATH = "/api"


class Walk:
    """Calls operations by id, checks each answer against the served document, and remembers which it called."""

    def __init__(self, client: httpx.Client, document: dict[str, Any]) -> None:
        self._client = client
        self._schema: OpenApiSchema = schemathesis.openapi.from_dict(document)  # type: ignore[assignment]
        self._routes = {
            op["operationId"]: (path, method)
            for path, item in document["paths"].items()
            for method, op in item.items()
        }
        self._responses = {
            op["operationId"]: op["responses"] for item in document["paths"].values() for op in item.values()
        }
        self.called: set[str] = set()
        self.documented = set(self._routes)

    def __call__(
        self, operation_id: str, route: dict[str, str] | None = None, **request: Any
    ) -> httpx.Response:
        path, method = self._routes[operation_id]
        url = BASE_PATH + path.format(**(route or {}))
        response = self._client.request(method.upper(), url, **request)
        assert str(response.status_code) in self._responses[operation_id], (
            f"{operation_id} answered {response.status_code}, which it does not document: {response.text}"
        )
        assert response.status_code < 400, (operation_id, response.status_code, response.text)
        self._schema[path][method.upper()].validate_response(response)  # raises, naming each mismatch
        self.called.add(operation_id)
        return response

    def refused(
        self, operation_id: str, status: int, route: dict[str, str] | None = None, **request: Any
    ) -> httpx.Response:
        """An operation valid inputs cannot pass on this host (approving needs an Entra ID token, and the host
        takes keys): its refusal must be ``status``, documented, and keep the documented problem schema."""
        path, method = self._routes[operation_id]
        response = self._client.request(method.upper(), BASE_PATH + path.format(**(route or {})), **request)
        assert response.status_code == status, (operation_id, response.status_code, response.text)
        assert str(status) in self._responses[operation_id], f"{operation_id} does not document {status}"
        self._schema[path][method.upper()].validate_response(response)
        self.called.add(operation_id)
        return response

    def until_finished(
        self, operation_id: str, first: httpx.Response, seconds: float = 120
    ) -> httpx.Response:
        """Polls Location while the answer is 202, checking every answer; the final one."""
        answer, deadline = first, time.monotonic() + seconds
        while answer.status_code == 202:
            assert time.monotonic() < deadline, f"{operation_id} never finished: {answer.text}"
            time.sleep(1)
            answer = self(operation_id, {"id": answer.headers["Location"].rsplit("/", 1)[-1]})
        return answer


@pytest.fixture
def walk(hub_host: HubHost) -> Iterator[Walk]:
    with hub_host.client() as client:
        served = client.get("/api/v1/openapi.json")
        assert served.status_code == 200
        yield Walk(client, served.json())


def _shelve(hub_host: HubHost, azurite: str, queue: str, message_id: str) -> None:
    """A dead letter on the hub's shelf, as the delivery code leaves one."""
    state = BlobStore(BlobServiceClient.from_connection_string(azurite), hub_host.settings["STATE_CONTAINER"])
    DeadLetterShelf(state).put(
        ShelvedMessage(
            queue=queue, message_id=message_id, body='{"stream": "no_such_stream"}', shelved_at=datetime.now(UTC),
            reason="permanent", description="walked by the schema test",
        )
    )  # fmt: skip


def _edw_reads(summary: SandboxSummary) -> dict[str, dict[str, str]]:
    """Valid parameters of every live read: the sandbox's first site, its last payroll days, month and year."""
    site, last = summary.sites[0], summary.last_payroll_day
    month = {"site": site, "period": f"{last:%Y%m}"}
    year = {"site": site, "year": str(last.year)}
    days = {"site": site, "fromDate": f"{summary.first_payroll_day}", "toDate": f"{last}"}
    return {
        "ReadBudgetDailyDetail": month,
        "ReadBudgetActualSummary": {"sites": ",".join(summary.sites[:3]), "year": str(last.year)},
        "ReadParkingRates": year,
        "ReadPayrollBudget": year,
        "ReadPayrollActuals": month,
        "ReadScheduledHours": month,
        "ReadDailyRevenue": days,
        "ReadOtherExpenses": year,
    }


def test_every_operation_answers_valid_inputs_as_the_served_document_says(
    walk: Walk,
    hub_host: HubHost,
    hub_sql_summary: SandboxSummary,
    azurite: str,
    dataverse_sandbox: DataverseSandbox,
) -> None:
    walk("ListSyncs")
    stream = {"stream": "master_customer_sites"}
    run = walk.until_finished("GetRun", walk("StartSync", stream, json={"mode": "incremental"}))
    walk("ListRuns", params={"stream": stream["stream"], "top": "5"})
    walk.until_finished("GetRun", walk("ReplayRun", {"id": run.json()["id"]}))

    for message_id in ("walk-resubmit", "walk-discard"):
        _shelve(hub_host, azurite, "sync-requests", message_id)
    listed = walk("ListDeadLetters", {"queue": "sync-requests"}, params={"top": "10"})
    assert {"walk-resubmit", "walk-discard"} <= {letter["messageId"] for letter in listed.json()["value"]}
    walk("ResubmitDeadLetter", {"queue": "sync-requests", "messageId": "walk-resubmit"})
    admin = {"x-functions-key": MASTER_KEY}
    walk("DiscardDeadLetter", {"queue": "sync-requests", "messageId": "walk-discard"}, headers=admin)

    posting = walk(
        "StartGpPosting", json={"unitStatisticsPeriod": f"{hub_sql_summary.last_payroll_day:%Y-%m}"}
    )
    walk.until_finished("GetGpPosting", posting)

    (site, period, forecast), _ = forecasts(hub_sql_summary)
    with dataverse_sandbox.client() as web_api:
        checked = statement(
            web_api, site_with_contract(web_api, site, ADVANCED), site, period, [str(forecast)]
        )
    walk("CheckStatementForecast", {"id": checked}, params={"apply": "true"})

    year = {"year": str(hub_sql_summary.last_payroll_day.year)}
    with dataverse_sandbox.client() as dataverse:  # the master sites the first sync above landed
        sites = dataverse.get("bs_mastercustomersites?$select=bs_district&$filter=bs_district ne null").json()
        district = sites["value"][0]["bs_district"]
    walk("CalculateForecast", json={"year": int(year["year"]), "district": district})
    variance = walk("GetSiteVariance", {"site": hub_sql_summary.sites[0]}, params=year)
    unchanged = walk(
        "GetSiteVariance",
        {"site": hub_sql_summary.sites[0]},
        params=year,
        headers={"If-None-Match": variance.headers["ETag"]},
    )
    assert unchanged.status_code == 304
    walk("GetDistrictVariance", {"district": district}, params=year)
    month = {"period": f"{hub_sql_summary.last_payroll_day:%Y-%m}"}
    walk("GetBillingReadiness", params={**month, "sites": ",".join(hub_sql_summary.sites[:3])})
    walk("GetBillingReconciliation", params=month)

    for operation_id, query in _edw_reads(hub_sql_summary).items():
        rows = walk(operation_id, params=query)
        assert rows.json()["value"], f"{operation_id} found no rows in the sandbox for {query}"
        unchanged = walk(operation_id, params=query, headers={"If-None-Match": rows.headers["ETag"]})
        assert unchanged.status_code == 304

    assert walk("ListBudgetRevisions", params={"status": "pending_approval"}).json() == {"value": []}
    revision = {"id": "0170-202603-6005-0123456789"}
    for decision in ("ApproveBudgetRevision", "RejectBudgetRevision"):  # a function key alone may not decide
        walk.refused(decision, 403, revision, json={"comment": "walked by the schema test"})
    month = hub_sql_summary.last_payroll_day.replace(day=1)
    backfill = {
        "mode": "backfill",
        "windowStart": f"{month}",
        "windowEnd": f"{month + timedelta(days=31):%Y-%m}-01",
    }
    walk.until_finished("GetRun", walk("StartSync", {"stream": "daily_payroll_budget"}, json=backfill))
    coverage = walk("GetPayrollCoverage", params={"period": f"{month:%Y-%m}"})
    assert {site["site"] for site in coverage.json()["sites"]} <= set(hub_sql_summary.sites)
    body, signed = signed_lead(
        {"lastName": "Ruiz", "email": "ana@omni.example.com", "company": "Omni"}, "walk"
    )
    walk("CaptureLead", content=body, headers=signed)
    walk("GetPipeline", params={"stage": "Prospecting", "month": month.strftime("%Y-%m")})
    walk.refused("MapOpportunitySite", 404, {"id": "006000000000001AAA"}, json={"siteNumber": "0170"})

    walk("GetHealth")
    walk("GetReadiness")
    walk("GetOpenApi")
    assert walk.called == walk.documented


def test_the_edw_rows_that_may_be_null_are_sent_null_and_documented_so(
    walk: Walk, hub_sql_summary: SandboxSummary
) -> None:
    """The fields the walk must judge: Occupied Rooms has no revenue and no rate, and says so with null."""
    reads = _edw_reads(hub_sql_summary)
    nulls: dict[str, Callable[[dict[str, Any]], bool]] = {
        "ReadDailyRevenue": lambda row: row["revenue"] is None,
        "ReadBudgetDailyDetail": lambda row: row["revenue"] is None and row["rate"] is None,
    }
    for operation_id, is_null in nulls.items():
        rows = walk(operation_id, params=reads[operation_id]).json()["value"]
        assert any(is_null(row) for row in rows), operation_id


def test_a_problem_answer_keeps_the_problem_schema(hub_host: HubHost) -> None:
    """Refusals are documented too: a 400 and a 404 are checked against Problem (the walk above is all 2xx)."""
    with hub_host.client() as client:
        document = schemathesis.openapi.from_dict(client.get("/api/v1/openapi.json").json())
        for path, url, params in (
            ("/v1/edw/parking-rates", "/api/v1/edw/parking-rates", {"site": "0170", "year": "2025.0"}),
            ("/v1/runs/{id}", f"/api/v1/runs/20261101T000000Z-none-{uuid.uuid4().hex[:8]}", {}),
        ):
            answer = client.get(url, params=params)
            assert answer.status_code in (400, 404), answer.text
            assert answer.headers["content-type"] == "application/problem+json"
            document[path]["GET"].validate_response(answer)
