"""Scheduled messages and peeking through the official SDK."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from azure.servicebus import ServiceBusClient, ServiceBusMessage, ServiceBusMessageState

from tests.servicebus_emulator.traffic import numbered, receive, text

pytestmark = pytest.mark.timeout(30)


@pytest.mark.slow(5)
def test_a_scheduled_message_appears_at_its_enqueue_time_unless_cancelled(client: ServiceBusClient) -> None:
    with (
        client.get_queue_receiver("sync-requests") as receiver,
        client.get_queue_sender("sync-requests") as sender,
    ):
        receiver.peek_messages(1)  # opens the receiver now, so the checks below run well before the due time
        at = datetime.now(UTC) + timedelta(seconds=3)
        [kept] = sender.schedule_messages(ServiceBusMessage("nightly sync", message_id="kept"), at)
        [cancelled] = sender.schedule_messages(ServiceBusMessage("called off", message_id="cancelled"), at)
        sender.cancel_scheduled_messages(cancelled)
        early = receiver.receive_messages(max_wait_time=1)
        [waiting] = receiver.peek_messages(10, sequence_number=1)
        [due] = receive(receiver, 1, within_seconds=6)
        receiver.complete_message(due)
        left = receiver.peek_messages(10, sequence_number=1)

    assert (early, left) == ([], [])
    assert (waiting.message_id, waiting.state, waiting.sequence_number) == (
        "kept",
        ServiceBusMessageState.SCHEDULED,
        kept,
    )
    assert (text(due), due.sequence_number, due.state) == (
        "nightly sync",
        kept,
        ServiceBusMessageState.ACTIVE,
    )
    assert due.scheduled_enqueue_time_utc is not None
    assert abs(due.scheduled_enqueue_time_utc - at) < timedelta(milliseconds=5)
    assert due.enqueued_time_utc is not None
    assert due.enqueued_time_utc >= at - timedelta(milliseconds=5)


def test_peek_takes_no_lock_and_counts_no_delivery(client: ServiceBusClient) -> None:
    with client.get_queue_sender("gp-postings") as sender:
        sender.send_messages(numbered(5))
    with client.get_queue_receiver("gp-postings") as receiver:
        peeked = receiver.peek_messages(10, sequence_number=1)
        peeked_again = receiver.peek_messages(10, sequence_number=1)
        from_third = receiver.peek_messages(2, sequence_number=3)
        received = receive(receiver, 5)
        while_locked = receiver.peek_messages(10, sequence_number=1)
        for message in received:
            receiver.complete_message(message)

    assert [text(message) for message in peeked] == ["m000", "m001", "m002", "m003", "m004"]
    assert [message.delivery_count for message in peeked + peeked_again] == [0] * 10
    assert [(text(message), message.sequence_number) for message in from_third] == [("m002", 3), ("m003", 4)]
    assert [message.delivery_count for message in received] == [0] * 5  # peeking locked nothing
    assert [message.delivery_count for message in while_locked] == [1] * 5
