"""A stream's saved state: how far it has read, and what it last sent.

The watermark is the highest cursor value whose rows are staged and published.
Fingerprints map each recently sent record's key to a digest of its content, so
the next run can re-read its boundary (and look-back window) without sending
unchanged records again, and a full-read stream can tell which records vanished
from the source and must be deleted from the target. A change-tracked stream
also keeps the source's change version it has read up to and when it last
read in full (``shared.pipeline.changes``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from pydantic import BaseModel, Field

from shared.platform.blob_store import BlobStore


class StreamState(BaseModel):
    watermark: Any = None
    fingerprints: dict[str, str] = Field(default_factory=dict)
    last_run_id: str | None = None
    change_version: int | None = None
    full_read_at: datetime | None = None
    updated_at: datetime | None = None


class StreamStateStore(Protocol):
    """Where stream states live: Table storage in the app (``stream_state_table``); Blob before migration."""

    def read(self, stream: str) -> tuple[StreamState, str | None]: ...

    def write(self, stream: str, state: StreamState, etag: str | None) -> str: ...


class StreamStates:
    """Stream state documents in the state container, ETag-guarded like every state write."""

    def __init__(self, store: BlobStore) -> None:
        self._store = store

    @staticmethod
    def path(stream: str) -> str:
        return f"streams/{stream}.json"

    def read(self, stream: str) -> tuple[StreamState, str | None]:
        document = self._store.read_json(self.path(stream))
        if document is None:
            return StreamState(), None
        return StreamState.model_validate(document.value), document.etag

    def write(self, stream: str, state: StreamState, etag: str | None) -> str:
        return self._store.write_json(self.path(stream), state.model_dump(mode="json"), etag)
