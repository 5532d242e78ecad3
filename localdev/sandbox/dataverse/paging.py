"""The opaque tokens in ``@odata.nextLink`` (``$skiptoken``) and ``@odata.deltaLink`` (``$deltatoken``).

Both keep the outer shape Dataverse uses, so a client that mangles them (re-encodes
the quotes and angle brackets of a paging cookie, or parses the ``!`` of a delta
token) fails here too: a skip token is
``<cookie pagenumber="2" pagingcookie="..." istracking="False" />`` and a delta
token is ``<version>!<MM/dd/yyyy HH:mm:ss>``. What is inside the paging cookie is
the sandbox's own: the position to continue after, and for change tracking the
row version the listing was taken at.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from localdev.sandbox.dataverse.errors import bad_request

_COOKIE = re.compile(
    r'<cookie pagenumber="(\d+)" pagingcookie="([A-Za-z0-9_\-=]*)" istracking="(True|False)" />'
)
_DELTA = re.compile(r"(\d+)!(\d{2}/\d{2}/\d{4} \d{2}:\d{2}:\d{2})")


@dataclass(frozen=True)
class PageCursor:
    """Where the next page starts: after a sort position (keyset) or at an offset, within a snapshot."""

    page_number: int
    after: list[Any] | None = None
    offset: int | None = None
    snapshot_version: int | None = None


def skip_token(cursor: PageCursor, tracking: bool) -> str:
    inner = {"after": cursor.after, "offset": cursor.offset, "upto": cursor.snapshot_version}
    encoded = base64.urlsafe_b64encode(json.dumps(inner, separators=(",", ":")).encode()).decode("ascii")
    return (
        f'<cookie pagenumber="{cursor.page_number}" pagingcookie="{encoded}" '
        f'istracking="{"True" if tracking else "False"}" />'
    )


def read_skip_token(token: str) -> PageCursor:
    match = _COOKIE.fullmatch(token)
    if match is None:
        raise bad_request("The $skiptoken is not valid: use @odata.nextLink exactly as it was returned.")
    try:
        inner = json.loads(base64.urlsafe_b64decode(match.group(2)))
    except ValueError:
        raise bad_request(
            "The $skiptoken is not valid: use @odata.nextLink exactly as it was returned."
        ) from None
    return PageCursor(int(match.group(1)), inner.get("after"), inner.get("offset"), inner.get("upto"))


def delta_token(version: int, at: datetime) -> str:
    return f"{version}!{at.astimezone(UTC).strftime('%m/%d/%Y %H:%M:%S')}"


def read_delta_token(token: str) -> tuple[int, datetime]:
    """The row version a delta token continues from, and when it was issued (UTC)."""
    match = _DELTA.fullmatch(token)
    if match is None:
        raise bad_request("The $deltatoken is not valid: use @odata.deltaLink exactly as it was returned.")
    issued = datetime.strptime(match.group(2), "%m/%d/%Y %H:%M:%S").replace(tzinfo=UTC)
    return int(match.group(1)), issued
