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

from shared.connectors.salesforce.bulk import BulkQuery
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


def salesforce_stream(
    rest: SalesforceRest, declared: SalesforceObject, bulk: BulkQuery | None = None
) -> Stream[Any]:
    def read(window: ReadWindow) -> Iterator[Sequence[Row]]:
        soql = changed_since(declared, window)
        if bulk is None:
            return rest.query(soql, include_deleted=True)
        return sized_read(rest, bulk, soql)

    return Stream(
        name=declared.stream,
        model=declared.model,
        read=read,
        transform=declared.transform,
        target=declared.target,
        cursor="SystemModstamp",
    )


def sized_read(rest: SalesforceRest, bulk: BulkQuery, soql: str) -> Iterator[Sequence[Row]]:
    """REST's pages, unless its first answer counts ``threshold`` records or more: then one Bulk API 2.0 job.

    The first REST page is the size check (its ``totalSize``), so a switch
    costs that one call; a small delta read goes on with REST as before.
    """
    pages = rest.query_pages(soql, include_deleted=True)
    first = next(pages, None)
    if first is None:
        return
    if first.total_size >= bulk.settings.threshold:
        yield from bulk.query(soql, include_deleted=True)
        return
    yield first.records
    for page in pages:
        yield page.records


def salesforce_streams(rest: SalesforceRest, bulk: BulkQuery | None = None) -> list[Stream[Any]]:
    return [salesforce_stream(rest, declared, bulk) for declared in OBJECTS]
