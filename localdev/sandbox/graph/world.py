"""What the sandbox Graph holds: SharePoint sites with a Revenue list, their items and files, the
subscriptions on those lists, and the mail sent; in memory, kept for as long as the sandbox runs.

Each list numbers its changes. An item remembers the number of its last
change (a deleted one stays as a tombstone), so a delta token is simply a
change number: ``items/delta`` from token *n* is every item changed after
*n*, in change order, each once, with its latest state, which is what Graph
documents for ``listItem: delta``. Tokens below a list's ``oldest_token``
are expired (Graph answers 410 Gone with a fresh enumeration to start over).
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

HOST_NAME = "townepark.sharepoint.com"
REVENUE_LIST = "Revenue"
# The sites every sandbox starts with (and a reset restores, empty): the lists local.settings.json.example
# names in RSS_REVENUE_LISTS, so `make run` watches them.
SEEDED_SITES = ("TP0170", "TP0338")


def utc_now() -> datetime:
    return datetime.now(UTC)


def graph_time(moment: datetime) -> str:
    """Graph's timestamps: ISO 8601 in UTC with a Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def site_ids(name: str) -> tuple[str, str]:
    """The Graph ids of site ``name`` and its Revenue list: ``host,site-guid,web-guid`` and a guid.

    Derived from the name, so ``make run``'s settings and a test can name a
    list before the sandbox has it.
    """
    seed = uuid.uuid5(uuid.NAMESPACE_DNS, f"{name.lower()}.{HOST_NAME}")
    site_guid, web_guid, list_guid = (uuid.uuid5(seed, part) for part in ("site", "web", REVENUE_LIST))
    return f"{HOST_NAME},{site_guid},{web_guid}", str(list_guid)


@dataclass
class ListItem:
    """A document library item: the file's metadata fields, the file, and who changed it last."""

    id: str
    fields: dict[str, Any]
    created_by: str
    modified_by: str
    created: datetime
    modified: datetime
    content: bytes
    file_name: str
    content_version: int = 1
    change: int = 0
    deleted: bool = False

    @property
    def etag(self) -> str:
        return f'"{self.id},{self.change}"'

    @property
    def ctag(self) -> str:
        """The content's tag: unchanged when only the item's fields change (Graph's ``cTag``)."""
        return f'"c:{{{uuid.uuid5(uuid.NAMESPACE_OID, self.id)}}},{self.content_version}"'


@dataclass
class RevenueList:
    id: str
    site_id: str
    items: dict[str, ListItem] = field(default_factory=dict)
    changes: int = 0
    oldest_token: int = 0
    next_item: int = 1

    @property
    def resource(self) -> str:
        return f"sites/{self.site_id}/lists/{self.id}"

    def changed(self, item: ListItem) -> None:
        self.changes += 1
        item.change = self.changes

    def changes_after(self, token: int, upto: int) -> list[ListItem]:
        """Items whose last change is after ``token`` and at most ``upto``, in change order."""
        found = [item for item in self.items.values() if token < item.change <= upto]
        if token == 0:
            found = [item for item in found if not item.deleted]
        return sorted(found, key=lambda item: item.change)


@dataclass
class Site:
    id: str
    name: str
    revenue: RevenueList


@dataclass
class Subscription:
    id: str
    resource: str
    change_type: str
    notification_url: str
    client_state: str | None
    expiration: datetime
    application_id: str

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "resource": self.resource,
            "applicationId": self.application_id,
            "changeType": self.change_type,
            "clientState": self.client_state,
            "notificationUrl": self.notification_url,
            "expirationDateTime": graph_time(self.expiration),
            "latestSupportedTlsVersion": "v1_2",
            "notificationContentType": "application/json",
        }


@dataclass
class GraphWorld:
    """Every site, subscription and sent mail; one lock guards them all."""

    sites: dict[str, Site] = field(default_factory=dict)
    subscriptions: dict[str, Subscription] = field(default_factory=dict)
    sent_mail: list[dict[str, Any]] = field(default_factory=list)
    deliveries: list[dict[str, Any]] = field(default_factory=list)
    notifications_on: bool = True
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        for name in SEEDED_SITES:
            self.add_site(name)

    def reset(self) -> None:
        """Back to the seeded sites with empty lists, no subscription, no mail, notifications on."""
        with self.lock:
            self.sites.clear()
            self.subscriptions.clear()
            self.sent_mail.clear()
            self.deliveries.clear()
            self.notifications_on = True
        for name in SEEDED_SITES:
            self.add_site(name)

    def add_site(self, name: str) -> Site:
        """The site ``name`` (``TP0170``) with an empty Revenue list; the same name always has the same ids."""
        site_id, list_id = site_ids(name)
        site = Site(site_id, name, RevenueList(list_id, site_id))
        with self.lock:
            self.sites[site_id] = site
        return site

    def revenue_list(self, site_id: str, list_id: str) -> RevenueList | None:
        site = self.sites.get(site_id)
        if site is None or list_id.lower() not in (site.revenue.id, REVENUE_LIST.lower()):
            return None
        return site.revenue

    def site_of(self, revenue: RevenueList) -> Site:
        return self.sites[revenue.site_id]

    def subscriptions_on(self, resource: str, now: datetime) -> list[Subscription]:
        return [s for s in self.subscriptions.values() if s.resource == resource and s.expiration > now]

    def drop_expired(self, now: datetime) -> None:
        """Graph deletes a subscription once it expires; so does the sandbox, when next asked."""
        for subscription_id in [i for i, s in self.subscriptions.items() if s.expiration <= now]:
            del self.subscriptions[subscription_id]
