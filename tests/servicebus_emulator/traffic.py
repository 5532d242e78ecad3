"""Sending and receiving through the SDK in tests, every wait bounded so a misbehaving broker fails fast."""

from __future__ import annotations

import time

from azure.servicebus import ServiceBusMessage, ServiceBusReceivedMessage, ServiceBusReceiver


def text(message: ServiceBusReceivedMessage) -> str:
    return b"".join(message.body).decode()


def numbered(count: int, prefix: str = "m") -> list[ServiceBusMessage]:
    """Messages whose body and message id are both ``<prefix><number>``."""
    return [
        ServiceBusMessage(f"{prefix}{index:03}", message_id=f"{prefix}{index:03}") for index in range(count)
    ]


def receive(
    receiver: ServiceBusReceiver, count: int, within_seconds: float = 10
) -> list[ServiceBusReceivedMessage]:
    """Receive until ``count`` messages came or the time is up."""
    received: list[ServiceBusReceivedMessage] = []
    deadline = time.monotonic() + within_seconds
    while len(received) < count and time.monotonic() < deadline:
        received += receiver.receive_messages(max_message_count=count - len(received), max_wait_time=1)
    return received


def properties(message: ServiceBusReceivedMessage) -> dict[str, object]:
    """Application properties with text keys and values (the SDK hands strings back as bytes)."""
    return {
        _text(name): _text(value) if isinstance(value, bytes) else value
        for name, value in (message.application_properties or {}).items()
    }


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value
