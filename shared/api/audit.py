"""The audit log: one JSON line per state-changing call (who, what, when, result) in an append blob.

Append blobs accept only appends, so an entry once written is not rewritten
by the hub. One blob per UTC day keeps each file small enough to read, and
the storage account's immutability policy (in ``infra/``) can lock them.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime

import orjson
from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError
from azure.storage.blob import ContainerClient

AUDIT_PREFIX = "audit/"


@dataclass(frozen=True)
class AuditEntry:
    at: datetime
    who: str
    action: str
    target: str
    status: int
    correlation_id: str

    def to_json(self) -> dict[str, object]:
        return {
            "at": self.at.isoformat(),
            "who": self.who,
            "action": self.action,
            "target": self.target,
            "status": self.status,
            "correlationId": self.correlation_id,
        }


def audit_path(day: datetime) -> str:
    return f"{AUDIT_PREFIX}{day.astimezone(UTC):%Y-%m-%d}.jsonl"


class AuditLog:
    """Appends entries to the day's blob in ``container``, creating the blob on the day's first entry."""

    def __init__(self, container: ContainerClient) -> None:
        self._container = container

    def record(self, entry: AuditEntry) -> None:
        blob = self._container.get_blob_client(audit_path(entry.at))
        line = orjson.dumps(entry.to_json()) + b"\n"
        try:
            blob.append_block(line)
        except ResourceNotFoundError:  # the day's first entry
            with contextlib.suppress(ResourceExistsError):
                blob.create_append_blob(if_none_match="*")
            blob.append_block(line)

    def entries(self, day: datetime) -> list[dict[str, object]]:
        """The day's entries, oldest first (for tests and admins)."""
        blob = self._container.get_blob_client(audit_path(day))
        if not blob.exists():
            return []
        data = blob.download_blob().readall()
        return [orjson.loads(line) for line in data.splitlines() if line.strip()]
