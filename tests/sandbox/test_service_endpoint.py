"""The sandbox's service endpoint: registered steps post committed writes to Service Bus, nothing else."""

from __future__ import annotations

import pytest

from shared.connectors.dataverse.events import parse_event
from tests.dataverse_events.events_world import events, register
from tests.fixtures.dataverse_sandbox import DataverseSandbox
from tests.fixtures.servicebus_emulator import ServiceBusEmulator
from tests.sandbox.multipart import ChangeSet, Op, post_batch, read_batch

pytestmark = pytest.mark.services

SITES = "/api/data/v9.2/bs_customersites"


def test_a_batch_posts_each_committed_write_and_a_failed_change_set_posts_none(
    dataverse_sandbox: DataverseSandbox, servicebus_emulator: ServiceBusEmulator
) -> None:
    register(
        dataverse_sandbox,
        servicebus_emulator,
        ("bs_customersite", "Create"),
        ("bs_customersite", "Update"),
    )
    with dataverse_sandbox.client() as api:
        answer = post_batch(
            api,
            [
                Op("PATCH", f"{SITES}(bs_sitenumber='0101')", {"bs_glstring": "02-01"}),  # creates
                Op("PATCH", f"{SITES}(bs_sitenumber='0101')", {"bs_glstring": "02-02"}),  # updates
                ChangeSet(
                    (
                        Op("PATCH", f"{SITES}(bs_sitenumber='0102')", {"bs_glstring": "02-03"}),
                        Op("PATCH", f"{SITES}(bs_sitenumber='0103')", {"bs_nosuchcolumn": 1}),  # refused
                    )
                ),
            ],
        )
        assert [[part.status for part in item] for item in read_batch(answer)] == [[204], [204], [400]]
        sites = api.get("bs_customersites?$select=bs_sitenumber").json()["value"]
        assert [site["bs_sitenumber"] for site in sites] == ["0101"]  # the change set rolled back

    posted = events(servicebus_emulator, 2)

    contexts = [parse_event(event.body) for event in posted]
    assert [c.message_name for c in contexts] == ["Create", "Update"]
    assert len({c.primary_entity_id for c in contexts}) == 1  # both of site 0101; none of 0102
    update = contexts[1]
    assert update.target is not None and update.target.get("bs_glstring") == "02-02"
    assert not update.target.has("bs_sitenumber")  # an Update's Target carries only what it set
    assert update.post_image is not None and update.post_image.get("bs_sitenumber") == "0101"


def test_without_a_registered_step_or_after_a_reset_nothing_is_posted(
    dataverse_sandbox: DataverseSandbox, servicebus_emulator: ServiceBusEmulator
) -> None:
    register(dataverse_sandbox, servicebus_emulator, ("bs_contract", "Create"))
    with dataverse_sandbox.client() as api:
        assert api.post("bs_customersites", json={"bs_sitenumber": "0201"}).status_code == 204
        dataverse_sandbox.reset()
        assert api.post("bs_contracts", json={}).status_code == 204

    events(servicebus_emulator, 0, wait=2)
