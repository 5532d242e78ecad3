"""Requests are taken only as the document describes them: its types, JSON bodies, a body limit, forward windows."""

from __future__ import annotations

from collections.abc import Iterator

import orjson
import pytest
from azure.storage.blob import BlobServiceClient

from shared.api.http import ApiResponse
from shared.composition import Hub
from shared.settings import Settings
from tests.api.api_world import build_api, call
from tests.fixtures.servicebus_emulator import ServiceBusEmulator
from tests.pipeline.world import ListSource, World, build_world, site_day_stream

pytestmark = pytest.mark.services

JSON = {"content-type": "application/json"}
KEY = {"x-functions-key": "test-function-key"}
LIMIT = Settings.model_fields["api_max_body_bytes"].default  # what the hub takes when the setting is absent


@pytest.fixture
def world(blob_service: BlobServiceClient, servicebus_emulator: ServiceBusEmulator) -> Iterator[World]:
    built = build_world(blob_service, servicebus_emulator.connection_string, site_day_stream(ListSource([])))
    yield built
    built.bus.close()


def _problem(response: ApiResponse, status: int) -> dict[str, object]:
    assert response.status == status, response.body
    assert response.content_type == "application/problem+json"
    problem: dict[str, object] = orjson.loads(response.body)
    assert problem["status"] == status and problem["correlationId"] == response.headers["x-correlation-id"]
    return problem


def _start(hub_api: object, body: bytes, headers: dict[str, str]) -> ApiResponse:
    return call(
        hub_api,  # type: ignore[arg-type]
        "StartSync",
        "/api/v1/syncs/site_days",
        method="POST",
        route={"stream": "site_days"},
        body=body,
        headers={**KEY, **headers},
    )


@pytest.mark.parametrize("top", ["50.0", " 50", "50 ", "5e1", "+50"])
def test_a_query_number_is_digits_only(hub: Hub, top: str) -> None:
    api, _ = build_api(hub)
    problem = _problem(call(api, "ListRuns", "/api/v1/runs", query={"top": top}), 400)
    assert problem["errors"] == [{"field": "query.top", "message": problem["errors"][0]["message"]}]  # type: ignore[index]
    assert call(api, "ListRuns", "/api/v1/runs", query={"top": "50"}).status == 200


@pytest.mark.parametrize("since", ["1700000000", "2026-11-01", "2026-11-01T00:00", " 2026-11-01T00:00:00Z"])
def test_a_query_time_is_a_date_time_with_seconds(hub: Hub, since: str) -> None:
    api, _ = build_api(hub)
    problem = _problem(call(api, "ListRuns", "/api/v1/runs", query={"since": since}), 400)
    assert [error["field"] for error in problem["errors"]] == ["query.since"]  # type: ignore[attr-defined]
    for accepted in ("2026-11-01T00:00:00Z", "2026-11-01T00:00:00.1234567+01:00", "2026-11-01T00:00:00"):
        assert call(api, "ListRuns", "/api/v1/runs", query={"since": accepted}).status == 200, accepted


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
def test_a_body_that_is_not_declared_json_is_415_and_not_read(hub: Hub, content_type: str | None) -> None:
    api, _ = build_api(hub)
    headers = {"content-type": content_type} if content_type else {}
    problem = _problem(_start(api, b'{"mode": "full"}', headers), 415)
    assert "application/json" in str(problem["detail"])
    assert list(hub.engine.runs.ids()) == []  # nothing was queued


def test_json_with_a_charset_and_an_empty_body_without_a_type_are_taken(hub: Hub) -> None:
    api, _ = build_api(hub)
    assert _start(api, b"", {}).status == 202
    other = call(
        api, "StartGpPosting", "/api/v1/gp/postings", method="POST",
        body=b'{"statementId": "x"}', headers={**KEY, "content-type": "application/json; charset=utf-8"},
    )  # fmt: skip
    assert other.status != 415  # refused for its value (not a GUID), not for its type


def test_a_declared_length_over_the_limit_is_413_before_the_body_is_looked_at(hub: Hub) -> None:
    api, _ = build_api(hub)
    declared = {**JSON, "content-length": str(LIMIT + 1)}
    problem = _problem(_start(api, b"", declared), 413)  # the header alone: no body was passed
    assert str(LIMIT) in str(problem["detail"])
    assert _start(api, b"{}", {**JSON, "content-length": str(LIMIT)}).status == 202


def test_a_body_longer_than_declared_and_over_the_limit_is_413(hub: Hub) -> None:
    api, _ = build_api(hub)
    padded = b'{"mode": "full"' + b" " * LIMIT + b"}"
    _problem(_start(api, padded, {**JSON, "content-length": "17"}), 413)
    _problem(_start(api, padded, JSON), 413)
    assert list(hub.engine.runs.ids()) == []


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("2026-11-05", "2026-11-01"),  # backwards
        ("2026-11-05", "2026-11-05"),  # empty: the end is excluded
        ("2026-11-05T10:00:00", "2026-11-05T09:00:00"),
        ("20", "10"),
        ("2026-11-01", "20"),  # a date against a number
        ("2026-11-01T00:00:00Z", "2026-11-02T00:00:00"),  # a zone against none
        ("yesterday", "2026-11-05"),  # not a bound at all
    ],
)
def test_a_backfill_window_that_does_not_run_forwards_is_400(hub: Hub, start: str, end: str) -> None:
    api, _ = build_api(hub)
    body = orjson.dumps({"mode": "backfill", "windowStart": start, "windowEnd": end})
    problem = _problem(_start(api, body, JSON), 400)
    assert "windowStart" in str(problem["detail"])
    assert list(hub.engine.runs.ids()) == []


def test_a_forward_backfill_window_is_queued_with_its_window(hub: Hub) -> None:
    api, _ = build_api(hub)
    forward = orjson.dumps({"mode": "backfill", "windowStart": "2026-11-01", "windowEnd": "2026-11-05"})
    accepted = _start(api, forward, JSON)
    assert accepted.status == 202, accepted.body
    run = orjson.loads(accepted.body)
    assert (run["windowStart"], run["windowEnd"]) == ("2026-11-01", "2026-11-05")
