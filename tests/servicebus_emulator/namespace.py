"""The test namespace (a short-lock queue and a two-subscription topic) and how tests connect."""

from __future__ import annotations

from azure.servicebus import ServiceBusClient

from tests.fixtures.servicebus_emulator import ServiceBusEmulator

SHORT_LOCK_QUEUE = "short-lock"
LOCK_SECONDS = 3
POISON_LIMIT = 3


def _queue(name: str, lock: str, max_delivery: int) -> dict[str, object]:
    return {"Name": name, "Properties": {"LockDuration": lock, "MaxDeliveryCount": max_delivery}}


def _subscription(name: str) -> dict[str, object]:
    return {"Name": name, "Properties": {"LockDuration": "PT1M", "MaxDeliveryCount": 10}}


# Microsoft's emulator would refuse a lock under a minute; ours takes any, which keeps expiry tests short.
TEST_CONFIG = {
    "UserConfig": {
        "Namespaces": [
            {
                "Name": "sbemulatorns",
                "Queues": [_queue(SHORT_LOCK_QUEUE, f"PT{LOCK_SECONDS}S", POISON_LIMIT)],
                "Topics": [
                    {"Name": "fan-out", "Subscriptions": [_subscription("first"), _subscription("second")]}
                ],
            }
        ],
        "Logging": {"Type": "File"},
    }
}


def connect(emulator: ServiceBusEmulator) -> ServiceBusClient:
    """A client as the hub builds one, minus the idle keep-alive thread that makes every close wait."""
    return ServiceBusClient.from_connection_string(emulator.connection_string, keep_alive=0)
