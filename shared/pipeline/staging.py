"""Staged batches: gzip JSON lines in Blob, the claim check a load message points to.

Each line is one operation, ``{"upsert": {...record...}}`` or
``{"delete": {...key...}}``. A batch closes when it reaches its row or byte
bound, so memory holds one batch at a time whatever the run's size. The SHA-256
of the stored bytes travels in the load message; the loader refuses a batch
whose bytes do not match.
"""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from azure.storage.blob import ContentSettings

from shared.pipeline.run_record import StagedBatch
from shared.platform.blob_store import BlobStore

UPSERT = "upsert"
DELETE = "delete"
_PREFIXES = {UPSERT: b'{"upsert":', DELETE: b'{"delete":'}
_GZIP_LEVEL = 3  # most of level 9's ratio on JSON for a fraction of the CPU
# Not Content-Encoding: gzip, which HTTP stacks may undo on download and break the digest.
_BATCH_CONTENT = ContentSettings(content_type="application/gzip")


class BatchIntegrityError(Exception):
    """A staged batch's bytes are not the ones its load message describes."""


def batch_path(stream: str, run_id: str, batch_id: str) -> str:
    return f"batches/{stream}/{run_id}/{batch_id}.jsonl.gz"


@dataclass(frozen=True)
class PendingBatch:
    """A full batch's lines, handed from the reading loop to the thread that stages it."""

    id: str
    lines: list[bytes]
    cursor_min: Any
    cursor_max: Any


@dataclass
class BatchWriter:
    """Collects operations into bounded batches; ``take`` hands over a batch's lines."""

    max_rows: int
    max_bytes: int
    prefix: str = "b"  # batch ids are ``<prefix><sequence>``
    _lines: list[bytes] = field(default_factory=list)
    _size: int = 0
    _cursor_min: Any = None
    _cursor_max: Any = None
    _sequence: int = 0

    def add(self, operation: str, body: Mapping[str, Any], cursor: Any = None) -> bool:
        """Add one operation; True when the batch is full and should be taken now."""
        return self.add_encoded(operation, orjson.dumps(body), cursor)

    def add_encoded(self, operation: str, body: bytes, cursor: Any = None) -> bool:
        """``add`` for a body already encoded as JSON (the engine encodes each record once)."""
        line = _PREFIXES[operation] + body + b"}"
        self._lines.append(line)
        self._size += len(line) + 1
        if cursor is not None:
            if self._cursor_min is None:
                self._cursor_min = cursor
            self._cursor_max = cursor
        return len(self._lines) >= self.max_rows or self._size >= self.max_bytes

    @property
    def room(self) -> int:
        """Operations the batch takes before its row bound."""
        return self.max_rows - len(self._lines)

    def add_encoded_many(
        self, operation: str, bodies: Sequence[bytes], cursors: Sequence[Any] | None
    ) -> tuple[int, bool]:
        """``add_encoded`` for a page's bodies in order (``cursors`` beside them, none None) until the
        batch is full: how many were added, and whether it is full and should be taken now."""
        prefix, lines, size = _PREFIXES[operation], self._lines, self._size
        max_bytes, taken = self.max_bytes, 0
        for body in bodies[: self.room]:
            line = prefix + body + b"}"
            lines.append(line)
            size += len(line) + 1
            taken += 1
            if size >= max_bytes:
                break
        self._size = size
        if cursors is not None and taken:
            if self._cursor_min is None:
                self._cursor_min = cursors[0]
            self._cursor_max = cursors[taken - 1]
        return taken, len(lines) >= self.max_rows or size >= max_bytes

    def take(self) -> PendingBatch | None:
        """The pending operations as the next batch, or None when there are none."""
        if not self._lines:
            return None
        self._sequence += 1
        pending = PendingBatch(
            f"{self.prefix}{self._sequence:05d}", self._lines, self._cursor_min, self._cursor_max
        )
        self._lines, self._size, self._cursor_min, self._cursor_max = [], 0, None, None
        return pending


def stage_batch(store: BlobStore, stream: str, run_id: str, pending: PendingBatch) -> StagedBatch:
    """Compress and write one batch blob; its SHA-256 becomes the claim check's digest."""
    data = gzip.compress(b"\n".join(pending.lines) + b"\n", compresslevel=_GZIP_LEVEL, mtime=0)
    digest = hashlib.sha256(data).hexdigest()
    path = batch_path(stream, run_id, pending.id)
    store.put(path, data, content_settings=_BATCH_CONTENT, metadata={"sha256": digest})
    return StagedBatch(
        id=pending.id,
        path=path,
        count=len(pending.lines),
        sha256=digest,
        cursor_min=_jsonable(pending.cursor_min),
        cursor_max=_jsonable(pending.cursor_max),
    )


def read_batch(store: BlobStore, batch: StagedBatch) -> Iterator[tuple[str, dict[str, Any]]]:
    """The batch's operations, after checking its bytes against the digest the message carried."""
    data = store.get(batch.path)
    if hashlib.sha256(data).hexdigest() != batch.sha256:
        raise BatchIntegrityError(f"{batch.path} does not match its sha256; it was changed after staging")
    for line in gzip.decompress(data).splitlines():
        if line:
            ((operation, body),) = orjson.loads(line).items()
            yield operation, body


def _jsonable(value: Any) -> Any:
    return None if value is None else orjson.loads(orjson.dumps(value))
