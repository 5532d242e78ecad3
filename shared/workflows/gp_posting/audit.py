"""Every SmartConnect request and reply, kept twice: in ``bs_glrequestlog`` for Towne Park's people, and in an
append-only blob trail for the hub's operators.

The request and response XML hold only document data (no credentials travel in
a ``RunMapDataTable`` body), and both are passed through ``redact`` anyway.
Each blob entry is created once and never overwritten, so the trail cannot be
rewritten by a retry.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from shared.connectors.dataverse.client import DataverseClient
from shared.connectors.great_plains.documents import GpDocument
from shared.platform.blob_store import BlobStore
from shared.redaction import redact

GL_REQUEST_LOGS = "bs_glrequestlogs"
REQUEST_SUCCESS = 126840000
REQUEST_FAIL = 126840001
REQUEST_PENDING = 126840002
_LOG_NAMESPACE = uuid.UUID("6f1d6a53-4f7e-4c36-9b1e-2b0c8f6d5a10")


class PostingAudit:
    """Writes the pending entry before a call and the outcome after it."""

    def __init__(self, store: BlobStore, dataverse: DataverseClient | None) -> None:
        self._store = store
        self._dataverse = dataverse

    def pending(self, document: GpDocument, attempt: str, request_xml: str) -> None:
        self._record(document, attempt, "pending", request_xml, None, REQUEST_PENDING)

    def outcome(
        self, document: GpDocument, attempt: str, request_xml: str, response_xml: str, accepted: bool
    ) -> None:
        status = REQUEST_SUCCESS if accepted else REQUEST_FAIL
        self._record(document, attempt, "success" if accepted else "fail", request_xml, response_xml, status)

    def _record(
        self,
        document: GpDocument,
        attempt: str,
        stage: str,
        request_xml: str,
        response_xml: str | None,
        status: int,
    ) -> None:
        now = datetime.now(UTC)
        entry = {
            "key": document.key,
            "attempt": attempt,
            "stage": stage,
            "map": document.map_id.value,
            "company": document.company,
            "batch": document.batch_id,
            "document": document.document_number,
            "site": document.site,
            "at": now.isoformat(),
            "request_xml": redact(request_xml),
            "response_xml": redact(response_xml) if response_xml is not None else None,
        }
        self._store.create_marker(f"gp/audit/{now:%Y/%m/%d}/{document.key}/{attempt}-{stage}.json", entry)
        if self._dataverse is not None:
            row_id = uuid.uuid5(_LOG_NAMESPACE, f"{document.key}/{attempt}")
            body: dict[str, object] = {
                "bs_requestxml": entry["request_xml"],
                "bs_sitenumber": document.site,
                "bs_requeststatus": status,
            }
            if response_xml is not None:
                body["bs_responsexml"] = entry["response_xml"]
            self._dataverse.upsert(GL_REQUEST_LOGS, {"bs_glrequestlogid": row_id}, body)
