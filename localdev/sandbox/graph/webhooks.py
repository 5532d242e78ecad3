"""The sandbox Graph calling a subscriber's notification URL: the validation handshake, then each change.

As Graph documents for webhooks: on ``POST /subscriptions`` it POSTs to
``notificationUrl?validationToken=<token>`` (``Content-Type: text/plain``)
and creates the subscription only if the endpoint answers 200 within 10
seconds with the token, decoded, as its ``text/plain`` body. Each change to a
subscribed list is then POSTed as a ``changeNotificationCollection`` carrying
the subscription's ``clientState``; an endpoint should answer 2xx within 3
seconds, or the notification is sent again later with exponential backoff
(Graph keeps trying for up to 4 hours; the sandbox ``RETRY_DELAYS``).
SharePoint list notifications carry no item: the subscriber asks
``items/delta`` what changed. Each notification's last answer, and how many
tries it took, is recorded for the tests.
"""

from __future__ import annotations

import asyncio
import ssl
from typing import Any

import httpx

from localdev.sandbox.graph.world import GraphWorld, Subscription, graph_time

VALIDATION_SECONDS = 10.0
DELIVERY_SECONDS = 3.0
RETRY_DELAYS = (1.0, 2.0, 4.0, 8.0)  # seconds before each try again, doubling as Graph's backoff does


class ValidationFailedError(Exception):
    """The notification endpoint did not echo the validation token in time."""


async def validate_endpoint(url: str, token: str, verify: ssl.SSLContext | bool) -> None:
    """The handshake; raises ``ValidationFailedError`` saying what the endpoint did wrong."""
    try:
        async with httpx.AsyncClient(verify=verify, timeout=VALIDATION_SECONDS) as client:
            answer = await client.post(
                url, params={"validationToken": token}, headers={"Content-Type": "text/plain"}
            )
    except httpx.HTTPError as error:
        raise ValidationFailedError(f"the endpoint could not be reached: {type(error).__name__}") from None
    if answer.status_code != 200:
        raise ValidationFailedError(f"the endpoint answered {answer.status_code}, not 200 OK")
    if not answer.headers.get("content-type", "").startswith("text/plain"):
        raise ValidationFailedError("the endpoint's answer is not text/plain")
    if answer.text != token:
        raise ValidationFailedError("the endpoint did not echo the validation token")


def notification(subscription: Subscription, tenant_id: str) -> dict[str, Any]:
    return {
        "subscriptionId": subscription.id,
        "subscriptionExpirationDateTime": graph_time(subscription.expiration),
        "clientState": subscription.client_state,
        "changeType": "updated",
        "resource": subscription.resource,
        "tenantId": tenant_id,
    }


class Notifier:
    """Posts change notifications in the background, so the change that caused them answers at once."""

    def __init__(self, world: GraphWorld, tenant_id: str, verify: ssl.SSLContext | bool) -> None:
        self._world = world
        self._tenant_id = tenant_id
        self._verify = verify
        self._pending: set[asyncio.Task[None]] = set()

    def changed(self, subscriptions: list[Subscription]) -> None:
        """Notify each subscription of a change to its list (nothing while notifications are off)."""
        if not self._world.notifications_on:
            return
        for subscription in subscriptions:
            task = asyncio.get_running_loop().create_task(self._deliver(subscription))
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)

    async def _deliver(self, subscription: Subscription) -> None:
        body = {"value": [notification(subscription, self._tenant_id)]}
        record: dict[str, Any] = {"subscriptionId": subscription.id, "url": subscription.notification_url}
        for tries, delay in enumerate((*RETRY_DELAYS, None), start=1):
            record["tries"] = tries
            try:
                async with httpx.AsyncClient(verify=self._verify, timeout=DELIVERY_SECONDS) as client:
                    answer = await client.post(subscription.notification_url, json=body)
                record["status"], record["error"] = answer.status_code, None
            except httpx.HTTPError as error:
                record["status"], record["error"] = None, type(error).__name__
            if (record["status"] is not None and record["status"] < 300) or delay is None:
                break
            await asyncio.sleep(delay)
        with self._world.lock:
            self._world.deliveries.append(record)
