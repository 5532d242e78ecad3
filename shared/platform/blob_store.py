"""Blob storage as the hub uses it: staged batches, state documents, and create-only markers.

Three guarantees the sync engine leans on, all from Blob's own conditional
requests rather than from any lock the hub keeps:

* a state document (a watermark, a run record) is written back only if nobody
  wrote it since it was read (ETag ``If-Match``); a lost update raises
  ``StateConflictError`` instead of silently overwriting;
* a marker is created at most once (``If-None-Match: *``), which turns an
  at-least-once Service Bus delivery into an exactly-once effect;
* batches are plain blobs, written whole and read back by path (the claim check).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from azure.core import MatchConditions
from azure.core.exceptions import ResourceExistsError, ResourceModifiedError, ResourceNotFoundError
from azure.storage.blob import BlobServiceClient, ContainerClient, ContentSettings

from shared.platform.conflicts import StateConflictError

JSON = ContentSettings(content_type="application/json")


@dataclass(frozen=True)
class StateDocument:
    """A JSON document and the ETag it was read at, so it can be written back safely."""

    value: dict[str, Any]
    etag: str


class BlobStore:
    """One container of the staging account, addressed by path."""

    def __init__(self, service: BlobServiceClient, container: str) -> None:
        self._container: ContainerClient = service.get_container_client(container)

    @property
    def container(self) -> ContainerClient:
        return self._container

    def ensure_container(self) -> None:
        """Create the container if this is a fresh account (Azurite, a new environment)."""
        with contextlib.suppress(ResourceExistsError):
            self._container.create_container()

    def put(
        self,
        path: str,
        data: bytes,
        content_settings: ContentSettings | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> None:
        self._container.upload_blob(
            path, data, overwrite=True, content_settings=content_settings, metadata=dict(metadata or {})
        )

    def get(self, path: str) -> bytes:
        return self._container.download_blob(path).readall()

    def exists(self, path: str) -> bool:
        return bool(self._container.get_blob_client(path).exists())

    def list(self, prefix: str) -> Iterator[str]:
        """Paths under ``prefix`` in name order."""
        for blob in self._container.list_blobs(name_starts_with=prefix):
            yield str(blob.name)

    def create_marker(self, path: str, value: Mapping[str, Any]) -> bool:
        """Write ``value`` at ``path`` only if nothing is there yet; say whether this call created it."""
        try:
            self._container.upload_blob(
                path, orjson.dumps(dict(value)), overwrite=False, content_settings=JSON
            )
        except ResourceExistsError:
            return False
        return True

    def read_json(self, path: str) -> StateDocument | None:
        try:
            download = self._container.download_blob(path)
        except ResourceNotFoundError:
            return None
        return StateDocument(orjson.loads(download.readall()), str(download.properties.etag))

    def write_json(self, path: str, value: Mapping[str, Any], etag: str | None) -> str:
        """Write a state document; ``etag`` None means "create, it must not exist yet".

        Returns the new ETag for the next write. Raises ``StateConflictError``
        when another writer got there first.
        """
        blob = self._container.get_blob_client(path)
        body = orjson.dumps(dict(value))
        try:
            if etag is None:
                result = blob.upload_blob(body, overwrite=False, content_settings=JSON)
            else:
                result = blob.upload_blob(
                    body,
                    overwrite=True,
                    content_settings=JSON,
                    etag=etag,
                    match_condition=MatchConditions.IfNotModified,
                )
        except (ResourceExistsError, ResourceModifiedError) as error:
            raise StateConflictError(f"{path} was changed by another writer; read it again") from error
        return str(result["etag"])

    def delete(self, path: str, etag: str | None = None) -> bool:
        """Delete ``path`` (only at ``etag`` when given); False when it was gone already.

        Raises ``StateConflictError`` when ``etag`` is given and the blob changed since.
        """
        conditions: dict[str, Any] = {}
        if etag is not None:
            conditions = {"etag": etag, "match_condition": MatchConditions.IfNotModified}
        try:
            self._container.delete_blob(path, **conditions)
        except ResourceNotFoundError:
            return False
        except ResourceModifiedError as error:
            raise StateConflictError(f"{path} was changed by another writer; read it again") from error
        return True

    def check(self) -> None:
        """Raise if the container cannot be reached with the hub's credentials."""
        self._container.get_container_properties()
