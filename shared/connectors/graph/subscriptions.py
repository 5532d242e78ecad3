"""Graph change-notification subscriptions: list the hub's, create one, renew one.

A subscription on a SharePoint list (resource ``sites/{site-id}/lists/{list-id}``,
change type ``updated``, the only one lists support) lives at most 42,300
minutes, under 30 days (https://learn.microsoft.com/graph/api/resources/subscription,
"Subscription lifetime"); Graph deletes it when it expires. Creating one makes
Graph call the notification URL with a ``validationToken`` first, and the POST
fails (400) unless the endpoint echoed it; renewal is a PATCH of
``expirationDateTime`` (https://learn.microsoft.com/graph/api/subscription-update).
``GET /subscriptions`` lists only the calling app's subscriptions
(https://learn.microsoft.com/graph/api/subscription-list).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from shared.connectors.graph.client import GraphClient

LIST_SUBSCRIPTION_LIFETIME = timedelta(minutes=42_300)


@dataclass(frozen=True)
class GraphSubscription:
    id: str
    resource: str
    notification_url: str
    expires: datetime


def graph_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Subscriptions:
    def __init__(self, graph: GraphClient) -> None:
        self._graph = graph

    def mine(self) -> list[GraphSubscription]:
        url: str | None = "subscriptions"
        found: list[GraphSubscription] = []
        while url:
            page = self._graph.get(url)
            found.extend(_subscription(entry) for entry in page.get("value", []))
            url = page.get("@odata.nextLink")
        return found

    def create(
        self, resource: str, notification_url: str, client_state: str, expires: datetime
    ) -> GraphSubscription:
        body = {
            "changeType": "updated",
            "notificationUrl": notification_url,
            "resource": resource,
            "expirationDateTime": graph_time(expires),
            "clientState": client_state,
        }
        created = self._graph.send("POST", "subscriptions", body=body, idempotent=False)
        return _subscription(created.json())

    def renew(self, subscription_id: str, expires: datetime) -> GraphSubscription:
        body = {"expirationDateTime": graph_time(expires)}
        renewed = self._graph.send("PATCH", f"subscriptions/{subscription_id}", body=body, idempotent=True)
        return _subscription(renewed.json())


def _subscription(entry: dict[str, object]) -> GraphSubscription:
    expires = datetime.fromisoformat(str(entry["expirationDateTime"]).replace("Z", "+00:00"))
    return GraphSubscription(
        id=str(entry["id"]),
        resource=str(entry["resource"]).strip("/"),
        notification_url=str(entry["notificationUrl"]),
        expires=expires,
    )
