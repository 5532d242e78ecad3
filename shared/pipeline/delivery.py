"""What becomes of a queue message whose work failed: tried again minutes later, or set aside with its reason.

Service Bus alone would redeliver a failed message at once, up to the queue's
max delivery count: five tries in three seconds, spent long before a Dataverse
or GP outage of a few minutes is over. So the hub settles failures itself, as
the error table says (``ERROR_ACTIONS[...].settle``):

* **retry later**: a copy of the message is scheduled on its queue
  (``scheduled_enqueue_time_utc``) after a delay that grows with each attempt
  (tenacity's jittered exponential wait), never shorter than what the other
  side asked for (``Retry-After``, an open circuit's cool-down), and the
  delivery in hand completes. The attempt number and the first attempt's time
  travel in the copy's application properties, so the budget
  (``RETRY_BUDGET_MINUTES``) is measured in time, not deliveries;
* **dead-letter**: the message is put on the hub's dead-letter shelf with its
  class and reason and the delivery completes, so a failure no retry can fix
  does not burn the max delivery count, and an operator finds and resubmits it
  through ``/api/v1/deadletters/{queue}``.

If the work's worker dies, the delivery is never completed and Service Bus
redelivers it when its lock expires, as before.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import tenacity

from shared.errors import ERROR_ACTIONS, ErrorClass, Settle
from shared.platform.dead_letter_shelf import DeadLetterShelf, ShelvedMessage
from shared.platform.service_bus import OutgoingMessage, PropertyValue, ServiceBus
from shared.redaction import redact
from shared.telemetry import meters, names

log = logging.getLogger(__name__)

ATTEMPT = "hub-attempt"
FIRST_ATTEMPT_AT = "hub-first-attempt-at"
RETRY_PROPERTIES = frozenset({ATTEMPT, FIRST_ATTEMPT_AT})


@dataclass(frozen=True)
class Delivery:
    """One delivery of a queue message, as a trigger hands it to the hub."""

    queue: str
    message_id: str
    body: bytes
    correlation_id: str | None = None
    subject: str | None = None
    application_properties: Mapping[str, PropertyValue] | None = None
    delivery_count: int = 1
    enqueued_at: datetime | None = None

    @property
    def properties(self) -> Mapping[str, PropertyValue]:
        return self.application_properties or {}

    @property
    def attempt(self) -> int:
        """1 for the message as first sent; each scheduled retry counts one more."""
        try:
            return max(1, int(self.properties.get(ATTEMPT, 1)))
        except (TypeError, ValueError):
            return 1

    def first_attempt_at(self, now: datetime) -> datetime:
        given = self.properties.get(FIRST_ATTEMPT_AT)
        if isinstance(given, str):
            try:
                return datetime.fromisoformat(given)
            except ValueError:
                pass
        return self.enqueued_at or now


@dataclass(frozen=True)
class RetryLater:
    at: datetime
    attempt: int  # the attempt the copy will be


@dataclass(frozen=True)
class DeadLetter:
    error_class: ErrorClass
    reason: str


Decision = RetryLater | DeadLetter


@dataclass(frozen=True)
class RetrySchedule:
    """Delays that double from ``first_delay`` up to ``max_delay``, with jitter, within ``budget``."""

    first_delay: timedelta = timedelta(seconds=10)
    max_delay: timedelta = timedelta(minutes=5)
    budget: timedelta = timedelta(minutes=60)

    def delay(self, attempt: int) -> timedelta:
        """The wait before attempt ``attempt + 1``."""
        wait = tenacity.wait_exponential_jitter(
            multiplier=self.first_delay.total_seconds(),
            max=self.max_delay.total_seconds(),
            jitter=self.first_delay.total_seconds() / 2,
        )
        state = tenacity.RetryCallState(retry_object=tenacity.Retrying(), fn=None, args=(), kwargs={})
        state.attempt_number = attempt
        return timedelta(seconds=wait(state))


class Redeliveries:
    """Decides and carries out what becomes of a failed delivery."""

    def __init__(
        self,
        bus: ServiceBus,
        shelf: DeadLetterShelf,
        schedule: RetrySchedule,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._bus = bus
        self.shelf = shelf
        self._schedule = schedule
        self._now = now

    def decide(
        self, delivery: Delivery, error_class: ErrorClass, message: str, retry_after: float | None = None
    ) -> Decision:
        """Retry later while the class allows it and the budget lasts; otherwise dead-letter."""
        if ERROR_ACTIONS[error_class].settle is Settle.DEAD_LETTER:
            return DeadLetter(error_class, redact(message))
        now = self._now()
        wait = max(self._schedule.delay(delivery.attempt), timedelta(seconds=retry_after or 0))
        at = now + wait
        if at - delivery.first_attempt_at(now) > self._schedule.budget:
            spent = f"still failing after {delivery.attempt} attempts over the retry budget of {self._schedule.budget}"
            return DeadLetter(error_class, redact(f"{spent}: {message}"))
        return RetryLater(at, delivery.attempt + 1)

    def carry_out(self, delivery: Delivery, decision: Decision) -> None:
        """Schedule the copy or shelve the message; the caller then returns, and the delivery completes."""
        if isinstance(decision, RetryLater):
            self._bus.publish(delivery.queue, self._retry_copy(delivery, decision))
            log.warning(
                "Message %s on %s failed; attempt %d is scheduled for %s",
                delivery.message_id, delivery.queue, decision.attempt, decision.at.isoformat(),
            )  # fmt: skip
            return
        self.shelf.put(
            ShelvedMessage(
                queue=delivery.queue,
                message_id=delivery.message_id,
                body=delivery.body.decode("utf-8", errors="replace"),
                correlation_id=delivery.correlation_id,
                subject=delivery.subject,
                application_properties=dict(delivery.properties),
                delivery_count=delivery.delivery_count,
                enqueued_time=delivery.enqueued_at,
                shelved_at=self._now(),
                reason=decision.error_class.value,
                description=decision.reason,
            )
        )
        about = {names.QUEUE: delivery.queue, names.ERROR_CLASS: decision.error_class.value}
        meters.record(names.DEAD_LETTERED, 1, about)
        level = logging.ERROR if ERROR_ACTIONS[decision.error_class].alert else logging.WARNING
        log.log(
            level,
            "Message %s on %s was dead-lettered (%s): %s",
            delivery.message_id, delivery.queue, decision.error_class.value, decision.reason,
            extra={"alert": ERROR_ACTIONS[decision.error_class].alert, **about},
        )  # fmt: skip

    def _retry_copy(self, delivery: Delivery, decision: RetryLater) -> OutgoingMessage:
        first = delivery.first_attempt_at(self._now())
        return OutgoingMessage(
            body=delivery.body,
            message_id=delivery.message_id,
            correlation_id=delivery.correlation_id,
            subject=delivery.subject,
            application_properties={
                **delivery.properties,
                ATTEMPT: decision.attempt,
                FIRST_ATTEMPT_AT: first.isoformat(),
            },
            scheduled_enqueue_time=decision.at,
        )
