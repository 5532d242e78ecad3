"""POST /api/v1/leads through the API as the app wires it, the lead-captures queue and the sandbox org.

What Salesforce holds is read from the org's raw store; what was stored, from
the queue and the state container themselves.
"""

from __future__ import annotations

import dataclasses
import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from azure.servicebus import ServiceBusClient

from localdev.sandbox.salesforce.org import CLIENT_ID, CLIENT_SECRET
from shared.api import wiring
from shared.api.http import ApiRequest, ApiResponse
from shared.api.operations import SERVED_OPERATIONS
from shared.api.service import HubApi
from shared.composition import Hub, build_hub
from shared.pipeline.delivery import Delivery
from shared.settings import Settings
from shared.workflows.lead_capture.captures import MARKERS
from shared.workflows.lead_capture.signature import sign
from tests.fixtures.salesforce_sandbox import SalesforceSandbox
from tests.fixtures.servicebus_emulator import ServiceBusEmulator

pytestmark = pytest.mark.services

QUEUE = "lead-captures"
SIGNING_KEY = "test-lead-capture-key"
CAPTURE = next(operation for operation in SERVED_OPERATIONS if operation.operation_id == "CaptureLead")


@pytest.fixture
def hub(
    azurite: str, servicebus_emulator: ServiceBusEmulator, salesforce_sandbox: SalesforceSandbox
) -> Iterator[Hub]:
    settings = Settings(
        **{
            "StagingStorage": azurite,
            "ServiceBusConnection": servicebus_emulator.connection_string,
            "STATE_CONTAINER": "leads-" + uuid.uuid4().hex[:12],
            "STAGING_CONTAINER": "leads-staging-" + uuid.uuid4().hex[:8],
            "STATE_TABLE_PREFIX": "leads" + uuid.uuid4().hex[:12],
            "DATAVERSE_URL": "https://127.0.0.1:9",
            "DATAVERSE_TENANT_ID": "tenant",
            "DATAVERSE_CLIENT_ID": "client",
            "SALESFORCE_URL": salesforce_sandbox.url,
            "SALESFORCE_CLIENT_ID": CLIENT_ID,
            "LOCAL_CA_BUNDLE": str(salesforce_sandbox.process.ca_bundle),
            "LEAD_CAPTURES_QUEUE": QUEUE,
            "RETRY_FIRST_DELAY_SECONDS": 1,
            "__local_secrets__": {
                "SECRET_SALESFORCE_CLIENT_SECRET": CLIENT_SECRET,
                "SECRET_LEAD_CAPTURE_SIGNING_SECRET": SIGNING_KEY,
            },
        }
    )
    built = build_hub(settings)
    built.prepare_storage()
    # The sandbox's client gives up on an outage in a second, not the production policy's two minutes.
    fast = dataclasses.replace(built, salesforce=salesforce_sandbox.rest())
    yield fast
    built.service_bus.close()
    built.hosts.close()


def post(
    api: HubApi, lead: dict[str, Any], key: str, *, at: float | None = None, secret: str = SIGNING_KEY
) -> ApiResponse:
    body = json.dumps(lead).encode()
    stamp = int(time.time() if at is None else at)
    headers = {
        "x-functions-key": "test-function-key",
        "idempotency-key": key,
        "x-hub-timestamp": str(stamp),
        "x-hub-signature": sign(secret, stamp, body),
        "content-type": "application/json",
    }
    return api.handle(CAPTURE, ApiRequest("POST", "/api/v1/leads", headers, {}, {}, body))


def deliver_all(hub: Hub, servicebus: ServiceBusEmulator, *, wait: float = 2) -> int:
    """Hand every message now on the queue to the trigger's handler, as the host would; how many there were."""
    handled = 0
    with (
        ServiceBusClient.from_connection_string(servicebus.connection_string) as client,
        client.get_queue_receiver(QUEUE, max_wait_time=wait) as receiver,
    ):
        for message in receiver.receive_messages(max_message_count=20, max_wait_time=wait):
            properties = {
                str(k, "utf-8") if isinstance(k, bytes) else str(k): v
                for k, v in (message.application_properties or {}).items()
            }
            properties = {k: v.decode() if isinstance(v, bytes) else v for k, v in properties.items()}
            delivery = Delivery(
                QUEUE, str(message.message_id), b"".join(message.body), application_properties=properties
            )
            hub.lead_captures.deliver(delivery)
            receiver.complete_message(message)
            handled += 1
    return handled


def stored_markers(hub: Hub) -> list[str]:
    return list(hub.state.list(MARKERS))


LEAD = {
    "firstName": "Ana",
    "lastName": "Ruiz",
    "email": "ana.ruiz@omnidallas.example.com",
    "company": "Omni Dallas",
}


@pytest.mark.slow(13)
def test_a_signed_lead_is_filed_once_a_bad_one_stores_nothing_and_an_outage_only_delays_it(
    hub: Hub, salesforce_sandbox: SalesforceSandbox, servicebus_emulator: ServiceBusEmulator
) -> None:
    api = wiring.build_api(hub, wiring.ApiSettings())
    assert post(api, LEAD, "form-1", secret="not-the-key").status == 401
    assert post(api, LEAD, "form-1", at=time.time() - 301).status == 401
    assert stored_markers(hub) == [] and deliver_all(hub, servicebus_emulator, wait=1) == 0

    first, again = post(api, LEAD, "form-1"), post(api, LEAD, "form-1")
    assert first.status == again.status == 202 and json.loads(first.body) == json.loads(again.body)
    assert post(api, {**LEAD, "phone": "(214) 555-0101"}, "form-1").status == 409  # one key, one lead
    invalid = post(api, {**LEAD, "email": "not an email"}, "form-2")
    assert invalid.status == 400 and json.loads(invalid.body)["errors"][0]["field"] == "body.email"
    assert deliver_all(hub, servicebus_emulator) == 1
    [filed] = salesforce_sandbox.records("Lead")
    assert (filed["Email"], filed["Company"], filed["LastName"]) == (LEAD["email"], "Omni Dallas", "Ruiz")

    # The same person again, from another form, in other capitals: found by email and company, updated.
    returning = {**LEAD, "email": LEAD["email"].upper(), "company": "omni dallas", "phone": "(214) 555-0101"}
    assert post(api, returning, "form-3").status == 202
    assert deliver_all(hub, servicebus_emulator) == 1
    [updated] = salesforce_sandbox.records("Lead")
    assert updated["Id"] == filed["Id"] and updated["Phone"] == "(214) 555-0101"

    salesforce_sandbox.outage(True)
    other = {**LEAD, "email": "li.wei@hyattaustin.example.com", "company": "Hyatt Austin"}
    assert post(api, other, "form-4").status == 202
    assert deliver_all(hub, servicebus_emulator) == 1  # refused for now: rescheduled, not lost
    assert len(salesforce_sandbox.records("Lead")) == 1
    salesforce_sandbox.outage(False)
    deadline = time.monotonic() + 20
    while len(salesforce_sandbox.records("Lead")) == 1 and time.monotonic() < deadline:
        deliver_all(hub, servicebus_emulator)
    assert sorted(r["Company"] for r in salesforce_sandbox.records("Lead")) == ["Hyatt Austin", "Omni Dallas"]
