"""The API core against Azurite and the Service Bus emulator: syncs, runs, dead letters, live reads, problems."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta

import orjson
import pytest
from azure.servicebus import ServiceBusMessage
from azure.storage.blob import BlobServiceClient

from shared.api.models import RunQuery
from shared.api.runs import RunViews
from shared.composition import Hub
from shared.pipeline.requests import SyncRequestMessage
from shared.pipeline.run_record import RunMode, RunRecord, RunStatus
from shared.pipeline.run_table import RunTable
from tests.api.api_world import SITE_DAYS_SCHEDULE, SYNC_REQUESTS, build_api, call
from tests.fixtures.servicebus_emulator import ServiceBusEmulator
from tests.fixtures.state_tables import StateTables
from tests.pipeline.world import ListSource, World, build_world, site_day_stream

pytestmark = pytest.mark.services


@pytest.fixture
def world(blob_service: BlobServiceClient, servicebus_emulator: ServiceBusEmulator) -> Iterator[World]:
    rows = [
        {"site": "0170", "day": date(2026, 11, 1) + timedelta(days=n), "job_code": "VAL", "hours": 8.0}
        for n in range(12)
    ]
    built = build_world(
        blob_service, servicebus_emulator.connection_string, site_day_stream(ListSource(rows))
    )
    yield built
    built.bus.close()


def _json(response: object) -> dict:
    return orjson.loads(response.body)  # type: ignore[attr-defined]


def _run_next_sync_request(world: World) -> None:
    """What the sync-requests trigger does: take the message and run the engine with it."""
    with world.bus.get_queue_receiver(SYNC_REQUESTS, max_wait_time=5) as receiver:
        (message,) = receiver.receive_messages(max_message_count=1, max_wait_time=5)
        request = SyncRequestMessage.model_validate_json(b"".join(message.body))
        world.engine.run(request.to_request())
        receiver.complete_message(message)


@pytest.mark.slow(7)
def test_a_posted_sync_is_queued_then_polled_to_its_result(world: World, hub: Hub) -> None:
    api, _ = build_api(hub)
    accepted = call(api, "StartSync", "/api/v1/syncs/site_days", method="POST", route={"stream": "site_days"})
    assert accepted.status == 202, accepted.body
    location = accepted.headers["Location"]
    run_id = location.rsplit("/", 1)[-1]
    assert int(accepted.headers["Retry-After"]) > 0
    assert _json(accepted)["status"] == "queued"

    polled = call(api, "GetRun", location, route={"id": run_id})
    assert polled.status == 202 and _json(polled)["status"] == "queued"

    _run_next_sync_request(world)
    world.drain_loads()
    deadline = time.monotonic() + 20
    while (polled := call(api, "GetRun", location, route={"id": run_id})).status == 202:
        assert time.monotonic() < deadline, "the run never finished"
        world.drain_loads()
    assert polled.status == 200
    run = _json(polled)
    assert run["id"] == run_id and run["status"] == "succeeded"
    assert run["extract"]["read"] == 12 and run["load"]["upserted"] == 12
    assert run["batches"] == {"staged": 2, "loaded": 2, "expected": 2}
    assert "errorClass" not in run

    page = _json(call(api, "ListRuns", "/api/v1/runs", query={"stream": "site_days"}))
    assert [item["id"] for item in page["value"]] == [run_id]
    syncs = _json(call(api, "ListSyncs", "/api/v1/syncs"))["value"]
    assert syncs[0]["stream"] == "site_days" and syncs[0]["lastRunId"] == run_id
    assert (
        syncs[0]["schedule"] == SITE_DAYS_SCHEDULE == "0 */15 * * * *"
        and syncs[0]["watermark"] == "2026-11-12"
    )

    audit = api.audit.entries(datetime.now(UTC))
    assert [(entry["action"], entry["status"]) for entry in audit] == [("StartSync", 202)]
    assert audit[0]["who"].startswith("key:") and "test-function-key" not in str(audit)


def test_a_queued_run_makes_a_second_start_a_409_naming_it(hub: Hub) -> None:
    api, _ = build_api(hub)
    start = {"method": "POST", "route": {"stream": "site_days"}}
    first = call(api, "StartSync", "/api/v1/syncs/site_days", **start)  # type: ignore[arg-type]
    refused = call(api, "StartSync", "/api/v1/syncs/site_days", **start)  # type: ignore[arg-type]
    assert first.status == 202
    assert refused.status == 409
    assert refused.content_type == "application/problem+json"
    assert _json(first)["id"] in _json(refused)["detail"]


def test_ten_concurrent_starts_of_one_stream_queue_one_run(world: World, hub: Hub) -> None:
    api, _ = build_api(hub)
    with ThreadPoolExecutor(max_workers=10) as callers:
        answers = list(
            callers.map(
                lambda _: call(
                    api, "StartSync", "/api/v1/syncs/site_days", method="POST", route={"stream": "site_days"}
                ),
                range(10),
            )
        )
    accepted = [answer for answer in answers if answer.status == 202]
    refused = [answer for answer in answers if answer.status == 409]
    assert len(accepted) == 1 and len(refused) == 9
    run_id = _json(accepted[0])["id"]
    assert all(run_id in _json(answer)["detail"] for answer in refused)
    assert list(world.engine.runs.ids()) == [run_id]


def test_a_body_is_documented_as_required_exactly_where_a_call_without_one_is_refused(hub: Hub) -> None:
    api, _ = build_api(hub)
    document = _json(call(api, "GetOpenApi", "/api/v1/openapi.json"))
    routes = {"StartSync": {"stream": "site_days"}, "MapOpportunitySite": {"id": "006000000000001AAA"}}
    checked = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            body = [parameter for parameter in operation["parameters"] if parameter["in"] == "body"]
            if body:
                route = routes.get(operation["operationId"], {})
                answer = call(api, operation["operationId"], path, method=method.upper(), route=route)
                assert answer.status < 500, answer.body
                checked.append((operation["operationId"], body[0]["required"], answer.status == 400))
    assert sorted(checked) == [
        ("ApproveBudgetRevision", False, False),  # a comment is optional
        ("CalculateForecast", True, True),
        ("CaptureLead", True, True),
        ("MapOpportunitySite", True, True),
        ("RejectBudgetRevision", False, False),
        ("StartGpPosting", True, True),
        ("StartSync", False, False),
    ]


def test_bad_input_is_a_problem_naming_each_field(hub: Hub) -> None:
    api, _ = build_api(hub)
    body = orjson.dumps({"mode": "sideways", "colour": "red"})
    declared = {"x-functions-key": "test-function-key", "content-type": "application/json"}
    refused = call(
        api, "StartSync", "/x", method="POST", route={"stream": "site_days"}, body=body, headers=declared
    )
    problem = _json(refused)
    assert refused.status == 400 and refused.content_type == "application/problem+json"
    assert {error["field"] for error in problem["errors"]} == {"body.mode", "body.colour"}
    assert set(problem) >= {"type", "title", "status", "detail", "instance", "correlationId"}
    assert refused.headers["x-correlation-id"] == problem["correlationId"]

    unknown = call(api, "StartSync", "/x", method="POST", route={"stream": "nope"})
    assert unknown.status == 404 and "site_days" in _json(unknown)["detail"]
    missing = call(api, "GetRun", "/x", route={"id": "20261101T000000Z-site_days-00000000"})
    assert missing.status == 404
    paged = call(api, "ListRuns", "/x", query={"top": "0", "continuationToken": "%%%"})
    assert paged.status == 400


@pytest.mark.slow(9)
def test_dead_letters_are_listed_resubmitted_and_discarded_with_audit(world: World, hub: Hub) -> None:
    api, _ = build_api(hub)
    with world.bus.get_queue_sender("gp-postings") as sender:
        sender.send_messages(
            [ServiceBusMessage(b'{"n": 1}', message_id="m1"), ServiceBusMessage(b'{"n": 2}', message_id="m2")]
        )
    with world.bus.get_queue_receiver("gp-postings", max_wait_time=5) as receiver:
        for message in receiver.receive_messages(max_message_count=2, max_wait_time=5):
            receiver.dead_letter_message(message, reason="PostingRefused", error_description="GP said no")

    addressed = {"x-functions-key": "test-function-key", "host": "func-hub.azurewebsites.net"}
    listed = _json(
        call(
            api,
            "ListDeadLetters",
            "/x",
            route={"queue": "gp-postings"},
            query={"top": "1"},
            headers=addressed,
        )
    )
    assert listed["value"][0]["messageId"] == "m1" and listed["value"][0]["reason"] == "PostingRefused"
    # Power Automate follows nextLink as it is: it names the host the caller addressed.
    assert listed["nextLink"] == (
        "https://func-hub.azurewebsites.net/api/v1/deadletters/gp-postings?top=1"
        f"&continuationToken={listed['continuationToken']}"
    )
    rest = call(
        api,
        "ListDeadLetters",
        "/x",
        route={"queue": "gp-postings"},
        query={"continuationToken": listed["continuationToken"]},
    )
    assert [letter["messageId"] for letter in _json(rest)["value"]] == ["m2"]

    route = {"queue": "gp-postings", "messageId": "m1"}
    assert call(api, "ResubmitDeadLetter", "/x", method="POST", route=route).status == 200
    assert (
        call(api, "DiscardDeadLetter", "/x", method="DELETE", route={**route, "messageId": "m2"}).status
        == 200
    )
    assert call(api, "DiscardDeadLetter", "/x", method="DELETE", route=route).status == 404
    assert call(api, "ListDeadLetters", "/x", route={"queue": "elsewhere"}).status == 404
    actions = [(entry["action"], entry["status"]) for entry in api.audit.entries(datetime.now(UTC))]
    assert actions == [("ResubmitDeadLetter", 200), ("DiscardDeadLetter", 200), ("DiscardDeadLetter", 404)]


def test_a_live_read_answers_typed_rows_with_an_etag_and_a_cache(hub: Hub) -> None:
    api, read = build_api(hub)
    query = {"siteNumber": "0170", "year": "2026", "code": "the-function-key"}
    first = call(api, "LiveRead", "/x", route={"name": "site-totals"}, query=query)
    assert first.status == 200
    assert _json(first) == {
        "value": [{"siteNumber": "0170", "year": 2026, "revenue": 1234.5, "asOf": "2026-12-31"}]
    }
    again = call(
        api,
        "LiveRead",
        "/x",
        route={"name": "site-totals"},
        query=query,
        headers={"if-none-match": first.headers["ETag"]},
    )
    assert again.status == 304 and again.body == b""
    assert len(read.runs) == 1  # the second answer came from the cache

    wrong = call(
        api, "LiveRead", "/x", route={"name": "site-totals"}, query={"siteNumber": "17", "yeer": "2026"}
    )
    assert wrong.status == 400
    assert {error["field"] for error in _json(wrong)["errors"]} == {
        "query.siteNumber",
        "query.year",
        "query.yeer",
    }
    assert call(api, "LiveRead", "/x", route={"name": "nothing"}).status == 404


def test_each_caller_is_rate_limited_with_retry_after(hub: Hub) -> None:
    api, _ = build_api(hub, per_minute=3)
    answers = [call(api, "ListSyncs", "/x", headers={"x-functions-key": "one"}).status for _ in range(4)]
    assert answers == [200, 200, 200, 429]
    limited = call(api, "ListSyncs", "/x", headers={"x-functions-key": "one"})
    assert int(limited.headers["Retry-After"]) >= 1
    assert call(api, "ListSyncs", "/x", headers={"x-functions-key": "two"}).status == 200


def test_readiness_reports_each_dependency(hub: Hub) -> None:
    api, _ = build_api(hub)
    ready = call(api, "GetReadiness", "/api/health/ready", headers={})
    assert ready.status == 200 and _json(ready)["dependencies"]["blob"]["status"] == "ok"


def test_a_filter_pages_newest_first_with_one_query_a_page(state_tables: StateTables) -> None:
    records = RunTable(state_tables.runs, state_tables.state)
    views = RunViews(records)
    start = datetime(2026, 11, 1, tzinfo=UTC)
    queued_count = 250
    for n in range(queued_count):
        moment = start + timedelta(minutes=n)
        run_id = f"{moment:%Y%m%dT%H%M%SZ}-site_days-{n:08x}"
        records.create(
            RunRecord(
                id=run_id,
                stream="site_days",
                mode=RunMode.INCREMENTAL,
                trigger="api",
                status=RunStatus.QUEUED,
                queued_at=moment,
                requested_by="t",
            )
        )

    def pages(**filters: object) -> list[list[str]]:
        found, token = [], None
        while True:
            query = RunQuery.model_validate({**filters, "top": 200, "continuationToken": token})
            runs, token = views.page(query)
            found.append([run.id for run in runs])
            if token is None:
                return found

    assert pages(status="failed") == [[]]
    queued = pages(status="queued")
    assert [len(page) for page in queued] == [200, queued_count - 200]
    every = [run_id for page in queued for run_id in page]
    assert every == sorted(set(every), reverse=True)
    since = pages(stream="site_days", since=(start + timedelta(minutes=240)).isoformat())
    assert [len(page) for page in since] == [10]
