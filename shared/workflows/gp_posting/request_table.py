"""GP posting requests in Table storage: ``PostingRequests``' interface, the subject index in the same partition.

Each request is its JSON in the ``requests`` partition of the postings table
(``shared.platform.indexed_table``), filed by status, by creation time and,
while it is not finished, as ``active|`` for the watchdog, newest first. The subject index (``subject|statement-<id>``, naming the
subject's current request) lives in the same partition, so claiming a subject
creates the request and points its subject at it in one entity group
transaction: there is no window, as there is with two blobs, in which a
request exists that its subject does not name, and nothing to clean up after
a lost race. A request's documents are the field that can outgrow a property;
they spill to the state container.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from shared.observers import tell
from shared.platform.blob_store import BlobStore
from shared.platform.conflicts import StateConflictError
from shared.platform.indexed_table import KEY, IndexedDocuments, inverted_time
from shared.platform.table_documents import TableDocuments
from shared.platform.table_store import Insert, Operation, Replace, TableStore, key_part, rows_between
from shared.workflows.gp_posting.events import PostingObserver
from shared.workflows.gp_posting.requests import ACTIVE, PostingRequest, PostingSubject

REQUESTS_PARTITION = "requests"
SPILL_PREFIX = "tables/gp-requests/"
REQUEST_ID = "RequestId"
_ATTEMPTS = 10


def _filed_as(document: Mapping[str, Any]) -> str:
    created = datetime.fromisoformat(str(document["created_at"]))
    return f"{inverted_time(created)}|{key_part(str(document['id']))}"


def _index_rows(document: Mapping[str, Any]) -> list[str]:
    filed = _filed_as(document)
    rows = [f"all|{filed}", f"status|{key_part(str(document['status']))}|{filed}"]
    if document["status"] in ACTIVE:
        rows.append(f"active|{filed}")
    return rows


def _columns(document: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "Status": str(document["status"]),
        "CreatedAt": datetime.fromisoformat(str(document["created_at"])),
    }


def subject_row(index_name: str) -> str:
    """The subject index entity of ``PostingSubject.index_name``."""
    return f"subject|{key_part(index_name)}"


class PostingRequestTable:
    """The request records and the per-subject index, in the postings table."""

    def __init__(
        self,
        table: TableStore,
        spill: BlobStore,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        observers: Sequence[PostingObserver] = (),
    ) -> None:
        """``observers`` hear of every write (the posting's events: ``shared.composition``)."""
        self._requests = IndexedDocuments(
            table, TableDocuments(spill, SPILL_PREFIX), REQUESTS_PARTITION, _index_rows, _columns
        )
        self._now = now
        self._observers = observers

    def get(self, request_id: str) -> PostingRequest | None:
        found = self._requests.read(request_id)
        return PostingRequest.model_validate(found.document) if found is not None else None

    def latest(self, subject: PostingSubject) -> PostingRequest | None:
        index = self._requests.table.read(REQUESTS_PARTITION, subject_row(subject.index_name))
        return self.get(str(index.properties[REQUEST_ID])) if index is not None else None

    def claim(self, request: PostingRequest, *, replace_finished: bool) -> tuple[PostingRequest, bool]:
        """Make ``request`` the subject's current request, unless another stands: (the one that stands, new?).

        A queued or running request always stands; a finished one stands too
        unless ``replace_finished`` (the API may post a statement again, the
        sweep only ever queues a statement the hub never saw).
        """
        row = subject_row(request.subject.index_name)
        for _ in range(_ATTEMPTS):
            index = self._requests.table.read(REQUESTS_PARTITION, row)
            if index is not None:
                current = self.get(str(index.properties[REQUEST_ID]))
                if current is not None and (current.active or not replace_finished):
                    return current, False
            pointer = {REQUEST_ID: request.id, "Subject": request.subject.index_name}
            point: Operation = Insert(row, pointer) if index is None else Replace(row, pointer, index.etag)

            def with_subject(_: Mapping[str, Any], point: Operation = point) -> Sequence[Operation]:
                return (point,)

            try:
                self._requests.insert(request.id, request.model_dump(mode="json"), with_subject)
            except StateConflictError:
                existing = self.get(request.id)
                if existing is not None:
                    return existing, False
                continue
            tell(self._observers, None, request, f"GP posting {request.id}")
            return request, True
        raise StateConflictError(f"could not claim {request.subject.index_name} after {_ATTEMPTS} tries")

    def update(self, request_id: str, change: Callable[[PostingRequest], PostingRequest]) -> PostingRequest:
        """Read, change and write the record back, again if another writer got there first."""
        for _ in range(_ATTEMPTS):
            found = self._requests.read(request_id)
            if found is None:
                raise LookupError(f"there is no GP posting request {request_id}")
            before = PostingRequest.model_validate(found.document)
            changed = change(before).model_copy(
                update={"updated_at": self._now(), "version": before.version + 1}
            )
            try:
                self._requests.replace(found, changed.model_dump(mode="json"))
            except StateConflictError:
                continue
            tell(self._observers, before, changed, f"GP posting {changed.id} v{changed.version}")
            return changed
        raise StateConflictError(f"request {request_id} kept changing under this writer")

    def active_ids(self) -> list[str]:
        """The requests not yet finished, for the watchdog: one query of their ``active|`` entities."""
        low, high = rows_between("active|")
        ids: list[str] = []
        continuation: dict[str, str] | None = None
        while True:
            page = self._requests.table.query(
                REQUESTS_PARTITION,
                "RowKey ge @low and RowKey lt @high",
                {"low": low, "high": high},
                continuation=continuation,
                select=[KEY],
            )
            ids.extend(str(entity.properties[KEY]) for entity in page.entities)
            continuation = page.continuation
            if continuation is None:
                return ids

    def adopt(self, request: PostingRequest) -> bool:
        """File a request recorded elsewhere (the blob store) as it stands; False if it is filed already."""
        try:
            self._requests.insert(request.id, request.model_dump(mode="json"))
        except StateConflictError:
            return False
        return True

    def adopt_subject(self, index_name: str, request_id: str) -> bool:
        """Point a subject at its current request, unless it points at one already."""
        pointer = {REQUEST_ID: request_id, "Subject": index_name}
        return self._requests.table.create(REQUESTS_PARTITION, subject_row(index_name), pointer) is not None

    def page(self, *, status: str | None = None, top: int = 50) -> list[PostingRequest]:
        """Up to ``top`` requests newest first, in ``status`` if given: one query."""
        low, high = rows_between(f"status|{key_part(status)}|" if status is not None else "all|")
        page = self._requests.page(low, high, top=top)
        return [PostingRequest.model_validate(document) for document in page.documents]
