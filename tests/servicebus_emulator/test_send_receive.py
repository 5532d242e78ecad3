"""Sending and receiving through the official SDK: what a receiver sees is what the sender set."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import pytest
from azure.servicebus import ServiceBusClient, ServiceBusMessage, ServiceBusReceiveMode
from azure.servicebus.exceptions import MessagingEntityNotFoundError

from tests.servicebus_emulator.traffic import numbered, properties, receive, text

pytestmark = pytest.mark.timeout(30)


def test_a_received_message_carries_everything_its_sender_set(client: ServiceBusClient) -> None:
    sent = ServiceBusMessage(
        b'{"batchId": "b-7"}',
        message_id="b-7",
        correlation_id="run-42",
        subject="legion.payroll",
        content_type="application/json",
        application_properties={"attempt": 2, "source": "legion", "final": True, "ratio": 0.5},
    )
    with client.get_queue_sender("sync-requests") as sender:
        sender.send_messages(sent)
    with client.get_queue_receiver("sync-requests") as receiver:
        [received] = receive(receiver, 1)
        locked_until = received.locked_until_utc
        receiver.complete_message(received)

    assert text(received) == '{"batchId": "b-7"}'
    assert (received.message_id, received.correlation_id, received.subject, received.content_type) == (
        "b-7",
        "run-42",
        "legion.payroll",
        "application/json",
    )
    assert properties(received) == {"attempt": 2, "source": "legion", "final": True, "ratio": 0.5}
    assert received.sequence_number == 1
    assert received.delivery_count == 0
    now = datetime.now(UTC)
    assert received.enqueued_time_utc is not None
    assert abs(received.enqueued_time_utc - now) < timedelta(seconds=10)
    assert locked_until is not None  # the shipped config locks for one minute
    assert timedelta(seconds=45) < locked_until - now <= timedelta(seconds=60)


def test_a_batch_arrives_as_separate_messages_in_sequence(client: ServiceBusClient) -> None:
    with client.get_queue_sender("batch-loads") as sender:
        batch = sender.create_message_batch()
        for message in numbered(20):
            batch.add_message(message)
        sender.send_messages(batch)
        sender.send_messages(numbered(3, prefix="list-"))
    with client.get_queue_receiver("batch-loads") as receiver:
        received = receive(receiver, 23)
        for message in received:
            receiver.complete_message(message)

    assert [text(message) for message in received] == [f"m{i:03}" for i in range(20)] + [
        f"list-{i:03}" for i in range(3)
    ]
    assert [message.sequence_number for message in received] == list(range(1, 24))


def test_receive_and_delete_takes_messages_for_good(client: ServiceBusClient) -> None:
    with client.get_queue_sender("gp-postings") as sender:
        sender.send_messages(numbered(3))
    with client.get_queue_receiver(
        "gp-postings", receive_mode=ServiceBusReceiveMode.RECEIVE_AND_DELETE
    ) as taker:
        taken = receive(taker, 3)
        left = taker.peek_messages(10, sequence_number=1)

    assert [text(message) for message in taken] == ["m000", "m001", "m002"]
    assert left == []


def test_a_topic_gives_every_subscription_its_own_copy(short_lock_client: ServiceBusClient) -> None:
    with short_lock_client.get_topic_sender("fan-out") as sender:
        sender.send_messages(numbered(2))
    copies = {}
    for subscription in ("first", "second"):
        with short_lock_client.get_subscription_receiver("fan-out", subscription) as receiver:
            received = receive(receiver, 2)
            for message in received:
                receiver.complete_message(message)
        copies[subscription] = [(text(message), message.sequence_number) for message in received]

    assert copies == {"first": [("m000", 1), ("m001", 2)], "second": [("m000", 1), ("m001", 2)]}


def test_the_run_events_topic_reaches_the_operations_subscription(client: ServiceBusClient) -> None:
    # The hub's own runs publish their events here too: take what earlier tests left first.
    with client.get_subscription_receiver(
        "run-events", "operations", receive_mode=ServiceBusReceiveMode.RECEIVE_AND_DELETE, max_wait_time=1
    ) as drain:
        while drain.receive_messages(500, 1):
            pass
    with client.get_topic_sender("run-events") as sender:
        sender.send_messages(ServiceBusMessage("run finished", subject="run.finished"))
    with client.get_subscription_receiver("run-events", "operations") as receiver:
        [received] = receive(receiver, 1)
        receiver.complete_message(received)

    assert (text(received), received.subject) == ("run finished", "run.finished")


def test_a_message_larger_than_one_frame_arrives_intact(client: ServiceBusClient) -> None:
    body = os.urandom(200_000)  # the emulator's frames are 64 KiB; Service Bus Standard allows 256 KiB
    with client.get_queue_sender("sync-requests") as sender:
        sender.send_messages(ServiceBusMessage(body))
    with client.get_queue_receiver("sync-requests") as receiver:
        [received] = receive(receiver, 1)
        receiver.complete_message(received)

    assert b"".join(received.body) == body


def test_an_entity_the_config_does_not_declare_is_not_found(client: ServiceBusClient) -> None:
    with pytest.raises(MessagingEntityNotFoundError), client.get_queue_sender("no-such-queue") as sender:
        sender.send_messages(ServiceBusMessage("lost"))
    with pytest.raises(MessagingEntityNotFoundError), client.get_queue_receiver("no-such-queue") as receiver:
        receiver.receive_messages(max_wait_time=1)
