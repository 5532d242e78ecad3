"""Posting one GP document exactly once: checked, recorded, serialised per company, sent, and audited.

At-least-once delivery becomes exactly-once in effect through a create-only
marker per document key in Blob. A document whose marker says GP accepted it
is reported as a duplicate and not sent. A marker left at "sending" means an
earlier attempt's outcome was lost (a time-out after sending, a crash), so GP's
own tables are asked before the document is sent again. Accounts are checked
against GP's chart before any call, so an unknown account is refused with its
reason instead of failing inside SmartConnect. With ``locks``, postings to one
company wait their turn (up to ``lock_wait_seconds``, then they are left for
redelivery), as SmartConnect took them one at a time behind the Logic App.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from shared.connectors.great_plains.documents import DocumentRefusedError, GpDocument, check_balanced
from shared.connectors.great_plains.ledger import GpLedger
from shared.connectors.great_plains.smartconnect import PostingOutcomeUnknownError, SmartConnect, envelope
from shared.errors import ErrorClass, HubError
from shared.platform.blob_lock import BlobLocks, HeldLock, LockHeldError
from shared.platform.blob_store import BlobStore
from shared.platform.conflicts import StateConflictError
from shared.workflows.gp_posting.audit import PostingAudit

SENDING = "sending"
ACCEPTED = "accepted"
REJECTED = "rejected"


class PostingStatus(StrEnum):
    POSTED = "posted"
    DUPLICATE = "duplicate"
    REFUSED = "refused"
    REJECTED = "rejected"


@dataclass(frozen=True)
class PostingResult:
    """What became of one document; ``message`` is the refusal reason or SmartConnect's words."""

    key: str
    document_number: str
    status: PostingStatus
    message: str = ""


class GpPoster:
    """Posts documents to GP through SmartConnect, never the same accepted document twice."""

    def __init__(
        self,
        smartconnect: SmartConnect,
        store: BlobStore,
        ledger: GpLedger,
        audit: PostingAudit,
        *,
        known_account: Callable[[str, str], bool] | None = None,
        check_period: Callable[[GpDocument], None] | None = None,
        locks: BlobLocks | None = None,
        lock_wait_seconds: float = 120.0,
    ) -> None:
        self._smartconnect = smartconnect
        self._check_period = check_period
        self._store = store
        self._ledger = ledger
        self._audit = audit
        self._known_account = known_account
        self._locks = locks
        self._lock_wait_seconds = lock_wait_seconds

    def post(self, document: GpDocument) -> PostingResult:
        """Post the document, or say why not. Raises ``HubError`` when GP could not be reached (redeliver)."""
        try:
            check_balanced(document)
            self._check_accounts(document)
            if self._check_period is not None:
                self._check_period(document)
        except DocumentRefusedError as refusal:
            return PostingResult(
                document.key, document.document_number, PostingStatus.REFUSED, refusal.reason
            )
        if self._locks is None:
            return self._post_once(document)
        # SmartConnect runs one map at a time per company today (the Logic App serialised every call).
        with self._company_lock(self._locks, document):
            return self._post_once(document)

    def _company_lock(self, locks: BlobLocks, document: GpDocument) -> HeldLock:
        """Wait for the company's turn; a posting that never gets it is left for redelivery."""
        deadline = time.monotonic() + self._lock_wait_seconds
        while True:
            try:
                return locks.acquire(f"gp-company-{document.company}", document.key)
            except LockHeldError as held:
                if time.monotonic() >= deadline:
                    raise HubError(
                        f"GP company {document.company} stayed busy for {self._lock_wait_seconds:.0f} s: {held}",
                        error_class=ErrorClass.TRANSIENT,
                        context={"system": "smartconnect", "operation": "post"},
                    ) from None
                time.sleep(random.uniform(0.05, 0.25))

    def _check_accounts(self, document: GpDocument) -> None:
        if self._known_account is None:
            return
        unknown = sorted(a for a in document.accounts if not self._known_account(document.company, a))
        if unknown:
            raise DocumentRefusedError(
                document.document_number,
                f"account(s) not in {document.company}'s chart: {', '.join(unknown)}",
            )

    def _post_once(self, document: GpDocument) -> PostingResult:
        path = f"gp/postings/{document.key}.json"
        attempt = uuid.uuid4().hex[:12]
        marker = {"state": SENDING, "attempt": attempt, "document": document.document_number}
        if not self._store.create_marker(path, marker):
            existing = self._store.read_json(path)
            if existing is None:
                raise StateConflictError(f"{path} vanished while being read")
            if existing.value.get("state") == ACCEPTED:
                return self._duplicate(document, "GP accepted this document before")
            if existing.value.get("state") == SENDING and self._ledger.holds(document):
                self._store.write_json(path, {**existing.value, "state": ACCEPTED}, existing.etag)
                return self._duplicate(document, "found in GP after an earlier attempt's reply was lost")
            self._store.write_json(path, marker, existing.etag)
        request_xml = envelope(document.map_id.value, document.inter_id, document.rows)
        self._audit.pending(document, attempt, request_xml)
        try:
            run = self._smartconnect.run_map_data_table(
                document.map_id.value, document.inter_id, document.rows
            )
        except PostingOutcomeUnknownError:
            if not self._ledger.holds(document):
                raise
            self._settle(path, ACCEPTED, attempt, document)
            self._audit.outcome(document, attempt, request_xml, "", accepted=True)
            return PostingResult(document.key, document.document_number, PostingStatus.POSTED, "found in GP")
        self._settle(path, ACCEPTED if run.accepted else REJECTED, attempt, document)
        self._audit.outcome(document, attempt, run.request_xml, run.response_xml, run.accepted)
        status = PostingStatus.POSTED if run.accepted else PostingStatus.REJECTED
        return PostingResult(document.key, document.document_number, status, run.message)

    def _settle(self, path: str, state: str, attempt: str, document: GpDocument) -> None:
        current = self._store.read_json(path)
        etag = current.etag if current is not None else None
        self._store.write_json(
            path, {"state": state, "attempt": attempt, "document": document.document_number}, etag
        )

    def _duplicate(self, document: GpDocument, why: str) -> PostingResult:
        return PostingResult(document.key, document.document_number, PostingStatus.DUPLICATE, why)
