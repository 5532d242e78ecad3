"""Stream states in Table storage: ``StreamStates``' interface, one entity per stream, ETag-guarded.

The state is the stream's JSON in one entity (``streams`` partition, RowKey
the stream's name). Its fingerprints grow with the stream's recent records, so
they are the field that outgrows Table's 64 KiB property and spills to a blob
(``shared.platform.table_documents``); the blob a replaced state pointed to is
deleted once the new state is written by the same hub that read it (one run of
a stream at a time holds its lock, so that is the only writer).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from shared.pipeline.stream_state import StreamState
from shared.platform.blob_store import BlobStore
from shared.platform.conflicts import StateConflictError
from shared.platform.table_documents import DOCUMENT, SPILL, SpillMovedError, TableDocuments
from shared.platform.table_store import StoredEntity, TableStore, key_part

STREAMS_PARTITION = "streams"
SPILL_PREFIX = "tables/streams/"
_READ_ATTEMPTS = 5


class StreamStateTable:
    """Stream state entities in the streams table; ``etag`` None on write means "create, it must not exist"."""

    def __init__(self, table: TableStore, spill: BlobStore) -> None:
        self._table = table
        self._documents = TableDocuments(spill, SPILL_PREFIX)
        self._last_read: dict[str, StoredEntity] = {}  # per stream, the entity last read, if it spilled

    def read(self, stream: str) -> tuple[StreamState, str | None]:
        for _ in range(_READ_ATTEMPTS):
            stored = self._table.read(STREAMS_PARTITION, key_part(stream))
            if stored is None:
                return StreamState(), None
            try:
                document = self._documents.document(stored.properties)
            except SpillMovedError:
                continue
            if SPILL in stored.properties:
                self._last_read[stream] = stored
            return StreamState.model_validate(document), stored.etag
        raise StateConflictError(f"the state of {stream} kept changing while being read")

    def write(self, stream: str, state: StreamState, etag: str | None) -> str:
        """Write the state, returning its new ETag; ``StateConflictError`` if another writer got there first."""
        properties = self._documents.properties(stream, state.model_dump(mode="json"))
        if etag is None:
            created = self._table.create(STREAMS_PARTITION, key_part(stream), properties)
            if created is None:
                raise StateConflictError(f"the state of {stream} exists already; read it again")
            return created
        new_etag = self._table.replace(STREAMS_PARTITION, key_part(stream), properties, etag)
        replaced = self._last_read.pop(stream, None)
        if replaced is not None and replaced.etag == etag:
            self._documents.discard(replaced.properties, properties)
        return new_etag

    def progress(self) -> dict[str, StreamProgress]:
        """Every stream's watermark and last run, by the stream's row key, from one query.

        Only the inline part of each state is read: the fingerprints, which are
        what spills, are not needed to say how far a stream has got.
        """
        page = self._table.query(STREAMS_PARTITION, select=[DOCUMENT])
        found = {}
        for entity in page.entities:
            inline = orjson.loads(str(entity.properties[DOCUMENT]))
            found[entity.row] = StreamProgress(inline.get("watermark"), inline.get("last_run_id"))
        return found


@dataclass(frozen=True)
class StreamProgress:
    watermark: Any
    last_run_id: str | None
