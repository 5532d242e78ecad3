"""Dataverse events end to end: the sandbox's service endpoint posts to the emulator, the hub routes them.

``register`` turns on the sandbox's steps for one test, posting to that
test's emulator; ``events`` receives what Dataverse posted, as the trigger
would be handed it.
"""

from __future__ import annotations

from typing import Any

from azure.servicebus import ServiceBusClient, ServiceBusReceiveMode

from shared.pipeline.delivery import Delivery
from tests.fixtures.dataverse_sandbox import DataverseSandbox
from tests.fixtures.servicebus_emulator import ServiceBusEmulator
from tests.pipeline.world import delivery_from_sdk

EVENTS = "dataverse-events"
SYNC_REQUESTS = "sync-requests"


def register(
    dataverse: DataverseSandbox, emulator: ServiceBusEmulator, *steps: tuple[str, str]
) -> dict[str, Any]:
    """Register (entity, message) steps on the events queue, with a post image, until the next reset."""
    return dataverse.register_steps(
        emulator.connection_string,
        [
            {"entity": entity, "message": message, "queue": EVENTS, "post_image": True}
            for entity, message in steps
        ],
    )


def events(emulator: ServiceBusEmulator, count: int, wait: float = 10.0) -> list[Delivery]:
    """Exactly the ``count`` events Dataverse posted (removed from the queue); fails on fewer or more."""
    received: list[Delivery] = []
    with (
        ServiceBusClient.from_connection_string(emulator.connection_string) as client,
        client.get_queue_receiver(
            EVENTS, receive_mode=ServiceBusReceiveMode.RECEIVE_AND_DELETE, max_wait_time=wait
        ) as receiver,
    ):
        while len(received) < count:
            batch = receiver.receive_messages(max_message_count=count - len(received), max_wait_time=wait)
            if not batch:
                break
            received += [delivery_from_sdk(message, EVENTS) for message in batch]
        extra = receiver.receive_messages(max_message_count=1, max_wait_time=1)
    assert len(received) == count and not extra, f"{len(received)} events (+{len(extra)}), wanted {count}"
    return received


def waiting(emulator: ServiceBusEmulator, queue: str) -> list[str]:
    """The message ids waiting on ``queue`` (peeked, left in place)."""
    with (
        ServiceBusClient.from_connection_string(emulator.connection_string) as client,
        client.get_queue_receiver(queue) as receiver,
    ):
        return [str(message.message_id) for message in receiver.peek_messages(max_message_count=100)]
