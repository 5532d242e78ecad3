"""The revenue submissions' state in the hub's streams table: each list's delta link, each check's claim.

Kept beside the streams' own states (``<prefix>Streams``), in partitions of
their own, in place of the ``DeltaTokens`` Azure Table the RSS-Submission
flows keep today:

* ``rss-delta``: one entity per list (RowKey ``<site-id>/<list-id>``) holding its
  ``@odata.deltaLink``, replaced at its ETag, so two sweeps of one list never
  both move it;
* ``rss-checks``: one entity per submission checked, keyed by site, period and
  the file's content tag, created before the check and marked ``done`` with
  its outcome after. A claim is taken once: by the delivery that created it,
  again by that same delivery's retry, or by anyone once it is older than
  ``STALE_CLAIM`` (its worker died). So the same change notified three times,
  or seen by a notification and the sweep, is checked once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from shared.platform.conflicts import StateConflictError
from shared.platform.table_store import TableStore, key_part

DELTA_PARTITION = "rss-delta"
CHECKS_PARTITION = "rss-checks"
STALE_CLAIM = timedelta(minutes=15)  # longer than a delivery's lock is renewed for (host.json, 10 min)
CHECKING, DONE = "checking", "done"


@dataclass(frozen=True)
class SavedLink:
    link: str | None
    etag: str | None


class DeltaLinks:
    def __init__(self, table: TableStore) -> None:
        self._table = table

    def read(self, list_key: str) -> SavedLink:
        stored = self._table.read(DELTA_PARTITION, key_part(list_key))
        if stored is None:
            return SavedLink(None, None)
        return SavedLink(str(stored.properties["DeltaLink"]), stored.etag)

    def write(self, list_key: str, link: str, etag: str | None) -> None:
        """Save the list's next link; ``StateConflictError`` when another sweep saved one first."""
        properties = {"DeltaLink": link}
        if etag is None:
            if self._table.create(DELTA_PARTITION, key_part(list_key), properties) is None:
                raise StateConflictError(f"the delta link of {list_key} was saved by another sweep")
            return
        self._table.replace(DELTA_PARTITION, key_part(list_key), properties, etag)


class CheckClaims:
    def __init__(self, table: TableStore) -> None:
        self._table = table

    def claim(self, key: str, claimant: str, now: datetime) -> bool:
        """True when this claimant is the one to check ``key`` now (see the module's docstring)."""
        row = key_part(key)
        taken = {"Status": CHECKING, "Claimant": claimant, "ClaimedAt": now.isoformat()}
        if self._table.create(CHECKS_PARTITION, row, taken) is not None:
            return True
        stored = self._table.read(CHECKS_PARTITION, row)
        if stored is None or stored.properties.get("Status") == DONE:
            return False
        claimed_at = datetime.fromisoformat(str(stored.properties["ClaimedAt"]))
        if stored.properties.get("Claimant") != claimant and now - claimed_at < STALE_CLAIM:
            return False
        try:
            self._table.replace(CHECKS_PARTITION, row, taken, stored.etag)
        except StateConflictError:
            return False
        return True

    def finish(self, key: str, outcome: dict[str, Any], now: datetime) -> None:
        properties = {"Status": DONE, "FinishedAt": now.isoformat(), **outcome}
        stored = self._table.read(CHECKS_PARTITION, key_part(key))
        if stored is None:
            self._table.create(CHECKS_PARTITION, key_part(key), properties)
            return
        self._table.replace(CHECKS_PARTITION, key_part(key), properties, stored.etag)

    def outcome(self, key: str) -> dict[str, Any] | None:
        stored = self._table.read(CHECKS_PARTITION, key_part(key))
        return dict(stored.properties) if stored is not None else None
