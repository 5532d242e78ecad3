"""Keeps one Graph subscription alive on each configured Revenue list: creates the missing, renews the old.

Replaces the RSS-Submission flow that renews the webhooks daily at 02:00 CST
(DOMAIN.md §9). A list's subscription is the hub's one (Graph lists only the
app's own) whose resource is the list and whose notification URL is the
hub's webhook. Missing (never made, or expired: Graph deletes expired ones),
it is created, which runs Graph's validation handshake against the webhook;
expiring within ``RSS_RENEW_WITHIN_HOURS``, it is renewed. Either way it is
asked to last as long as SharePoint lists allow, 42,300 minutes less a few
minutes so the clocks of the hub and Graph never disagree over the limit.
One list failing does not stop the others; its error is in the result.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from shared.connectors.graph.list_items import RevenueListRef
from shared.connectors.graph.subscriptions import LIST_SUBSCRIPTION_LIFETIME, Subscriptions
from shared.errors import HubError

log = logging.getLogger(__name__)

CLOCK_MARGIN = timedelta(minutes=5)


@dataclass
class KeptSubscriptions:
    created: list[str] = field(default_factory=list)  # list keys
    renewed: list[str] = field(default_factory=list)
    current: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # list key: the error


class SubscriptionKeeper:
    def __init__(
        self,
        subscriptions: Subscriptions,
        lists: Sequence[RevenueListRef],
        notification_url: str,
        client_state: Callable[[], str],
        renew_within: timedelta,
        now: Callable[[], datetime],
    ) -> None:
        self._subscriptions = subscriptions
        self._lists = lists
        self._url = notification_url
        self._client_state = client_state
        self._renew_within = renew_within
        self._now = now

    def run(self) -> KeptSubscriptions:
        kept = KeptSubscriptions()
        ours = {s.resource.lower(): s for s in self._subscriptions.mine() if s.notification_url == self._url}
        for revenue in self._lists:
            now = self._now()
            expires = now + LIST_SUBSCRIPTION_LIFETIME - CLOCK_MARGIN
            existing = ours.get(revenue.resource.lower())
            try:
                if existing is None:
                    self._subscriptions.create(revenue.resource, self._url, self._client_state(), expires)
                    kept.created.append(revenue.key)
                elif existing.expires - now <= self._renew_within:
                    self._subscriptions.renew(existing.id, expires)
                    kept.renewed.append(revenue.key)
                else:
                    kept.current.append(revenue.key)
            except HubError as error:
                kept.failed[revenue.key] = str(error)
                log.error(
                    "RSS subscription on %s could not be kept: %s", revenue.key, error, extra={"alert": True}
                )
        return kept
