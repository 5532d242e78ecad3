"""Dataverse events: a row written through the sandbox Web API reaches the hub as Dataverse posts it, and
starts its work at once; repeats, the sweep, stale events and bursts of edits start it once or not at all."""

from __future__ import annotations

import re
import uuid

import httpx
import orjson
import pytest

from shared.composition import Hub
from shared.connectors.dataverse.events import ENTITY_PROPERTY, ORGANIZATION_PROPERTY, REQUEST_PROPERTY
from shared.workflows.dataverse_events.syncs import dependent_syncs
from shared.workflows.gp_posting.requests import PostingSubject
from shared.workflows.gp_posting.sweep import SEND_TO_GP, sweep_request_id
from tests.dataverse_events.events_world import EVENTS, SYNC_REQUESTS, events, register, waiting
from tests.fixtures.dataverse_sandbox import DataverseSandbox
from tests.fixtures.gp_sandbox import GpSandbox
from tests.fixtures.servicebus_emulator import ServiceBusEmulator
from tests.great_plains.gp_world import (
    GP_POSTINGS,
    as_held,
    billing_day,
    drain,
    expected,
    gp_documents,
    seed_chart,
    write_statements,
)

pytestmark = pytest.mark.services
SEND_EMAIL = 126840001
PROCESS = "bs_emailgenerationprocess"


def mark_for_gp(api: httpx.Client, statement_id: str, action: int = SEND_TO_GP) -> str:
    """Create the flow's ``bs_emailgenerationprocess`` row through the Web API; its id."""
    answer = api.post(
        "bs_emailgenerationprocesses",
        json={
            "bs_sendaction": action,
            "bs_billingstatementfk@odata.bind": f"/bs_billingstatements({statement_id})",
        },
    )
    assert answer.status_code == 204, answer.text
    found = re.search(r"\(([0-9a-f-]{36})\)$", answer.headers["OData-EntityId"])
    assert found is not None
    return found.group(1)


@pytest.mark.slow(12)
def test_a_statement_marked_for_gp_through_the_web_api_is_posted_from_its_event(
    gp_hub: Hub,
    gp_sandbox: GpSandbox,
    servicebus_emulator: ServiceBusEmulator,
    dataverse_sandbox: DataverseSandbox,
) -> None:
    day = billing_day(3)
    seed_chart(gp_sandbox, expected(day))
    write_statements(gp_hub, day)
    register(dataverse_sandbox, servicebus_emulator, (PROCESS, "Create"))
    with dataverse_sandbox.client() as api:
        process_id = mark_for_gp(api, day[0].statement_id)

    (event,) = events(servicebus_emulator, 1)
    context = orjson.loads(event.body)
    assert (context["MessageName"], context["PrimaryEntityName"], context["PrimaryEntityId"]) == (
        "Create",
        PROCESS,
        process_id,
    )
    assert event.properties[ENTITY_PROPERTY] == PROCESS and event.properties[REQUEST_PROPERTY] == "Create"
    assert event.properties[ORGANIZATION_PROPERTY] == dataverse_sandbox.url
    (target,) = [p["value"] for p in context["InputParameters"] if p["key"] == "Target"]
    assert {
        "key": "bs_sendaction",
        "value": {
            "__type": "OptionSetValue:http://schemas.microsoft.com/xrm/2011/Contracts",
            "Value": SEND_TO_GP,
        },
    } in target["Attributes"]
    assert re.fullmatch(r"/Date\(\d+\)/", context["OperationCreatedOn"])

    outcome = gp_hub.dataverse_events.handle(event)
    assert outcome is not None and outcome.outcome == "queued"
    assert outcome.queued == [sweep_request_id(day[0].statement_id, process_id)]
    drain(gp_hub, servicebus_emulator)
    assert gp_documents(gp_sandbox) == as_held(expected(day[:1]))
    request = gp_hub.gp_postings.requests.get(outcome.queued[0])
    assert request is not None and (request.status, request.trigger) == ("succeeded", "event")


@pytest.mark.slow(12)
def test_the_same_event_three_times_and_the_sweep_post_the_statement_once(
    gp_hub: Hub,
    gp_sandbox: GpSandbox,
    servicebus_emulator: ServiceBusEmulator,
    dataverse_sandbox: DataverseSandbox,
) -> None:
    day = billing_day(1)
    seed_chart(gp_sandbox, expected(day))
    write_statements(gp_hub, day)
    assert gp_hub.gp_sweep.run().baseline  # the sweep is on before the flow marks the statement
    register(dataverse_sandbox, servicebus_emulator, (PROCESS, "Create"))
    with dataverse_sandbox.client() as api:
        mark_for_gp(api, day[0].statement_id)
    (event,) = events(servicebus_emulator, 1)

    outcomes = [gp_hub.dataverse_events.handle(event) for _ in range(3)]
    swept = gp_hub.gp_sweep.run()
    drain(gp_hub, servicebus_emulator)

    assert [o.outcome if o else None for o in outcomes] == [
        "queued",
        "already_requested",
        "already_requested",
    ]
    assert swept.seen == 1 and swept.queued == []
    assert gp_documents(gp_sandbox) == as_held(expected(day))  # each document once
    latest = gp_hub.gp_postings.requests.latest(PostingSubject(statement_id=day[0].statement_id))
    assert latest is not None and latest.status == "succeeded"
    assert {d.status for d in latest.documents} == {"posted"}


@pytest.mark.parametrize("since", ["deleted", "marked back"])
def test_an_event_whose_row_has_changed_since_does_nothing(
    since: str,
    gp_hub: Hub,
    gp_sandbox: GpSandbox,
    servicebus_emulator: ServiceBusEmulator,
    dataverse_sandbox: DataverseSandbox,
) -> None:
    day = billing_day(1)
    seed_chart(gp_sandbox, expected(day))
    write_statements(gp_hub, day)
    register(dataverse_sandbox, servicebus_emulator, (PROCESS, "Create"))
    with dataverse_sandbox.client() as api:
        process_id = mark_for_gp(api, day[0].statement_id)
        if since == "deleted":
            assert api.delete(f"bs_emailgenerationprocesses({process_id})").status_code == 204
        else:
            changed = api.patch(
                f"bs_emailgenerationprocesses({process_id})", json={"bs_sendaction": SEND_EMAIL}
            )
            assert changed.status_code == 204
    (event,) = events(servicebus_emulator, 1)  # the Create's, posted before the row changed

    outcome = gp_hub.dataverse_events.handle(event)

    assert outcome is not None and outcome.outcome == "stale", outcome
    assert waiting(servicebus_emulator, GP_POSTINGS) == []
    assert gp_hub.gp_postings.requests.latest(PostingSubject(statement_id=day[0].statement_id)) is None
    assert gp_documents(gp_sandbox) == []


def test_a_unit_batch_row_created_requests_that_months_statistics_once(
    gp_hub: Hub, servicebus_emulator: ServiceBusEmulator, dataverse_sandbox: DataverseSandbox
) -> None:
    register(dataverse_sandbox, servicebus_emulator, ("bs_unitaccountbatchprocess", "Create"))
    with dataverse_sandbox.client() as api:
        assert api.post("bs_unitaccountbatchprocesses", json={"bs_period": "2026-10"}).status_code == 204
    (event,) = events(servicebus_emulator, 1)

    first, again = gp_hub.dataverse_events.handle(event), gp_hub.dataverse_events.handle(event)

    assert first is not None and first.outcome == "queued"
    assert again is not None and again.outcome == "already_requested"
    request = gp_hub.gp_postings.requests.latest(PostingSubject(unit_statistics_period="2026-10"))
    assert request is not None and request.id == first.queued[0] and request.trigger == "event"
    # A repeat while the request is still queued sends its message again (the healing ``request`` does);
    # it is the same request, and working one request twice posts nothing twice.
    assert set(waiting(servicebus_emulator, GP_POSTINGS)) == {request.id}


def test_a_burst_of_customer_site_edits_queues_one_run_of_each_sync_that_depends_on_sites(
    gp_hub: Hub, servicebus_emulator: ServiceBusEmulator, dataverse_sandbox: DataverseSandbox
) -> None:
    site_id = str(uuid.uuid4())
    with dataverse_sandbox.client() as api:
        created = api.post("bs_customersites", json={"bs_customersiteid": site_id, "bs_sitenumber": "0420"})
        assert created.status_code == 204
        register(dataverse_sandbox, servicebus_emulator, ("bs_customersite", "Update"))
        for n in range(5):
            edited = api.patch(f"bs_customersites({site_id})", json={"bs_glstring": f"02-03-2106-{n}"})
            assert edited.status_code == 204
    burst = events(servicebus_emulator, 5)

    outcomes = [gp_hub.dataverse_events.handle(event) for event in burst]

    syncs = dependent_syncs("bs_customersite")
    assert [o.outcome if o else None for o in outcomes] == ["queued"] + ["busy"] * 4
    assert outcomes[0] is not None and len(outcomes[0].queued) == len(syncs)
    runs = [gp_hub.engine.runs.get(run_id) for run_id in gp_hub.engine.runs.ids()]
    assert sorted((run.stream, run.trigger) for run in runs if run) == sorted(
        (sync.streams[0], "event") for sync in syncs
    )
    assert sorted(waiting(servicebus_emulator, SYNC_REQUESTS)) == sorted(outcomes[0].queued)
    assert waiting(servicebus_emulator, EVENTS) == []
