"""Every HTTP trigger the app registers, called with a ``func.HttpRequest`` as the Functions host calls it."""

from __future__ import annotations

from collections.abc import Callable

import azure.functions as func
import orjson
import pytest

from functions import api
from shared.api.operations import SERVED_OPERATIONS
from shared.live_reads.reads import LIVE_READS
from shared.pipeline.requests import SyncRequest
from tests.functions.conftest import AppHub, invoked, registered

pytestmark = pytest.mark.services
KEY = {"x-functions-key": "test-function-key"}


def triggers() -> dict[str, Callable[[func.HttpRequest], func.HttpResponse]]:
    return registered(api.blueprint, "httpTrigger")


def request(
    method: str, route: str, params: dict[str, str], query: dict[str, str] | None = None, body: object = None
) -> func.HttpRequest:
    path = route.format(**params)
    return func.HttpRequest(
        method,
        f"http://localhost/api/{path}",
        headers={**KEY, "content-type": "application/json"} if body is not None else KEY,
        params=query or {},
        route_params=params,
        body=orjson.dumps(body) if body is not None else b"",
    )


def test_every_operation_is_a_trigger_that_answers_a_valid_request_without_a_server_error(
    app_hub: AppHub,
) -> None:
    functions = triggers()
    assert set(functions) == {api.function_name(operation) for operation in SERVED_OPERATIONS}
    run = app_hub.hub.run_queue.queue(SyncRequest("user_sites", trigger="api"))
    batch_id = f"{run.id}.b00001"
    calls = {
        "ListSyncs": ({}, None, None),
        "StartSync": ({"stream": "job_codes"}, None, {}),
        "ListRuns": ({}, {"stream": "user_sites"}, None),
        "GetRun": ({"id": run.id}, None, None),
        "ReplayRun": ({"id": run.id}, None, None),
        "ListDeadLetters": ({"queue": "batch-loads"}, None, None),
        "ResubmitDeadLetter": ({"queue": "batch-loads", "messageId": batch_id}, None, None),
        "DiscardDeadLetter": ({"queue": "batch-loads", "messageId": batch_id}, None, None),
        "StartGpPosting": ({}, None, {"unitStatisticsPeriod": "2026-10"}),
        "GetGpPosting": ({"id": "20261101T000000Z-gp-00000000"}, None, None),
        "CheckStatementForecast": ({"id": "00000000-0000-4000-8000-000000000001"}, None, None),
        "ListBudgetRevisions": ({}, {"status": "pending_approval"}, None),
        "ApproveBudgetRevision": ({"id": "0170-202603-6005-0123456789"}, None, {}),
        "RejectBudgetRevision": ({"id": "0170-202603-6005-0123456789"}, None, {"comment": "no"}),
        "GetPayrollCoverage": ({}, {"period": "2026-11"}, None),
        "LiveRead": ({"name": LIVE_READS[0].name}, {"site": "0170", "period": "2026-11"}, None),
        "GetSiteVariance": ({"site": "0170"}, {"year": "2026"}, None),
        "GetDistrictVariance": ({"district": "No Such District"}, {"year": "2026"}, None),
        "CalculateForecast": ({}, None, {"year": 2026, "sites": ["0170"]}),
        "GetBillingReadiness": ({}, {"period": "2026-11"}, None),
        "GetBillingReconciliation": ({}, {"period": "2026-11"}, None),
        "GetPipeline": ({}, {"stage": "Prospecting"}, None),
        "MapOpportunitySite": ({"id": "006000000000001AAA"}, None, {"siteNumber": "0170"}),
        "GetHealth": ({}, None, None),
        "GetReadiness": ({}, None, None),
        "GetOpenApi": ({}, None, None),
        "CaptureLead": ({}, None, {"lastName": "Ruiz", "email": "ana@omni.example.com", "company": "Omni"}),
    }
    assert set(calls) == {operation.operation_id for operation in SERVED_OPERATIONS}
    statuses = {}
    for operation in SERVED_OPERATIONS:
        params, query, body = calls[operation.operation_id]
        answer = functions[api.function_name(operation)](
            request(operation.method, operation.route, params, query, body), invoked()
        )
        statuses[operation.operation_id] = answer.status_code
    assert all(status < 500 for status in statuses.values()), statuses
    assert statuses["StartSync"] == 202 and statuses["GetRun"] == 202 and statuses["StartGpPosting"] == 202
    assert statuses["ReplayRun"] == 409  # the stream is busy with the very run to replay
    assert statuses["ResubmitDeadLetter"] == statuses["DiscardDeadLetter"] == 404  # a dotted id routes
    assert statuses["GetGpPosting"] == 404 and statuses["GetHealth"] == 200
    assert statuses["CheckStatementForecast"] == 404  # no such statement
    assert (statuses["GetSiteVariance"], statuses["GetDistrictVariance"], statuses["CalculateForecast"]) == (
        200,
        404,
        201,
    )
    assert statuses["ListBudgetRevisions"] == 200 and statuses["GetPipeline"] == 200
    assert statuses["MapOpportunitySite"] == 404  # no such synced opportunity
    assert (
        statuses["ApproveBudgetRevision"] == statuses["RejectBudgetRevision"] == 403
    )  # a key may not decide
    assert statuses["GetPayrollCoverage"] == 404  # no payroll budget run has written November
