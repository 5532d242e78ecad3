"""``/api/v1/gp/postings``: on the real app in the local host, through the API core, and the sweep."""

from __future__ import annotations

import re
import time

import orjson
import pytest

from shared.api.http import ApiRequest
from shared.api.wiring import ApiSettings, build_api
from shared.composition import Hub
from shared.workflows.gp_posting.requests import PostingSubject
from shared.workflows.gp_posting.sweep import SEND_ALL, SEND_TO_GP, STATE_PATH, sweep_request_id
from tests.api.api_world import SERVED
from tests.fixtures.dataverse_sandbox import DataverseSandbox
from tests.fixtures.gp_sandbox import GpSandbox
from tests.fixtures.hub_host import HubHost
from tests.great_plains.gp_world import (
    as_held,
    billing_day,
    expected,
    gp_documents,
    seed_chart,
    write_statements,
)

pytestmark = pytest.mark.services


def test_a_flow_posts_a_statement_and_follows_location_until_gp_has_it(
    hub_host: HubHost, gp_sandbox: GpSandbox, dataverse_sandbox: DataverseSandbox, gp_hub: Hub
) -> None:
    day = billing_day(1, first_site=7000)
    seed_chart(gp_sandbox, expected(day))
    write_statements(gp_hub, day)  # the in-process hub writes to the same sandbox Dataverse
    with hub_host.client() as client:
        answer = client.post("/api/v1/gp/postings", json={"statementId": day[0].statement_id})
        assert answer.status_code == 202, answer.text
        assert int(answer.headers["Retry-After"]) > 0
        deadline = time.monotonic() + 90
        while answer.status_code == 202:
            assert time.monotonic() < deadline, f"never finished: {answer.text}\n{hub_host.log()[-4000:]}"
            time.sleep(0.5)
            answer = client.get(answer.headers["Location"])
    assert answer.status_code == 200
    assert answer.json()["status"] == "succeeded", answer.json()
    assert gp_documents(gp_sandbox) == as_held(expected(day))


def call(
    gp_hub: Hub, method: str, path: str, body: object = None, route: dict[str, str] | None = None
) -> tuple[int, dict]:
    api = build_api(gp_hub, ApiSettings())
    operation = SERVED["StartGpPosting" if method == "POST" else "GetGpPosting"]
    request = ApiRequest(
        method,
        path,
        {"x-functions-key": "k", "content-type": "application/json"},
        {},
        route or {},
        orjson.dumps(body) if body is not None else b"",
    )
    answer = api.handle(operation, request)
    return answer.status, orjson.loads(answer.body)


def test_the_body_names_exactly_one_subject_or_is_refused_field_by_field(gp_hub: Hub) -> None:
    both = {"statementId": "0b7c4f0e-2d55-4a57-8a5e-6a1d3c9e2f41", "unitStatisticsPeriod": "2025-04"}
    status, problem = call(gp_hub, "POST", "/api/v1/gp/postings", both)
    assert status == 400 and problem["errors"][0]["field"] == "body"
    assert "exactly one of statementId and unitStatisticsPeriod" in problem["errors"][0]["message"]
    status, problem = call(gp_hub, "POST", "/api/v1/gp/postings", {"statementId": "x", "site": "0170"})
    assert status == 400
    assert {error["field"] for error in problem["errors"]} == {"body.statementId", "body.site"}
    status, problem = call(gp_hub, "GET", "/api/v1/gp/postings/none", route={"id": "none"})
    assert (status, problem["type"]) == (404, "urn:towne-park:hub:problem:gp-posting-not-found")


def test_a_second_post_while_one_is_queued_gets_the_same_posting(gp_hub: Hub) -> None:
    body = {"statementId": "0b7c4f0e-2d55-4a57-8a5e-6a1d3c9e2f41"}
    first_status, first = call(gp_hub, "POST", "/api/v1/gp/postings", body)
    second_status, second = call(gp_hub, "POST", "/api/v1/gp/postings", body)
    assert first_status == second_status == 202 and first["id"] == second["id"]
    status, polled = call(gp_hub, "GET", f"/api/v1/gp/postings/{first['id']}", route={"id": first["id"]})
    assert (status, polled["status"]) == (202, "queued")


def test_the_sweep_queues_only_statements_marked_for_gp_that_the_hub_never_saw(gp_hub: Hub) -> None:
    assert gp_hub.gp_sweep.run().baseline
    marked, other, known = billing_day(3, first_site=8000)
    gp_hub.gp_postings.request(PostingSubject(statement_id=known.statement_id))
    rows = {
        "11111111-0000-0000-0000-000000000001": (marked, SEND_TO_GP),
        "11111111-0000-0000-0000-000000000002": (other, 126840001),
        "11111111-0000-0000-0000-000000000003": (known, SEND_ALL),
    }
    for process_id, (item, action) in rows.items():
        gp_hub.dataverse.upsert(
            "bs_emailgenerationprocesses",
            {"bs_emailgenerationprocessid": process_id},
            {"bs_sendaction": action, "_bs_billingstatementfk_value": item.statement_id},
        )
    result = gp_hub.gp_sweep.run()
    assert result.queued == [sweep_request_id(marked.statement_id, "11111111-0000-0000-0000-000000000001")]
    assert gp_hub.gp_sweep.run().queued == []


def test_an_expired_delta_link_makes_the_sweep_start_over_and_say_so(
    gp_hub: Hub, caplog: pytest.LogCaptureFixture
) -> None:
    assert gp_hub.gp_sweep.run().baseline
    saved = gp_hub.state.read_json(STATE_PATH)
    assert saved is not None
    # Dataverse keeps changes 7 days by default: a link issued in 2001 is long past it.
    link = re.sub(r"(\$deltatoken=\d+)[^&]*", r"\1%2101%2F01%2F2001%2000%3A00%3A00", saved.value["deltaLink"])
    gp_hub.state.write_json(STATE_PATH, {"deltaLink": link}, saved.etag)
    marked = billing_day(1, first_site=8100)[0]
    gp_hub.dataverse.upsert(
        "bs_emailgenerationprocesses",
        {"bs_emailgenerationprocessid": "22222222-0000-0000-0000-000000000001"},
        {"bs_sendaction": SEND_TO_GP, "_bs_billingstatementfk_value": marked.statement_id},
    )

    restarted = gp_hub.gp_sweep.run()

    assert (restarted.restarted, restarted.baseline, restarted.queued) == (True, True, [])
    assert "starting over from a fresh baseline" in caplog.text
    fresh = gp_hub.state.read_json(STATE_PATH)
    assert fresh is not None and fresh.value["deltaLink"] != link
    following = gp_hub.gp_sweep.run()
    assert (following.restarted, following.baseline, following.queued) == (False, False, [])
