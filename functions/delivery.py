"""A ``func.ServiceBusMessage`` as the hub's ``Delivery``: the one place a queue trigger's message is read.

Each queue trigger also sets the deadline its work keeps (``shared.deadline``):
short of ``host.json``'s ``maxAutoLockRenewalDuration`` (10 minutes), so a
delivery still holds its lock when it settles a failure; a sync's extraction,
which reads SQL rather than calling a service, has the function time-out's
(30 minutes) less a margin.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import azure.functions as func

if TYPE_CHECKING:
    from shared.pipeline.delivery import Delivery
    from shared.platform.service_bus import PropertyValue


def delivery_of(message: func.ServiceBusMessage, queue: str) -> Delivery:
    from shared.pipeline.delivery import Delivery  # with the hub, on first use (functions/app_hub.py)

    properties: dict[str, PropertyValue] = {}
    for name, value in (message.application_properties or {}).items():
        properties[str(name)] = value if isinstance(value, str | int | float | bool) else str(value)
    return Delivery(
        queue=queue,
        message_id=str(message.message_id),
        body=message.get_body(),
        correlation_id=message.correlation_id,
        subject=message.subject or message.label,
        application_properties=properties,
        delivery_count=message.delivery_count or 1,
        enqueued_at=message.enqueued_time_utc,
    )


# Seconds each kind of work may take before its HTTP calls and waits give up (see the docstring).
LOAD_SECONDS = 9 * 60
POSTING_SECONDS = 9 * 60
EVENT_SECONDS = 2 * 60  # an event reads one row back and queues work; it never waits on GP
EXTRACTION_SECONDS = 25 * 60
