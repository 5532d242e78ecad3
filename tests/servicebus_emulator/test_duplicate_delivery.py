"""The emulator's duplicate-delivery switch: a completed message comes again, as at-least-once allows."""

from __future__ import annotations

import httpx
import pytest
from azure.servicebus import ServiceBusMessage, ServiceBusReceiver, ServiceBusSender

from localdev.outage import FaultSetting
from localdev.servicebus_emulator.faults import DUPLICATE_DELIVERY, DuplicateDeliveries
from tests.fixtures.servicebus_emulator import ServiceBusEmulator
from tests.servicebus_emulator.namespace import connect
from tests.servicebus_emulator.traffic import numbered, properties, receive, text

pytestmark = pytest.mark.timeout(60)


def test_a_completed_message_is_delivered_again_with_its_id_body_and_properties_even_after_a_restart(
    servicebus_emulator: ServiceBusEmulator,
) -> None:
    servicebus_emulator.duplicate("Sync-Requests", 1)
    with connect(servicebus_emulator) as client:
        with client.get_queue_sender("sync-requests") as sender:
            sender.send_messages(
                ServiceBusMessage("run 7", message_id="run-7", application_properties={"a": "b"})
            )
        with client.get_queue_receiver("sync-requests") as receiver:
            [first] = receive(receiver, 1)
            receiver.complete_message(first)  # the client hears it settled
    assert servicebus_emulator.faults() == {
        "duplicate_delivery": {"countLeft": 0, "fraction": 0.0, "struck": 1, "queue": "sync-requests"},
        "duplicatesByQueue": {"sync-requests": 1},
    }

    servicebus_emulator.restart()
    assert servicebus_emulator.faults() == {"duplicatesByQueue": {}}  # switches live in memory only
    with connect(servicebus_emulator) as client, client.get_queue_receiver("sync-requests") as receiver:
        [again] = receive(receiver, 1)
        receiver.complete_message(again)
        assert receiver.peek_messages(10, sequence_number=1) == []
    assert (text(again), again.message_id, properties(again)) == ("run 7", "run-7", {"a": "b"})
    assert (again.sequence_number, again.delivery_count) == (first.sequence_number, 1)


def test_the_same_seed_duplicates_the_same_completions_and_delete_disarms(
    servicebus_emulator: ServiceBusEmulator,
) -> None:
    def delivered(sender: ServiceBusSender, receiver: ServiceBusReceiver) -> list[str]:
        servicebus_emulator.duplicate(fraction=0.4, seed=11)
        sender.send_messages(numbered(8))
        bodies: list[str] = []
        while batch := receiver.receive_messages(max_message_count=10, max_wait_time=1):
            for message in batch:
                bodies.append(text(message))
                receiver.complete_message(message)
        return bodies

    with (
        connect(servicebus_emulator) as client,
        client.get_queue_sender("batch-loads") as sender,
        client.get_queue_receiver("batch-loads") as receiver,
    ):
        first = delivered(sender, receiver)
        assert sorted(set(first)) == [f"m{n:03}" for n in range(8)] and len(first) > 8
        assert servicebus_emulator.faults()["duplicatesByQueue"] == {"batch-loads": len(first) - 8}
        assert httpx.delete(servicebus_emulator.admin_url).json() == {"duplicatesByQueue": {}}
        assert delivered(sender, receiver) == first
    for body in ({"fault": "meteor"}, {"fault": DUPLICATE_DELIVERY, "fraction": 2}, {"queue": 5}):
        assert httpx.post(servicebus_emulator.admin_url, json=body).status_code == 400, body
    assert httpx.get(servicebus_emulator.admin_url.replace("faults", "nothing")).status_code == 404


def test_a_named_queue_is_the_only_one_struck_and_its_count_is_kept_apart() -> None:
    duplicates = DuplicateDeliveries()
    duplicates.configure(DUPLICATE_DELIVERY, "batch-loads", FaultSetting(count=2))
    struck = [
        duplicates.strikes(entity)
        for entity in ("sync-requests", "batch-loads", "gp-postings", "batch-loads")
    ]
    assert struck == [False, True, False, True]
    assert duplicates.as_json()["duplicatesByQueue"] == {"batch-loads": 2}
    assert duplicates.strikes("batch-loads") is False
