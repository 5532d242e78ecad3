"""A Revenue list item as an RSS submission: which site and month, its status, and who submitted it.

DOMAIN.md §9: each site's "Revenue" library holds one workbook per month,
named ``<siteName>REV<Year> C<Month>.xlsm`` where the site's name is a
2-character prefix and the 4-digit site (``TP0170REV2025 C04.xlsm``); the
Logic App reads the site and period from those positions and ignores any
item whose title lacks ``REV`` or the ``.xlsm`` ending, and so does the hub.
The status is ``Revenue_x0020_Doc_x0020_Status``; 'Submit for Invoicing' asks
for the deposit check. The submitter is whoever last changed the item, as
SharePoint names people ("Last, First").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

STATUS_FIELD = "Revenue_x0020_Doc_x0020_Status"
SUBMIT_FOR_INVOICING = "Submit for Invoicing"
READY_FOR_INVOICE = "Ready for Invoice"
REJECTED = "Rejected"
_TITLE = re.compile(r"^(?P<prefix>\w{2})(?P<site>\d{4})REV(?P<year>\d{4}) C(?P<month>\d{2})\.xlsm$", re.I)


@dataclass(frozen=True)
class RssSubmission:
    item_id: str
    title: str
    site: str  # 4 digits
    period: str  # yyyyMM
    status: str | None
    submitter: str  # SharePoint's display name, "Last, First"

    @property
    def awaits_check(self) -> bool:
        return self.status == SUBMIT_FOR_INVOICING


def submission(item: dict[str, Any]) -> RssSubmission | None:
    """The submission an item is, or None for an item that is not a month's RSS workbook."""
    fields = item.get("fields") or {}
    title = str(fields.get("Title") or fields.get("FileLeafRef") or "")
    named = _TITLE.match(title)
    if named is None or not 1 <= int(named["month"]) <= 12:
        return None
    by = (item.get("lastModifiedBy") or {}).get("user") or {}
    status = fields.get(STATUS_FIELD)
    return RssSubmission(
        item_id=str(item["id"]),
        title=title,
        site=named["site"],
        period=f"{named['year']}{named['month']}",
        status=str(status) if status is not None else None,
        submitter=str(by.get("displayName") or ""),
    )
