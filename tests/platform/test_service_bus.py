"""The Service Bus adapter against the emulator: publishing, scheduling, and dead-letter handling."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import orjson
import pytest
from azure.servicebus import ServiceBusClient, ServiceBusSubQueue

from shared.platform.service_bus import RESUBMITTED_FROM_ID, OutgoingMessage, ServiceBus
from tests.fixtures.servicebus_emulator import ServiceBusEmulator

QUEUE = "gp-postings"


@pytest.fixture
def sdk(servicebus_emulator: ServiceBusEmulator) -> ServiceBusClient:
    return ServiceBusClient.from_connection_string(servicebus_emulator.connection_string)


@pytest.fixture
def bus(sdk: ServiceBusClient) -> ServiceBus:
    return ServiceBus(sdk)


def posting(number: int, **extra: object) -> OutgoingMessage:
    return OutgoingMessage(
        body={"statement": f"0170-202610-01-{number:02d}"},
        message_id=f"posting-{number}",
        correlation_id="run-7",
        subject="gp-posting",
        application_properties={"company": "TOWNE", "attempt": number},
        **extra,  # type: ignore[arg-type]
    )


def test_published_messages_arrive_with_ids_and_properties_in_order(
    bus: ServiceBus, sdk: ServiceBusClient
) -> None:
    bus.publish_many(QUEUE, [posting(n) for n in range(40)])
    bus.publish(QUEUE, posting(40))

    with sdk.get_queue_receiver(QUEUE, max_wait_time=3) as receiver:
        received = []
        while len(received) < 41:
            batch = receiver.receive_messages(max_message_count=50, max_wait_time=3)
            if not batch:
                break
            for message in batch:
                receiver.complete_message(message)
            received.extend(batch)

    assert [m.message_id for m in received] == [f"posting-{n}" for n in range(41)]
    first = received[0]
    assert first.correlation_id == "run-7" and first.subject == "gp-posting"
    assert first.content_type == "application/json"
    assert orjson.loads(b"".join(first.body)) == {"statement": "0170-202610-01-00"}
    properties = {
        key.decode() if isinstance(key, bytes) else key: value
        for key, value in (first.application_properties or {}).items()
    }
    assert properties["attempt"] == 0
    assert properties["company"] in ("TOWNE", b"TOWNE")


def test_scheduled_message_appears_only_at_its_time(bus: ServiceBus, sdk: ServiceBusClient) -> None:
    bus.publish(QUEUE, posting(1, scheduled_enqueue_time=datetime.now(UTC) + timedelta(seconds=3)))

    with sdk.get_queue_receiver(QUEUE) as receiver:
        assert receiver.receive_messages(max_message_count=1, max_wait_time=1) == []
        time.sleep(2.5)
        arrived = receiver.receive_messages(max_message_count=1, max_wait_time=5)
        assert [m.message_id for m in arrived] == ["posting-1"]
        receiver.complete_message(arrived[0])


def dead_letter(sdk: ServiceBusClient, count: int) -> None:
    with sdk.get_queue_receiver(QUEUE) as receiver:
        done = 0
        while done < count:
            for message in receiver.receive_messages(max_message_count=count, max_wait_time=3):
                receiver.dead_letter_message(
                    message,
                    reason="UnknownAccount",
                    error_description=f"account 4790 not in GP ({message.message_id})",
                )
                done += 1


def test_dead_letters_are_peeked_with_their_reasons_and_left_in_place(
    bus: ServiceBus, sdk: ServiceBusClient
) -> None:
    bus.publish_many(QUEUE, [posting(n) for n in range(3)])
    dead_letter(sdk, 3)

    peeked = bus.peek_dead_letters(QUEUE, max_count=10)
    again = bus.peek_dead_letters(QUEUE, max_count=10)

    assert [letter.message_id for letter in peeked] == ["posting-0", "posting-1", "posting-2"]
    assert peeked[0].reason == "UnknownAccount"
    assert peeked[0].description == "account 4790 not in GP (posting-0)"
    assert peeked[0].body == '{"statement":"0170-202610-01-00"}'
    assert [letter.delivery_count for letter in again] == [letter.delivery_count for letter in peeked]
    later = bus.peek_dead_letters(QUEUE, max_count=10, from_sequence=peeked[1].sequence_number)
    assert [letter.message_id for letter in later] == ["posting-1", "posting-2"]


@pytest.mark.slow(8)
def test_resubmitted_dead_letter_returns_to_its_queue_once_and_leaves_the_rest(
    bus: ServiceBus, sdk: ServiceBusClient
) -> None:
    bus.publish_many(QUEUE, [posting(n) for n in range(3)])
    dead_letter(sdk, 3)

    taken = bus.resubmit_dead_letter(QUEUE, "posting-1")
    assert taken is not None and taken.message_id == "posting-1"
    assert bus.resubmit_dead_letter(QUEUE, "posting-1") is None  # it is gone from the dead letters

    with sdk.get_queue_receiver(QUEUE) as receiver:
        back = receiver.receive_messages(max_message_count=5, max_wait_time=3)
        for message in back:
            receiver.complete_message(message)
    assert len(back) == 1
    copy = back[0]
    assert copy.message_id != "posting-1" and copy.message_id.startswith("posting-1.")
    properties = {
        key.decode() if isinstance(key, bytes) else key: value
        for key, value in (copy.application_properties or {}).items()
    }
    original_id = properties[RESUBMITTED_FROM_ID]
    assert original_id in ("posting-1", b"posting-1")
    assert "DeadLetterReason" not in properties
    assert orjson.loads(b"".join(copy.body)) == {"statement": "0170-202610-01-01"}
    assert [letter.message_id for letter in bus.peek_dead_letters(QUEUE, 10)] == ["posting-0", "posting-2"]


@pytest.mark.slow(7)
def test_discarded_dead_letter_is_removed_for_good(bus: ServiceBus, sdk: ServiceBusClient) -> None:
    bus.publish_many(QUEUE, [posting(n) for n in range(2)])
    dead_letter(sdk, 2)

    discarded = bus.discard_dead_letter(QUEUE, "posting-0")

    assert discarded is not None and discarded.reason == "UnknownAccount"
    assert [letter.message_id for letter in bus.peek_dead_letters(QUEUE, 10)] == ["posting-1"]
    with sdk.get_queue_receiver(QUEUE, sub_queue=ServiceBusSubQueue.DEAD_LETTER) as receiver:
        assert len(receiver.peek_messages(max_message_count=10)) == 1
    assert bus.discard_dead_letter(QUEUE, "posting-9") is None


def test_check_fails_for_a_queue_that_does_not_exist(bus: ServiceBus) -> None:
    bus.check(QUEUE)
    with pytest.raises(Exception, match=r"(?i)not.*found|entity"):
        bus.check("no-such-queue")
