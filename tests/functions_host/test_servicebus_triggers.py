"""Service Bus triggers through the real host and the local emulator, with the official SDK on both ends.

A function that returns completes its message; one that raises abandons it
until the broker's max delivery count dead-letters it; ``maxConcurrentCalls``
bounds the parallel runs and lock renewal keeps a long run's message locked.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from azure.servicebus import ServiceBusClient, ServiceBusMessage, ServiceBusReceiver, ServiceBusSubQueue

from tests.fixtures.servicebus_emulator import ServiceBusEmulator
from tests.functions_host.conftest import FunctionsHost

pytestmark = pytest.mark.timeout(60)

MAX_DELIVERY_COUNT = 3
# Service Bus locks for at least 5 s; the SDK's lock renewer cannot keep up with shorter ones.
LOCK_SECONDS = 5


def _queue(name: str, lock: str = "PT1M") -> dict[str, object]:
    return {"Name": name, "Properties": {"LockDuration": lock, "MaxDeliveryCount": MAX_DELIVERY_COUNT}}


SAMPLE_APP_ENTITIES = {
    "UserConfig": {
        "Namespaces": [
            {
                "Name": "sbemulatorns",
                "Queues": [
                    _queue("orders"),
                    _queue("poison-orders"),
                    _queue("slow-orders", f"PT{LOCK_SECONDS}S"),
                ],
                "Topics": [
                    {
                        "Name": "order-events",
                        "Subscriptions": [{"Name": "audit", "Properties": {"MaxDeliveryCount": 3}}],
                    }
                ],
            }
        ],
        "Logging": {"Type": "File"},
    }
}


@pytest.fixture
def emulator(
    servicebus_emulator_factory: Callable[..., ServiceBusEmulator], tmp_path: Path
) -> ServiceBusEmulator:
    config = tmp_path / "config.json"
    config.write_text(json.dumps(SAMPLE_APP_ENTITIES), encoding="utf-8")
    return servicebus_emulator_factory(config)


@pytest.fixture
def host(emulator: ServiceBusEmulator, functions_host_factory: Callable[..., FunctionsHost]) -> FunctionsHost:
    # The connection string in the environment wins over the identity-based form in local settings.
    return functions_host_factory({"SampleServiceBus": emulator.connection_string})


@pytest.fixture
def client(emulator: ServiceBusEmulator) -> Iterator[ServiceBusClient]:
    with ServiceBusClient.from_connection_string(emulator.connection_string, keep_alive=0) as connected:
        yield connected


def _send(client: ServiceBusClient, queue: str, *messages: ServiceBusMessage) -> None:
    with client.get_queue_sender(queue) as sender:
        sender.send_messages(list(messages))


def _wait_until_empty(receiver: ServiceBusReceiver, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while receiver.peek_messages(max_message_count=10):
        assert time.monotonic() < deadline, "the message was never completed"
        time.sleep(0.1)


def test_a_function_that_returns_completes_its_message(host: FunctionsHost, client: ServiceBusClient) -> None:
    _send(
        client,
        "orders",
        ServiceBusMessage(
            b'{"site": 12, "amount": "125.50"}',
            message_id="order-12-0001",
            correlation_id="run-42",
            content_type="application/json",
            application_properties={"source": "legion", "attempt": 1},
        ),
    )

    [record] = host.wait_for_records("take_order", 1)

    assert record["body"] == '{"site": 12, "amount": "125.50"}'
    assert (record["message_id"], record["correlation_id"], record["content_type"]) == (
        "order-12-0001",
        "run-42",
        "application/json",
    )
    assert record["application_properties"] == {"source": "legion", "attempt": 1}
    enqueued = datetime.fromisoformat(record["enqueued_time_utc"])
    assert abs(enqueued - datetime.now(UTC)) < timedelta(seconds=30)
    host.wait_for_log(f"Executed 'Functions.take_order' (Succeeded, Id={record['invocation_id']}, Duration=")
    with client.get_queue_receiver("orders") as receiver:
        _wait_until_empty(receiver)
    assert host.terminate() == 0


def test_a_function_that_raises_is_retried_then_dead_lettered(
    host: FunctionsHost, client: ServiceBusClient
) -> None:
    _send(client, "poison-orders", ServiceBusMessage(b'{"amount": "9.99"}', message_id="order-without-site"))

    with client.get_queue_receiver("poison-orders", sub_queue=ServiceBusSubQueue.DEAD_LETTER) as dead_letters:
        [dead] = dead_letters.receive_messages(max_message_count=1, max_wait_time=20)
        dead_letters.complete_message(dead)

    assert dead.message_id == "order-without-site"
    assert dead.dead_letter_reason == "MaxDeliveryCountExceeded"
    attempts = host.wait_for_records("reject_order", MAX_DELIVERY_COUNT)
    assert len(attempts) == MAX_DELIVERY_COUNT
    assert {attempt["message_id"] for attempt in attempts} == {"order-without-site"}
    failure = "Exception: ValueError: order order-without-site has no site"
    assert host.log().count(failure) == MAX_DELIVERY_COUNT


def test_a_topic_subscription_trigger_gets_what_the_topic_was_sent(
    host: FunctionsHost, client: ServiceBusClient
) -> None:
    with client.get_topic_sender("order-events") as sender:
        sender.send_messages(ServiceBusMessage("order-12-0001 priced", message_id="event-1"))

    [record] = host.wait_for_records("audit_order_event", 1)

    assert record == {"body": "order-12-0001 priced", "message_id": "event-1"}
    assert "New ServiceBus message detected on 'order-events/Subscriptions/audit'." in host.log()


def test_max_concurrent_calls_bounds_how_many_runs_of_one_function_overlap(
    host: FunctionsHost, client: ServiceBusClient
) -> None:
    orders = [f"slow-{n}" for n in range(4)]
    _send(
        client,
        "slow-orders",
        *(
            ServiceBusMessage(order, message_id=order, application_properties={"seconds": 1})
            for order in orders
        ),
    )

    records = host.wait_for_records("price_order_slowly", len(orders))

    # host.json sets maxConcurrentCalls to 2.
    moments = sorted([(r["started"], 1) for r in records] + [(r["ended"], -1) for r in records])
    assert max(itertools.accumulate(change for _, change in moments)) == 2
    assert sorted(record["message_id"] for record in records) == orders


@pytest.mark.slow(11)
def test_a_run_longer_than_the_lock_keeps_its_message_by_renewing_the_lock(
    host: FunctionsHost, client: ServiceBusClient
) -> None:
    seconds = LOCK_SECONDS + 3  # the lock would expire mid-run unless the host renews it
    _send(
        client,
        "slow-orders",
        ServiceBusMessage("slow", message_id="slow", application_properties={"seconds": seconds}),
    )

    [record] = host.wait_for_records("price_order_slowly", 1, timeout=seconds + 10)

    assert record["ended"] - record["started"] >= seconds
    with client.get_queue_receiver("slow-orders") as receiver:
        _wait_until_empty(receiver)
    time.sleep(1)
    assert len(host.records("price_order_slowly")) == 1  # completed once, never redelivered
    assert "Could not complete" not in host.log()
    assert "Lock renewal stopped" not in host.log()
