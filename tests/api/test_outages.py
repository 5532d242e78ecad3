"""With Azurite or the Service Bus emulator stopped, every API operation answers within seconds.

The API is built by the app's own wiring (``build_hub`` + ``build_api``) over
an Azurite and an emulator of this test's own, so stopping one of them does
not disturb any other test. Each operation is called once with everything up
(its normal answer), then again with the dependency stopped: it must answer
within ``DEADLINE_SECONDS``, with 503 and ``Retry-After`` or its normal answer,
and 503 wherever it needs the stopped dependency.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson
import pytest

from localdev import services
from shared.api.http import ApiRequest
from shared.api.operations import SERVED_OPERATIONS
from shared.api.service import HubApi
from shared.api.wiring import api_settings, build_api
from shared.composition import Hub, build_hub
from shared.live_reads.reads import LIVE_READS
from shared.settings import Settings
from tests.fixtures.dataverse_sandbox import DataverseSandbox
from tests.fixtures.gp_sandbox import GpSandbox
from tests.fixtures.servicebus_emulator import ServiceBusEmulator
from tests.salesforce.org_settings import salesforce_settings, signed_lead

pytestmark = pytest.mark.services
OPERATIONS = {operation.operation_id: operation for operation in SERVED_OPERATIONS}

DEADLINE_SECONDS = 10.0
STREAM = "user_sites"  # started with everything up, so it has a queued run
UNSTARTED_STREAM = "job_codes"  # started with the dependency stopped: its start must reach the dependency
# What each operation needs from Blob storage and Service Bus (audit writes aside: they never fail a call).
NEEDS_BLOB = {  # the dead-letter operations read the hub's own shelf in Blob as well as Service Bus's
    "ListSyncs", "StartSync", "ListRuns", "GetRun", "ReplayRun", "ListDeadLetters", "ResubmitDeadLetter",
    "DiscardDeadLetter", "StartGpPosting", "GetGpPosting", "GetReadiness", "ListBudgetRevisions", "CaptureLead",
}  # fmt: skip
NEEDS_SERVICE_BUS = {
    "StartSync", "ListDeadLetters", "ResubmitDeadLetter", "DiscardDeadLetter", "StartGpPosting",
    "GetReadiness", "CaptureLead",
}  # fmt: skip
LEAD = {"lastName": "Ruiz", "email": "ana.ruiz@omnidallas.example.com", "company": "Omni Dallas"}
HEALTH_REPORTS = {"GetReadiness"}  # it reports what is down; it does not ask for a retry


@dataclass(frozen=True)
class Answer:
    status: int
    seconds: float
    retry_after: str | None
    body: bytes


@dataclass
class OutageWorld:
    hub: Hub
    api: HubApi
    azurite: services.RunningService
    tables: services.RunningService

    def stop_storage(self) -> None:
        """The storage account down: its Blob and its Table service."""
        self.azurite.stop()
        self.tables.stop()

    def call(self, operation: str, **request: object) -> Answer:
        """One API call as ``functions/api.py`` hands it over."""
        started = time.monotonic()
        answer = self.api.handle(OPERATIONS[operation], _request(**request))  # type: ignore[arg-type]
        return Answer(
            answer.status, time.monotonic() - started, answer.headers.get("Retry-After"), answer.body
        )


def _request(
    method: str = "GET",
    route: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
) -> ApiRequest:
    headers = (
        {"x-functions-key": "key"} | ({"content-type": "application/json"} if body else {}) | (headers or {})
    )
    return ApiRequest(method, "/api/v1/outage-test", headers, query or {}, route or {}, body)


def _calls(run_id: str, posting_id: str, stream: str, period: str) -> dict[str, dict[str, object]]:
    """A valid, minimal request for every operation of the API; ``stream`` and ``period`` to start."""
    letter = {"queue": "sync-requests", "messageId": "not-dead-lettered"}
    read = LIVE_READS[0]
    return {
        "ListSyncs": {},
        "StartSync": {"method": "POST", "route": {"stream": stream}},
        "ListRuns": {"query": {"stream": STREAM}},
        "GetRun": {"route": {"id": run_id}},
        "ReplayRun": {"method": "POST", "route": {"id": run_id}},
        "ListDeadLetters": {"route": {"queue": "sync-requests"}},
        "ResubmitDeadLetter": {"method": "POST", "route": letter},
        "DiscardDeadLetter": {"method": "DELETE", "route": letter},
        "StartGpPosting": {"method": "POST", "body": orjson.dumps({"unitStatisticsPeriod": period})},
        "GetGpPosting": {"route": {"id": posting_id}},
        "ListBudgetRevisions": {"query": {"status": "pending_approval"}},
        # A key alone may not decide a revision: refused before any dependency is asked.
        "ApproveBudgetRevision": {"method": "POST", "route": {"id": "0170-202603-6005-0123456789"}},
        "RejectBudgetRevision": {"method": "POST", "route": {"id": "0170-202603-6005-0123456789"}},
        "CheckStatementForecast": {"method": "POST", "route": {"id": "00000000-0000-4000-8000-000000000001"}},
        "GetPayrollCoverage": {"query": {"period": period}},
        "LiveRead": {"route": {"name": read.name}, "query": {"site": "170", "period": "2026-11"}},
        "GetSiteVariance": {"route": {"site": "0170"}, "query": {"year": "2026"}},
        "GetDistrictVariance": {"route": {"district": "No Such District"}, "query": {"year": "2026"}},
        "CalculateForecast": {"method": "POST", "body": orjson.dumps({"year": 2026, "sites": ["0170"]})},
        "GetBillingReadiness": {"query": {"period": "2026-11", "sites": "170"}},
        "GetBillingReconciliation": {"query": {"period": "2026-11"}},
        "GetPipeline": {"query": {"month": "2026-11"}},
        "MapOpportunitySite": {
            "method": "PUT",
            "route": {"id": "006000000000001AAA"},
            "body": orjson.dumps({"siteNumber": "0170"}),
        },
        "GetReadiness": {},
        "GetHealth": {},
        "GetOpenApi": {},
        "CaptureLead": {
            "method": "POST",
            **dict(zip(("body", "headers"), signed_lead(LEAD, f"outage-{stream}-{period}"), strict=True)),
        },
    }


@pytest.fixture
def outage_world(
    tmp_path: Path,
    servicebus_emulator: ServiceBusEmulator,
    dataverse_sandbox: DataverseSandbox,
    gp_sandbox: GpSandbox,
    hub_sql_sandbox: str,
) -> Iterator[OutageWorld]:
    """The app's API over an Azurite of its own (the session's stays up) and a per-test emulator."""
    port = services.free_port()
    table_port = services.free_port()
    azurite = services.start(services.azurite(port, tmp_path / "azurite"))
    tables = services.start(services.azurite_table(table_port, tmp_path / "azurite", in_memory=True))
    connection = services.azurite_connection_string(port, table_port)
    values: dict[str, object] = {
        "StagingStorage": connection,
        "ServiceBusConnection": servicebus_emulator.connection_string,
        "DATAVERSE_URL": dataverse_sandbox.url,
        "DATAVERSE_TENANT_ID": dataverse_sandbox.tenant_id,
        "DATAVERSE_CLIENT_ID": dataverse_sandbox.client_id,
        "ENTRA_AUTHORITY_HOST": dataverse_sandbox.authority_host,
        "LOCAL_CA_BUNDLE": str(dataverse_sandbox.ca_bundle),
        "EDW_SQL_URL": hub_sql_sandbox,
        "GP_SMARTCONNECT_URL": gp_sandbox.url,
        "GP_SQL_URL": f"sqlite:///{gp_sandbox.folder}/{{company}}.sqlite",
        **{k: v for k, v in salesforce_settings(dataverse_sandbox).items() if not k.startswith("SECRET_")},
        "__local_secrets__": {
            "SECRET_DATAVERSE_CLIENT_SECRET": dataverse_sandbox.client_secret,
            **{k: v for k, v in salesforce_settings(dataverse_sandbox).items() if k.startswith("SECRET_")},
        },
    }
    hub = build_hub(Settings(**values))
    hub.prepare_storage()
    edw = hub.edw
    assert edw is not None
    api = build_api(hub, api_settings(hub), reads=LIVE_READS, edw_engine=lambda: edw)
    try:
        yield OutageWorld(hub, api, azurite, tables)
    finally:
        azurite.stop()
        tables.stop()
        hub.service_bus.close()
        hub.for_api.service_bus.close()
        hub.hosts.close()


def _answers_when_down(world: OutageWorld, stop: Callable[[], object], needs: set[str]) -> dict[str, Answer]:
    """Every operation's normal answer, then its answer with the dependency stopped; checks both."""
    started = world.call("StartSync", method="POST", route={"stream": STREAM})
    assert started.status == 202, started.body
    run_id = orjson.loads(started.body)["id"]
    posted = world.call("StartGpPosting", **_calls(run_id, "", STREAM, "2026-10")["StartGpPosting"])
    assert posted.status == 202, posted.body
    posting_id = orjson.loads(posted.body)["id"]
    calls = _calls(run_id, posting_id, STREAM, "2026-09")
    assert set(calls) == set(OPERATIONS), "give every operation of the API a request here"
    normal = {operation: world.call(operation, **request) for operation, request in calls.items()}
    assert all(answer.status < 500 for answer in normal.values()), {
        operation: (answer.status, answer.body[:200]) for operation, answer in normal.items()
    }

    stop()
    calls = _calls(run_id, posting_id, UNSTARTED_STREAM, "2026-08")  # work that must be queued anew
    down = {operation: world.call(operation, **request) for operation, request in calls.items()}
    timings = {operation: f"{answer.status} in {answer.seconds:.2f} s" for operation, answer in down.items()}
    print(timings)  # the measurement the README quotes, shown with -s
    for operation, answer in down.items():
        assert answer.seconds < DEADLINE_SECONDS, (operation, timings)
        if operation in needs:
            assert answer.status == 503, (operation, answer.status, answer.body[:300])
        else:
            assert answer.status in (503, normal[operation].status), (operation, answer.status)
        if answer.status == 503 and operation not in HEALTH_REPORTS:
            assert answer.retry_after is not None and int(answer.retry_after) > 0, operation
    return down


@pytest.mark.slow(25)
def test_with_azurite_stopped_every_operation_answers_within_seconds(outage_world: OutageWorld) -> None:
    down = _answers_when_down(outage_world, outage_world.stop_storage, NEEDS_BLOB)
    assert down["LiveRead"].status == 200  # the EDW alone answers it
    assert down["GetOpenApi"].status == 200
    assert down["GetHealth"].status == 200  # liveness calls no dependency


def test_with_service_bus_stopped_every_operation_answers_within_seconds(
    outage_world: OutageWorld, servicebus_emulator: ServiceBusEmulator
) -> None:
    down = _answers_when_down(outage_world, servicebus_emulator.stop, NEEDS_SERVICE_BUS)
    assert down["GetRun"].status in (200, 202)  # Blob alone answers it
    assert down["ListSyncs"].status == 200
    assert down["GetHealth"].status == 200  # liveness calls no dependency
