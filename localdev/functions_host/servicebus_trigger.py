"""Service Bus queue and subscription triggers, received with the official SDK as the Functions host does.

Messages are received in peek-lock mode; a function that returns completes its
message and one that raises abandons it, so the broker's max delivery count
moves a poison message to the dead-letter queue. ``host.json``
``extensions.serviceBus`` sets how many messages one function handles at once
(``maxConcurrentCalls``) and how long locks are renewed while it runs
(``maxAutoLockRenewalDuration``).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from azure.functions.servicebus import ServiceBusMessage
from azure.servicebus import ServiceBusReceivedMessage, ServiceBusReceiveMode, parse_connection_string
from azure.servicebus.aio import AutoLockRenewer, ServiceBusClient, ServiceBusReceiver
from azure.servicebus.amqp import AmqpMessageBodyType
from azure.servicebus.exceptions import ServiceBusError
from opentelemetry.trace import SpanKind

from localdev.functions_host.catalog import AppFunction
from localdev.functions_host.invocation import Invoker
from localdev.functions_host.local_settings import SettingsError, resolve
from localdev.functions_host.telemetry import invocation_span, message_carrier
from localdev.functions_host.timespan import parse_timespan
from shared.telemetry import names

# The Functions host's name for a trigger that names no connection.
DEFAULT_CONNECTION = "AzureWebJobsServiceBus"
_RECEIVE_WAIT_SECONDS = 1  # how quickly a listener notices the host stopping
_RECONNECT_SECONDS = (1, 2, 5, 10, 30)


@dataclass(frozen=True)
class ServiceBusOptions:
    """``host.json`` ``extensions.serviceBus``, with the Functions host's defaults."""

    max_concurrent_calls: int = 16
    max_auto_lock_renewal: timedelta = timedelta(minutes=5)
    prefetch_count: int = 0

    @classmethod
    def from_host_json(cls, section: Mapping[str, Any]) -> ServiceBusOptions:
        try:
            options = cls(
                max_concurrent_calls=int(section.get("maxConcurrentCalls", cls.max_concurrent_calls)),
                max_auto_lock_renewal=parse_timespan(section["maxAutoLockRenewalDuration"])
                if "maxAutoLockRenewalDuration" in section
                else cls.max_auto_lock_renewal,
                prefetch_count=int(section.get("prefetchCount", cls.prefetch_count)),
            )
        except ValueError as error:
            raise SettingsError(f"host.json extensions.serviceBus: {error}") from error
        if options.max_concurrent_calls < 1:
            raise SettingsError("host.json extensions.serviceBus.maxConcurrentCalls must be at least 1")
        return options


@dataclass(frozen=True)
class ServiceBusSpec:
    """Where one function's messages come from: a queue, or a topic's subscription."""

    function: AppFunction
    connection_setting: str
    connection_string: str
    queue: str | None
    topic: str | None
    subscription: str | None

    @property
    def entity(self) -> str:
        return self.queue or f"{self.topic}/Subscriptions/{self.subscription}"

    def describe(self) -> str:
        if self.queue:
            return f"serviceBusTrigger, queue '{self.queue}' (connection {self.connection_setting})"
        return (
            f"serviceBusTrigger, topic '{self.topic}', subscription '{self.subscription}' "
            f"(connection {self.connection_setting})"
        )


def servicebus_spec(function: AppFunction, settings: Mapping[str, str]) -> ServiceBusSpec:
    """What a function's ``serviceBusTrigger`` declares, with its connection string and names resolved."""
    trigger = function.trigger
    if trigger.get("isSessionsEnabled"):
        raise SettingsError("session-enabled Service Bus triggers are not supported by the local host")
    if str(trigger.get("cardinality") or "one").lower() != "one":
        raise SettingsError("batched (cardinality many) Service Bus triggers are not supported locally")
    setting = str(trigger.get("connection") or DEFAULT_CONNECTION)
    connection_string = settings.get(setting)
    if not connection_string:
        if settings.get(f"{setting}__fullyQualifiedNamespace"):
            raise SettingsError(
                f"connection '{setting}' is identity-based ({setting}__fullyQualifiedNamespace), which only "
                f"works in Azure; locally set {setting} to a connection string (the emulator's)"
            )
        raise SettingsError(f"connection setting '{setting}' is not set")
    try:
        parse_connection_string(connection_string)
    except ValueError as error:
        raise SettingsError(f"setting '{setting}' is not a Service Bus connection string: {error}") from error
    queue = trigger.get("queueName")
    return ServiceBusSpec(
        function,
        setting,
        connection_string,
        resolve(str(queue), settings) if queue else None,
        None if queue else resolve(str(trigger["topicName"]), settings),
        None if queue else resolve(str(trigger["subscriptionName"]), settings),
    )


def _text(value: Any) -> Any:
    return value.decode("utf-8", errors="replace") if isinstance(value, bytes) else value


def _body(message: ServiceBusReceivedMessage) -> bytes:
    body = message.body
    if message.body_type == AmqpMessageBodyType.DATA:
        return b"".join(body)
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode("utf-8")
    return json.dumps(body, default=str).encode("utf-8")


def functions_message(message: ServiceBusReceivedMessage) -> ServiceBusMessage:
    """The ``func.ServiceBusMessage`` the Python worker would build from a received message."""
    properties = {_text(key): _text(value) for key, value in (message.application_properties or {}).items()}
    return ServiceBusMessage(
        body=_body(message),
        application_properties=properties,
        user_properties=dict(properties),
        content_type=message.content_type,
        correlation_id=message.correlation_id,
        dead_letter_error_description=message.dead_letter_error_description,
        dead_letter_reason=message.dead_letter_reason,
        dead_letter_source=message.dead_letter_source,
        delivery_count=message.delivery_count,
        enqueued_sequence_number=message.enqueued_sequence_number,
        enqueued_time_utc=message.enqueued_time_utc,
        expires_at_utc=message.expires_at_utc,
        label=message.subject,
        locked_until=message.locked_until_utc,
        lock_token=str(message.lock_token) if message.lock_token else None,
        message_id=str(message.message_id),
        partition_key=message.partition_key,
        reply_to=message.reply_to,
        reply_to_session_id=message.reply_to_session_id,
        scheduled_enqueue_time_utc=message.scheduled_enqueue_time_utc,
        sequence_number=message.sequence_number,
        session_id=message.session_id,
        state=int(message.state),
        subject=message.subject,
        time_to_live=message.time_to_live,
        to=message.to,
    )


def _trigger_details(message: ServiceBusReceivedMessage) -> str:
    return (
        f"Trigger Details: MessageId: {message.message_id}, SequenceNumber: {message.sequence_number}, "
        f"DeliveryCount: {message.delivery_count}, EnqueuedTimeUtc: {message.enqueued_time_utc}, "
        f"LockedUntilUtc: {message.locked_until_utc}, SessionId: {message.session_id or '(null)'}"
    )


class ServiceBusListener:
    """Feeds one function its messages until ``stopping`` is set, then lets running invocations finish."""

    def __init__(
        self,
        spec: ServiceBusSpec,
        options: ServiceBusOptions,
        invoker: Invoker,
        stopping: asyncio.Event,
        log: logging.Logger,
    ) -> None:
        self._spec = spec
        self._options = options
        self._invoker = invoker
        self._stopping = stopping
        self._log = log

    async def run(self) -> None:
        attempt = 0
        while not self._stopping.is_set():
            try:
                await self._listen()
            # Not only the declared failures: after its connection drops under it (an emulator restart)
            # the SDK raises what it does not declare (an AttributeError from its closed handler, a
            # ValueError settling on it), and the Functions host keeps its listeners alive through them.
            except (ServiceBusError, OSError, AttributeError, ValueError) as error:
                delay = _RECONNECT_SECONDS[min(attempt, len(_RECONNECT_SECONDS) - 1)]
                attempt += 1
                self._log.warning(
                    "Service Bus listener for Functions.%s on '%s' failed (%s); retrying in %ss",
                    self._spec.function.name,
                    self._spec.entity,
                    error,
                    delay,
                )
                try:
                    await asyncio.wait_for(self._stopping.wait(), timeout=delay)
                except TimeoutError:
                    continue

    def _receiver(self, client: ServiceBusClient) -> ServiceBusReceiver:
        common: dict[str, Any] = {
            "receive_mode": ServiceBusReceiveMode.PEEK_LOCK,
            "prefetch_count": self._options.prefetch_count,
        }
        if self._spec.queue:
            return client.get_queue_receiver(self._spec.queue, **common)
        return client.get_subscription_receiver(str(self._spec.topic), str(self._spec.subscription), **common)

    async def _listen(self) -> None:
        renewal_seconds = self._options.max_auto_lock_renewal.total_seconds()
        in_flight: set[asyncio.Task[None]] = set()
        async with (
            ServiceBusClient.from_connection_string(self._spec.connection_string) as client,
            self._receiver(client) as receiver,
        ):
            renewer = AutoLockRenewer(
                max_lock_renewal_duration=renewal_seconds, on_lock_renew_failure=self._lock_renewal_failed
            )
            try:
                while not self._stopping.is_set():
                    free = self._options.max_concurrent_calls - len(in_flight)
                    if free == 0:
                        await asyncio.wait(
                            in_flight, timeout=_RECEIVE_WAIT_SECONDS, return_when=asyncio.FIRST_COMPLETED
                        )
                        continue
                    messages = await receiver.receive_messages(
                        max_message_count=free, max_wait_time=_RECEIVE_WAIT_SECONDS
                    )
                    for message in messages:
                        renewer.register(receiver, message)
                        task = asyncio.create_task(self._handle(receiver, message))
                        in_flight.add(task)
                        task.add_done_callback(in_flight.discard)
            finally:
                # Invocations already running finish and settle their messages before the link closes.
                if in_flight:
                    await asyncio.gather(*in_flight)
                await renewer.close()

    async def _lock_renewal_failed(self, message: object, error: Exception | None) -> None:
        # The SDK reports this only at debug level; a developer needs to know why a message came back.
        self._log.warning(
            "Lock renewal stopped for a message of Functions.%s: %s", self._spec.function.name, error
        )

    async def _handle(self, receiver: ServiceBusReceiver, message: ServiceBusReceivedMessage) -> None:
        delivered = functions_message(message)
        with invocation_span(
            names.SPAN_QUEUE_MESSAGE,
            SpanKind.CONSUMER,
            self._spec.function.name,
            carrier=message_carrier(delivered.application_properties),
            attributes={names.QUEUE: self._spec.entity},
        ):
            outcome = await self._invoker.invoke(
                self._spec.function,
                delivered,
                f"New ServiceBus message detected on '{self._spec.entity}'.",
                _trigger_details(message),
            )
        try:
            if outcome.succeeded:
                await receiver.complete_message(message)
            else:
                await receiver.abandon_message(message)
        # ValueError: the receiver was shut down under the invocation (its connection dropped);
        # the lock lapses and the broker delivers the message again, as for a lost lock.
        except (ServiceBusError, ValueError) as error:
            self._log.warning(
                "Could not %s message %s for Functions.%s: %s",
                "complete" if outcome.succeeded else "abandon",
                message.message_id,
                self._spec.function.name,
                error,
            )
