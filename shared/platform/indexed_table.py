"""Documents of one kind in one table partition, each with index entities that copy it, changed together.

Each document (a run record, a posting request) is a main entity,
``id|<key>``, plus one index entity per question the API asks of it, such as
``status|failed|<inverted start time>|<key>``: RowKeys sort so that a question
is one range of one partition, newest first, and each index entity holds the
whole document, so a page of answers is one query and no further reads.

All of a document's entities share a PartitionKey, so a change replaces the
main entity at its ETag and deletes, adds and replaces its index entities in
one entity group transaction: the indexes never disagree with the document,
whatever crashes when, and no reader has to check a hint against the main
entity. The main entity lists its index RowKeys (``Index``), so a change knows
exactly which ones to delete even if the key scheme has moved on since.

One partition serves a single partition server's target of 2,000 entities a
second (Scalability and performance targets for Table storage,
https://learn.microsoft.com/en-us/azure/storage/tables/scalability-targets);
the hub's busiest moment, loaders finishing batches of one run, writes a few
transactions of under ten entities a second.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from shared.platform.conflicts import StateConflictError
from shared.platform.table_documents import SPILL, SpillMovedError, TableDocuments
from shared.platform.table_store import (
    Delete,
    Insert,
    Operation,
    Replace,
    TableStore,
    Transaction,
    key_part,
    rows_between,
)

KEY = "Key"
INDEX = "Index"
_READ_ATTEMPTS = 5
_SPILL_READERS = 8
_LAST_MILLISECOND = 10**13 - 1

# What a document is filed under, and the extra columns each of its entities carries (for reading, not filtering).
IndexRows = Callable[[Mapping[str, Any]], Sequence[str]]
Columns = Callable[[Mapping[str, Any]], Mapping[str, Any]]
# Further changes of the same partition to commit with a document's own, given its new properties.
Companions = Callable[[Mapping[str, Any]], Sequence[Operation]]


@dataclass(frozen=True)
class FoundDocument:
    """A document as read, with what a conditional change of it needs."""

    key: str
    document: dict[str, Any]
    etag: str
    properties: dict[str, Any]


@dataclass(frozen=True)
class DocumentPage:
    documents: list[dict[str, Any]]
    continuation: dict[str, str] | None


def inverted_time(moment: datetime) -> str:
    """Milliseconds before the end of time (thirteen digits until 2286), so ascending RowKeys are newest first."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return f"{_LAST_MILLISECOND - int(aware.timestamp() * 1000):013d}"


def main_row(key: str) -> str:
    return f"id|{key_part(key)}"


def no_companions(_: Mapping[str, Any]) -> Sequence[Operation]:
    return ()


class IndexedDocuments:
    """The main and index entities of one kind of document, in ``partition`` of ``table``."""

    def __init__(
        self,
        table: TableStore,
        documents: TableDocuments,
        partition: str,
        index_rows: IndexRows,
        columns: Columns,
    ) -> None:
        self._table = table
        self._documents = documents
        self._partition = partition
        self._index_rows = index_rows
        self._columns = columns

    @property
    def table(self) -> TableStore:
        return self._table

    @property
    def partition(self) -> str:
        return self._partition

    def read(self, key: str) -> FoundDocument | None:
        for _ in range(_READ_ATTEMPTS):
            stored = self._table.read(self._partition, main_row(key))
            if stored is None:
                return None
            try:
                document = self._documents.document(stored.properties)
            except SpillMovedError:
                continue
            return FoundDocument(key, document, stored.etag, stored.properties)
        raise StateConflictError(f"{key} kept changing while being read")

    def filed_at(self, row: str) -> dict[str, Any] | None:
        """The document an index entity of this partition holds, if it exists: one read."""
        for _ in range(_READ_ATTEMPTS):
            stored = self._table.read(self._partition, row)
            if stored is None:
                return None
            try:
                return self._documents.document(stored.properties)
            except SpillMovedError:
                continue
        raise StateConflictError(f"{row} kept changing while being read")

    def properties(self, key: str, document: Mapping[str, Any]) -> dict[str, Any]:
        """What every entity of this document holds: the document itself, its key, and its columns."""
        return {**self._documents.properties(key, document), KEY: key, **self._columns(document)}

    def insert(self, key: str, document: Mapping[str, Any], companions: Companions = no_companions) -> str:
        """Create the document and its index entities; ``StateConflictError`` if it exists already."""
        properties = self.properties(key, document)
        rows = list(self._index_rows(document))
        transaction = Transaction(self._partition)
        transaction.add(Insert(main_row(key), {**properties, INDEX: orjson.dumps(rows).decode()}))
        for row in rows:
            transaction.add(Replace(row, properties))
        for operation in companions(properties):
            transaction.add(operation)
        return self._table.commit(transaction)[0]

    def replace(
        self, found: FoundDocument, document: Mapping[str, Any], companions: Companions = no_companions
    ) -> str:
        """Write ``document`` over ``found`` at its ETag, moving its index entities with it, or raise
        ``StateConflictError`` if another writer changed it first."""
        properties = self.properties(found.key, document)
        old_rows = set(orjson.loads(str(found.properties.get(INDEX, "[]"))))
        rows = list(self._index_rows(document))
        transaction = Transaction(self._partition)
        transaction.add(
            Replace(main_row(found.key), {**properties, INDEX: orjson.dumps(rows).decode()}, found.etag)
        )
        for row in sorted(old_rows - set(rows)):
            transaction.add(Delete(row))
        for row in rows:
            transaction.add(Replace(row, properties))
        for operation in companions(properties):
            transaction.add(operation)
        etag = self._table.commit(transaction)[0]
        self._documents.discard(found.properties, properties)
        return etag

    def delete(self, found: FoundDocument, companions: Sequence[Operation] = ()) -> None:
        """Delete the document at its ETag with all its index entities, and ``companions``, in one transaction."""
        transaction = Transaction(self._partition)
        transaction.add(Delete(main_row(found.key), found.etag))
        for row in sorted(orjson.loads(str(found.properties.get(INDEX, "[]")))):
            transaction.add(Delete(row))
        for operation in companions:
            transaction.add(operation)
        self._table.commit(transaction)
        self._documents.discard(found.properties, {})

    def page(
        self,
        low: str,
        high: str,
        *,
        top: int,
        continuation: Mapping[str, str] | None = None,
    ) -> DocumentPage:
        """Up to ``top`` documents filed in ``[low, high)``, in RowKey order: one query."""
        for _ in range(_READ_ATTEMPTS):
            page = self._table.query(
                self._partition,
                "RowKey ge @low and RowKey lt @high",
                {"low": low, "high": high},
                results_per_page=top,
                continuation=continuation,
            )
            try:
                documents = self._decode([entity.properties for entity in page.entities])
            except SpillMovedError:
                continue
            return DocumentPage(documents, page.continuation)
        raise StateConflictError(f"the documents filed under {low} kept changing while being read")

    def _decode(self, entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The documents, their spill blobs (rare: runs with thousands of problems) read side by side."""
        if sum(SPILL in properties for properties in entities) < 2:
            return [self._documents.document(properties) for properties in entities]
        with ThreadPoolExecutor(max_workers=_SPILL_READERS) as readers:
            return list(readers.map(self._documents.document, entities))

    def keys(self) -> Iterator[str]:
        """Every document's key, in key order: one query per thousand."""
        low, high = rows_between("id|")
        continuation: dict[str, str] | None = None
        while True:
            page = self._table.query(
                self._partition,
                "RowKey ge @low and RowKey lt @high",
                {"low": low, "high": high},
                results_per_page=1000,
                continuation=continuation,
                select=[KEY],
            )
            for entity in page.entities:
                yield str(entity.properties[KEY])
            continuation = page.continuation
            if continuation is None:
                return
