"""Stopping and starting the emulator loses nothing; the acceptance scenario; a bad config stops it."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from azure.servicebus import ServiceBusMessage, ServiceBusReceivedMessage, ServiceBusSubQueue
from azure.servicebus.exceptions import MessageLockLostError

from localdev.services import REPO
from tests.fixtures.servicebus_emulator import ServiceBusEmulator
from tests.servicebus_emulator.namespace import LOCK_SECONDS, POISON_LIMIT, SHORT_LOCK_QUEUE, connect
from tests.servicebus_emulator.traffic import numbered, receive, text

pytestmark = pytest.mark.timeout(60)


def test_a_restart_loses_no_message_and_releases_the_locks_clients_held(
    servicebus_emulator: ServiceBusEmulator,
) -> None:
    with connect(servicebus_emulator) as client:
        with client.get_queue_sender("sync-requests") as sender:
            sender.send_messages(numbered(4))
            sender.schedule_messages(ServiceBusMessage("later"), datetime.now(UTC) + timedelta(hours=1))
        with client.get_queue_receiver("sync-requests") as receiver:
            held = receive(receiver, 2)  # locked for a minute when the emulator stops

            assert servicebus_emulator.stop() == 0  # SIGTERM is a clean stop
            servicebus_emulator.start()

            # The SDK reconnects and, its receive link gone, settles through $management: the lock is gone.
            with pytest.raises(MessageLockLostError):
                receiver.complete_message(held[0])
            after = receive(receiver, 4)
            for message in after:
                receiver.complete_message(message)
            [scheduled] = receiver.peek_messages(10, sequence_number=1)

    assert [text(message) for message in held] == ["m000", "m001"]
    assert [(text(message), message.delivery_count) for message in after] == [
        ("m000", 1),  # the interrupted delivery counts, as a lost lock does
        ("m001", 1),
        ("m002", 0),
        ("m003", 0),
    ]
    assert text(scheduled) == "later"


@pytest.mark.slow(11)
def test_acceptance_a_hundred_messages_through_completion_poison_expiry_and_restarts(
    short_lock_emulator: ServiceBusEmulator,
) -> None:
    """Send 100; complete 50; abandon 25 until dead-lettered; let 25 lock-expire; restart twice on the way."""
    emulator = short_lock_emulator
    ids = [f"m{index:03}" for index in range(100)]
    to_complete, poison, to_expire = set(ids[:50]), set(ids[50:75]), set(ids[75:])
    completed: list[str] = []

    def check_none_completed(messages: list[ServiceBusReceivedMessage]) -> None:
        assert not {message.message_id for message in messages} & set(completed), (
            "a completed message came back"
        )

    with connect(emulator) as client, client.get_queue_sender(SHORT_LOCK_QUEUE) as sender:
        batch = sender.create_message_batch()
        for message in numbered(100):
            batch.add_message(message)
        sender.send_messages(batch)
    emulator.restart()

    with connect(emulator) as client, client.get_queue_receiver(SHORT_LOCK_QUEUE) as first_receiver:
        first = receive(first_receiver, 100)
        assert sorted(str(message.message_id) for message in first) == ids
        assert {message.delivery_count for message in first} == {0}
        for message in first:
            if message.message_id in to_complete:
                first_receiver.complete_message(message)
                completed.append(message.message_id)
            elif message.message_id in poison:
                first_receiver.abandon_message(message)
        time.sleep(LOCK_SECONDS + 0.5)  # the 25 left unsettled lose their locks

        with client.get_queue_receiver(SHORT_LOCK_QUEUE) as second_receiver:
            second = receive(second_receiver, 50)
            check_none_completed(second)
            assert {message.message_id for message in second} == poison | to_expire
            assert {message.delivery_count for message in second} == {1}
            for stale in (message for message in first if message.message_id in to_expire):
                with pytest.raises(MessageLockLostError):
                    first_receiver.complete_message(stale)
            for message in second:
                if message.message_id in poison:
                    second_receiver.abandon_message(message)
            # the 25 redelivered after expiry stay locked across the next restart

    emulator.restart()

    with connect(emulator) as client, client.get_queue_receiver(SHORT_LOCK_QUEUE) as third_receiver:
        third = receive(third_receiver, 50)
        check_none_completed(third)
        assert {message.message_id for message in third} == poison | to_expire
        assert {message.delivery_count for message in third} == {POISON_LIMIT - 1}
        for message in third:
            if message.message_id in to_expire:
                third_receiver.complete_message(message)
                completed.append(message.message_id)
            else:
                third_receiver.abandon_message(message)  # the last allowed delivery: dead-lettered
        assert third_receiver.receive_messages(max_message_count=100, max_wait_time=1) == []
        assert third_receiver.peek_messages(100, sequence_number=1) == []

    with (
        connect(emulator) as client,
        client.get_queue_receiver(SHORT_LOCK_QUEUE, sub_queue=ServiceBusSubQueue.DEAD_LETTER) as dead_letters,
    ):
        dead = dead_letters.peek_messages(100, sequence_number=1)

    assert sorted(completed) == sorted(to_complete | to_expire)  # each completed exactly once
    assert sorted(str(message.message_id) for message in dead) == sorted(poison)
    assert {message.dead_letter_reason for message in dead} == {"MaxDeliveryCountExceeded"}
    assert {message.dead_letter_error_description for message in dead} == {
        f"Message could not be consumed after {POISON_LIMIT} delivery attempts."
    }


def test_a_file_that_is_not_an_emulator_config_stops_the_emulator(tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    config.write_text('{"UserConfig": {"Namespaces": []}}', encoding="utf-8")
    command = [sys.executable, "-m", "localdev.servicebus_emulator", "--config", str(config), "--port", "0"]
    finished = subprocess.run(
        [*command, "--data", str(tmp_path / "data")],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )

    assert finished.returncode == 2
    assert "not a Service Bus emulator Config.json" in finished.stderr
