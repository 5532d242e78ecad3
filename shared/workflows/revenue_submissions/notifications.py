"""Graph's change notifications as the webhook receives them: the handshake, and which lists changed.

https://learn.microsoft.com/graph/change-notifications-delivery-webhooks:
creating or renewing a subscription makes Graph POST to the notification URL
with a ``validationToken`` query parameter, which the endpoint must echo,
decoded, as ``text/plain`` with 200 OK within 10 seconds. Each later POST is
a ``changeNotificationCollection``; every notification carries the
``clientState`` the subscription was created with, which the endpoint checks
before trusting it (here in constant time, ``hmac.compare_digest``) and
answers 2xx within 3 seconds, doing the work later: so the webhook only names
the lists that changed and queues them. SharePoint list notifications carry
no item; the delta query says what changed (``sweep``).
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

import orjson

from shared.connectors.graph.list_items import RevenueListRef

_RESOURCE_PARTS = 4  # sites/{site-id}/lists/{list-id}


@dataclass(frozen=True)
class NotifiedChanges:
    lists: list[RevenueListRef]  # each list with at least one trusted notification, once
    refused: int  # notifications whose clientState did not match (or that named no list)


class NotANotificationError(ValueError):
    """The body is not a changeNotificationCollection."""


def notified_lists(body: bytes, client_state: str) -> NotifiedChanges:
    """The lists the trusted notifications of ``body`` name; a notification with another state is refused."""
    try:
        document = orjson.loads(body)
        notifications = document["value"]
    except (orjson.JSONDecodeError, KeyError, TypeError):
        raise NotANotificationError("the body is not a Graph changeNotificationCollection") from None
    if not isinstance(notifications, list):
        raise NotANotificationError("the body's value is not a list of notifications")
    lists: dict[str, RevenueListRef] = {}
    refused = 0
    for notification in notifications:
        presented = str(notification.get("clientState") or "") if isinstance(notification, dict) else ""
        revenue = _list_of(notification) if isinstance(notification, dict) else None
        if revenue is None or not hmac.compare_digest(presented.encode(), client_state.encode()):
            refused += 1
            continue
        lists.setdefault(revenue.key, revenue)
    return NotifiedChanges(list(lists.values()), refused)


def _list_of(notification: dict[str, object]) -> RevenueListRef | None:
    parts = str(notification.get("resource") or "").strip("/").split("/")
    if len(parts) != _RESOURCE_PARTS or parts[0].lower() != "sites" or parts[2].lower() != "lists":
        return None
    return RevenueListRef(parts[1], parts[3])
