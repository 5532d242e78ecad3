"""JSON documents in table entities, with the fields that outgrow a property kept in a blob.

A run record, a posting request or a stream state is stored as its own JSON in
one string property, ``Document``, so a new field or status the pipeline adds
needs no change here. Table caps a string property at 64 KiB (32,767 UTF-16
units); a record whose JSON is larger (a run with thousands of refused
records, a posting with hundreds of documents, a stream's fingerprints) moves
its largest top-level fields, one at a time until the rest fits, into one blob
of the state container, and the entity's ``Spill`` property names that blob.

The blob's name carries a digest of its content, so it is written before the
entity that points to it and never changed afterwards: a reader always finds
the blob its entity names, unless a writer tidied it away after replacing the
entity, in which case the reader reads the entity again (``SpillMovedError``).
A writer that loses its race leaves its blob behind, unreferenced.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Mapping
from typing import Any

import orjson
from azure.core.exceptions import ResourceNotFoundError

from shared.platform.blob_store import JSON, BlobStore
from shared.platform.table_store import MAX_STRING_UNITS, key_part, string_units

DOCUMENT = "Document"
SPILL = "Spill"


class SpillMovedError(Exception):
    """The blob an entity pointed to was replaced since the entity was read; read the entity again."""


class TableDocuments:
    """Encodes documents into entity properties and back, spilling to ``{prefix}{key}/{digest}.json``."""

    def __init__(self, spill: BlobStore, prefix: str) -> None:
        self._spill = spill
        self._prefix = prefix

    def properties(self, key: str, document: Mapping[str, Any]) -> dict[str, Any]:
        """``Document`` (and ``Spill`` when some fields did not fit), writing the spilled fields' blob first."""
        inline = dict(document)
        spilled: dict[str, Any] = {}
        encoded = _json(inline)
        by_size = sorted(inline, key=lambda name: len(_json(inline[name])), reverse=True)
        while string_units(encoded) > MAX_STRING_UNITS and by_size:
            name = by_size.pop(0)
            spilled[name] = inline.pop(name)
            encoded = _json(inline)
        if not spilled:
            return {DOCUMENT: encoded}
        body = orjson.dumps(spilled)
        path = f"{self._folder(key)}{hashlib.sha256(body).hexdigest()[:20]}.json"
        self._spill.put(path, body, content_settings=JSON)
        return {DOCUMENT: encoded, SPILL: path}

    def document(self, properties: Mapping[str, Any]) -> dict[str, Any]:
        """The document the properties hold, its spilled fields read back from their blob."""
        document: dict[str, Any] = orjson.loads(str(properties[DOCUMENT]))
        path = properties.get(SPILL)
        if path is None:
            return document
        try:
            spilled = orjson.loads(self._spill.get(str(path)))
        except ResourceNotFoundError as error:
            raise SpillMovedError(f"{path} was tidied away after its entity changed") from error
        return {**document, **spilled}

    def discard(self, replaced: Mapping[str, Any], written: Mapping[str, Any]) -> None:
        """Delete the blob ``replaced`` spilled to, once ``written`` (which no longer needs it) replaced it.

        Only that one blob: a concurrent writer's new blob, not yet pointed to
        by any entity, is left alone, and an orphan from a lost race costs
        only its bytes.
        """
        path = replaced.get(SPILL)
        if path is not None and path != written.get(SPILL):
            with contextlib.suppress(ResourceNotFoundError):
                self._spill.container.delete_blob(str(path))

    def _folder(self, key: str) -> str:
        return f"{self._prefix}{key_part(key)}/"


def _json(value: Any) -> str:
    return orjson.dumps(value).decode("utf-8")
