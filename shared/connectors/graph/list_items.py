"""SharePoint list items through Graph: what changed (``items/delta``), one item's fields, and its file.

``listItem: delta`` (https://learn.microsoft.com/graph/api/listitem-delta):
the first call, with no token, enumerates every item; each page links the
next with ``@odata.nextLink`` until the last, which carries
``@odata.deltaLink``; calling that link later gives only the items changed
since, each once with its latest state (``deleted`` for a removed one). When
Graph can no longer answer from a token it says 410 Gone with a ``Location``
to start a fresh enumeration: the changes are then every item, and the
caller's own idempotence absorbs the repeats. Nothing is returned until the
last page is read, so a link is only ever saved with every change behind it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shared.connectors.graph.client import GraphClient, json_body
from shared.errors import HubError

DELTA_PAGE_SIZE = 200


@dataclass(frozen=True)
class RevenueListRef:
    """One site's Revenue list, by Graph's ids (a site id is ``host,site-guid,web-guid``)."""

    site_id: str
    list_id: str

    @property
    def resource(self) -> str:
        """The list as a subscription names it."""
        return f"sites/{self.site_id}/lists/{self.list_id}"

    @property
    def key(self) -> str:
        return f"{self.site_id}/{self.list_id}"


@dataclass(frozen=True)
class ListChanges:
    items: list[dict[str, Any]]  # the latest state of each changed item, fields expanded
    deleted_ids: list[str]
    delta_link: str
    restarted: bool  # the saved link had expired: this is a fresh enumeration of every item


class ListItems:
    def __init__(self, graph: GraphClient) -> None:
        self._graph = graph

    def changes(self, revenue: RevenueListRef, delta_link: str | None) -> ListChanges:
        """Items changed since ``delta_link`` (every item when None), and the link to ask next time."""
        first = f"{revenue.resource}/items/delta"
        params = None if delta_link else {"$expand": "fields", "$top": str(DELTA_PAGE_SIZE)}
        url, restarted = delta_link or first, False
        latest: dict[str, dict[str, Any]] = {}
        deleted: dict[str, None] = {}
        while True:
            response = self._graph.send("GET", url, params=params, allowed=frozenset({410}))
            if response.status_code == 410:
                if restarted:
                    raise HubError(
                        "Graph asked twice in a row to resync the list's delta", context={"list": revenue.key}
                    )
                url, params, restarted = response.headers.get("Location") or first, None, True
                latest.clear()
                deleted.clear()
                continue
            page = json_body(response, url)
            for item in page.get("value", []):
                item_id = str(item["id"])
                if "deleted" in item:  # the same item can appear more than once: the last one counts
                    latest.pop(item_id, None)
                    deleted[item_id] = None
                else:
                    deleted.pop(item_id, None)
                    latest[item_id] = item
            next_link, delta = page.get("@odata.nextLink"), page.get("@odata.deltaLink")
            if next_link:
                url, params = str(next_link), None
                continue
            if not delta:
                raise HubError(
                    "Graph's last delta page had no @odata.deltaLink", context={"list": revenue.key}
                )
            return ListChanges(list(latest.values()), list(deleted), str(delta), restarted)

    def set_fields(self, revenue: RevenueListRef, item_id: str, fields: dict[str, Any]) -> None:
        """PATCH the item's fields (``fieldValueSet``); setting the same values again changes nothing more."""
        self._graph.send("PATCH", f"{revenue.resource}/items/{item_id}/fields", body=fields, idempotent=True)

    def file(self, revenue: RevenueListRef, item_id: str) -> dict[str, Any]:
        """The item's drive item: ``name``, and ``cTag``, which changes only when the content does."""
        return self._graph.get(f"{revenue.resource}/items/{item_id}/driveItem")

    def content(self, revenue: RevenueListRef, item_id: str) -> bytes:
        return self._graph.download(f"{revenue.resource}/items/{item_id}/driveItem/content")
