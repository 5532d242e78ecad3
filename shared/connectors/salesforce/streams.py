"""The Salesforce streams: each object read by ``SystemModstamp`` through ``queryAll``.

An incremental run asks for records stamped at or after the watermark (to the
second, as SOQL datetime literals are written; the engine skips the records it
already sent unchanged), in stamp order then id, so the watermark can move
batch by batch. ``queryAll`` returns deleted records too (``IsDeleted``), which
is how a delete reaches Dataverse: as the row marked deleted. A full run reads
every record the org still holds, deleted ones included.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from shared.connectors.salesforce.objects import OBJECTS, SalesforceObject
from shared.connectors.salesforce.rest import SalesforceRest
from shared.pipeline.stream import ReadWindow, Row, Stream


def soql_datetime(moment: datetime) -> str:
    """A SOQL datetime literal (``2026-12-03T13:55:00Z``), floored to the second."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def changed_since(declared: SalesforceObject, window: ReadWindow) -> str:
    """The SOQL of one read: every field, the window on SystemModstamp, in cursor order."""
    conditions = []
    if window.start is not None:
        conditions.append(f"SystemModstamp >= {soql_datetime(window.start)}")
    if window.end is not None:
        conditions.append(f"SystemModstamp < {soql_datetime(window.end)}")
    where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
    # Only declared field names and formatted datetimes go into the text, never a value from outside.
    fields = ", ".join(declared.fields)
    return f"SELECT {fields} FROM {declared.sobject}{where} ORDER BY SystemModstamp ASC, Id ASC"  # noqa: S608


def salesforce_stream(rest: SalesforceRest, declared: SalesforceObject) -> Stream[Any]:
    def read(window: ReadWindow) -> Iterator[Sequence[Row]]:
        return rest.query(changed_since(declared, window), include_deleted=True)

    return Stream(
        name=declared.stream,
        model=declared.model,
        read=read,
        transform=declared.transform,
        target=declared.target,
        cursor="SystemModstamp",
    )


def salesforce_streams(rest: SalesforceRest) -> list[Stream[Any]]:
    return [salesforce_stream(rest, declared) for declared in OBJECTS]
