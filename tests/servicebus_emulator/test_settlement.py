"""Peek-lock settlement through the official SDK: complete, abandon, dead-letter, lock renewal and expiry."""

from __future__ import annotations

import time

import pytest
from azure.servicebus import ServiceBusClient, ServiceBusMessage, ServiceBusSubQueue
from azure.servicebus.exceptions import MessageAlreadySettled, MessageLockLostError

from tests.servicebus_emulator.namespace import LOCK_SECONDS, SHORT_LOCK_QUEUE
from tests.servicebus_emulator.traffic import numbered, properties, receive, text

pytestmark = pytest.mark.timeout(30)


def test_a_completed_message_is_gone_and_cannot_be_settled_again(client: ServiceBusClient) -> None:
    with client.get_queue_sender("sync-requests") as sender:
        sender.send_messages(ServiceBusMessage("once"))
    with client.get_queue_receiver("sync-requests") as receiver:
        [message] = receive(receiver, 1)
        receiver.complete_message(message)
        with pytest.raises(MessageAlreadySettled):
            receiver.complete_message(message)
        assert receiver.peek_messages(10, sequence_number=1) == []  # peek sees locked messages too


def test_an_abandoned_message_comes_back_with_its_delivery_counted(client: ServiceBusClient) -> None:
    with client.get_queue_sender("sync-requests") as sender:
        sender.send_messages(ServiceBusMessage("retry me"))
    with client.get_queue_receiver("sync-requests") as receiver:
        [first] = receive(receiver, 1)
        first_lock = first.lock_token  # the SDK forgets a message's lock token once it is settled
        receiver.abandon_message(first)
        [second] = receive(receiver, 1)
        second_lock = second.lock_token
        receiver.complete_message(second)

    assert (first.delivery_count, second.delivery_count) == (0, 1)
    assert first.sequence_number == second.sequence_number
    assert first_lock != second_lock


def test_messages_a_closing_receiver_prefetched_go_back_uncounted(client: ServiceBusClient) -> None:
    with client.get_queue_sender("sync-requests") as sender:
        sender.send_messages(numbered(4))
    with client.get_queue_receiver("sync-requests", prefetch_count=10) as prefetching:
        [handed_out] = prefetching.receive_messages(max_message_count=1, max_wait_time=5)
        prefetching.complete_message(handed_out)
    # Closing released the three the application never saw: they were not delivered, so not counted.
    with client.get_queue_receiver("sync-requests") as receiver:
        rest = receive(receiver, 3)
        for message in rest:
            receiver.complete_message(message)

    assert text(handed_out) == "m000"
    assert [(text(message), message.delivery_count) for message in rest] == [
        ("m001", 0),
        ("m002", 0),
        ("m003", 0),
    ]


def test_a_dead_lettered_message_waits_in_the_dead_letter_queue_with_its_reason(
    client: ServiceBusClient,
) -> None:
    with client.get_queue_sender("gp-postings") as sender:
        sender.send_messages(
            ServiceBusMessage("bad posting", message_id="p-1", application_properties={"site": "0170"})
        )
    with client.get_queue_receiver("gp-postings") as receiver:
        [message] = receive(receiver, 1)
        receiver.dead_letter_message(
            message, reason="UnknownGlAccount", error_description="account 4010 not in GL00100"
        )
        assert receiver.peek_messages(10, sequence_number=1) == []
    with client.get_queue_receiver("gp-postings", sub_queue=ServiceBusSubQueue.DEAD_LETTER) as dead_letters:
        [peeked] = dead_letters.peek_messages(10, sequence_number=1)
        [taken] = receive(dead_letters, 1)
        dead_letters.complete_message(taken)
        assert dead_letters.peek_messages(10, sequence_number=1) == []

    for found in (peeked, taken):
        assert (text(found), found.message_id) == ("bad posting", "p-1")
        assert (found.dead_letter_reason, found.dead_letter_error_description) == (
            "UnknownGlAccount",
            "account 4010 not in GL00100",
        )
        assert properties(found) == {
            "site": "0170",
            "DeadLetterReason": "UnknownGlAccount",
            "DeadLetterErrorDescription": "account 4010 not in GL00100",
        }
        assert found.dead_letter_source == "gp-postings"


def test_a_poison_message_is_dead_lettered_at_the_queues_max_delivery_count(client: ServiceBusClient) -> None:
    # The shipped config gives batch-loads a max delivery count of 5 (the other queues 10).
    with client.get_queue_sender("batch-loads") as sender:
        sender.send_messages(ServiceBusMessage("poison", message_id="batch-9"))
    counts = []
    with client.get_queue_receiver("batch-loads") as receiver:
        for _ in range(5):
            [message] = receive(receiver, 1)
            counts.append(message.delivery_count)
            receiver.abandon_message(message)
        assert receiver.peek_messages(10, sequence_number=1) == []
    with client.get_queue_receiver("batch-loads", sub_queue=ServiceBusSubQueue.DEAD_LETTER) as dead_letters:
        [dead] = receive(dead_letters, 1)
        dead_letters.complete_message(dead)

    assert counts == [0, 1, 2, 3, 4]
    assert dead.message_id == "batch-9"
    assert dead.dead_letter_reason == "MaxDeliveryCountExceeded"
    assert dead.dead_letter_error_description == "Message could not be consumed after 5 delivery attempts."


@pytest.mark.slow(5)
def test_renewing_a_lock_keeps_the_message_past_its_first_expiry(short_lock_client: ServiceBusClient) -> None:
    with short_lock_client.get_queue_sender(SHORT_LOCK_QUEUE) as sender:
        sender.send_messages(ServiceBusMessage("long job"))
    with short_lock_client.get_queue_receiver(SHORT_LOCK_QUEUE) as receiver:
        [message] = receive(receiver, 1)
        first_expiry = message.locked_until_utc
        assert first_expiry is not None
        time.sleep(LOCK_SECONDS / 2)
        renewed = receiver.renew_message_lock(message)
        time.sleep(LOCK_SECONDS / 2 + 0.5)  # past the first expiry, inside the renewed one
        receiver.complete_message(message)
        assert receiver.peek_messages(10, sequence_number=1) == []

    assert renewed > first_expiry


@pytest.mark.slow(5)
def test_an_expired_lock_redelivers_the_message_and_the_old_lock_is_lost(
    short_lock_client: ServiceBusClient,
) -> None:
    with short_lock_client.get_queue_sender(SHORT_LOCK_QUEUE) as sender:
        sender.send_messages(ServiceBusMessage("slow consumer"))
    with short_lock_client.get_queue_receiver(SHORT_LOCK_QUEUE) as receiver:
        [first] = receive(receiver, 1)
        [again] = receive(receiver, 1, within_seconds=LOCK_SECONDS + 3)
        with pytest.raises(MessageLockLostError):  # the emulator says so: renewing asks it
            receiver.renew_message_lock(first)
        with pytest.raises(MessageLockLostError):
            receiver.complete_message(first)
        receiver.complete_message(again)

    assert text(again) == "slow consumer"
    assert (first.delivery_count, again.delivery_count) == (0, 1)
