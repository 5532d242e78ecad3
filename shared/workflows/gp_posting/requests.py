"""GP posting requests: what was asked (a statement or a month's unit statistics), and what became of it.

A request is recorded in Blob (``gp/requests/{id}.json``) before its message is
queued, and every step of its work updates that record: queued → running →
succeeded / partially_failed / failed / refused, with one result per GP
document and the refusals with their reasons; a failure of GP or Dataverse
makes it retrying (its message comes back minutes later) and one no retry can
fix makes it dead_lettered (its message is set aside for an operator, and a
resubmit runs it again). The API's status URL reads it.

One request at a time per statement or month: an index blob per subject
(``gp/subjects/statement-{id}.json``) names its latest request and is replaced
only by an ETag-guarded write, so the API and the sweep racing for the same
statement end with one request, and a second POST while one is queued or
running gets that one back.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

from shared.platform.conflicts import StateConflictError

if TYPE_CHECKING:
    from shared.platform.blob_store import BlobStore

RequestStatus = Literal[
    "queued", "running", "retrying", "succeeded", "partially_failed", "failed", "refused", "dead_lettered"
]
# Not finished: a worker will pick it up (retrying: its message comes back at ``next_attempt_at``).
ACTIVE: frozenset[str] = frozenset({"queued", "running", "retrying"})
PERIOD_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"
_CLAIM_ATTEMPTS = 10


class PostingSubject(BaseModel):
    """What to post: exactly one of a ``bs_billingstatement`` id or a unit-statistics month ('yyyy-MM')."""

    model_config = ConfigDict(
        alias_generator=to_camel, validate_by_name=True, serialize_by_alias=True, extra="forbid"
    )

    statement_id: str | None = Field(None, min_length=1, max_length=64)
    unit_statistics_period: str | None = Field(None, pattern=PERIOD_PATTERN)

    @model_validator(mode="after")
    def _exactly_one(self) -> PostingSubject:
        if (self.statement_id is None) == (self.unit_statistics_period is None):
            raise ValueError("give exactly one of statementId and unitStatisticsPeriod")
        return self

    @property
    def index_name(self) -> str:
        if self.statement_id is not None:
            return f"statement-{self.statement_id.lower()}"
        return f"statistics-{self.unit_statistics_period}"


class DocumentOutcome(BaseModel):
    """One GP document of the request: its key, number, map and company, and what GP made of it."""

    key: str
    document_number: str
    map: str
    company: str
    batch_id: str
    status: Literal["posted", "duplicate", "refused", "rejected"]
    message: str = ""


class PostingRequest(BaseModel):
    """The record of one request; the API shows it as it is."""

    id: str
    subject: PostingSubject
    status: RequestStatus = "queued"
    trigger: Literal["api", "sweep", "event"] = "api"
    requested_by: str = ""
    created_at: datetime
    updated_at: datetime
    attempts: int = 0
    documents: list[DocumentOutcome] = Field(default_factory=list)
    refusals: list[str] = Field(default_factory=list)
    report: str | None = None  # the inactive-accounts table of a refused statistics month
    last_error: str | None = None
    next_attempt_at: datetime | None = None
    version: int = 0  # 0 as created, one more at each write: its events' sequence

    @property
    def active(self) -> bool:
        return self.status in ACTIVE


class PostingRequestMessage(BaseModel):
    """The body of a ``gp-postings`` message: the request's id and subject (the record holds the rest)."""

    model_config = ConfigDict(alias_generator=to_camel, validate_by_name=True, serialize_by_alias=True)

    request_id: str
    subject: PostingSubject


def new_request_id(now: datetime) -> str:
    """Sortable by time, unique without coordination: ``20250501T101500Z-gp-3f9a1c2b``."""
    return f"{now:%Y%m%dT%H%M%SZ}-gp-{secrets.token_hex(4)}"


class PostingRequestStore(Protocol):
    """Where posting requests live: Table storage in the app (``request_table``); Blob before migration."""

    def get(self, request_id: str) -> PostingRequest | None: ...

    def latest(self, subject: PostingSubject) -> PostingRequest | None: ...

    def claim(self, request: PostingRequest, *, replace_finished: bool) -> tuple[PostingRequest, bool]: ...

    def update(
        self, request_id: str, change: Callable[[PostingRequest], PostingRequest]
    ) -> PostingRequest: ...

    def active_ids(self) -> list[str]: ...


class PostingRequests:
    """The request records and the per-subject index, in the hub's state container."""

    def __init__(self, store: BlobStore, now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._store = store
        self._now = now

    def get(self, request_id: str) -> PostingRequest | None:
        found = self._store.read_json(_path(request_id))
        return PostingRequest.model_validate(found.value) if found is not None else None

    def latest(self, subject: PostingSubject) -> PostingRequest | None:
        index = self._store.read_json(_index(subject))
        return self.get(str(index.value["requestId"])) if index is not None else None

    def claim(self, request: PostingRequest, *, replace_finished: bool) -> tuple[PostingRequest, bool]:
        """Make ``request`` the subject's current request, unless another stands: (the one that stands, new?).

        A queued or running request always stands; a finished one stands too
        unless ``replace_finished`` (the API may post a statement again, the
        sweep only ever queues a statement the hub never saw).
        """
        for _ in range(_CLAIM_ATTEMPTS):
            index = self._store.read_json(_index(request.subject))
            if index is not None:
                current = self.get(str(index.value["requestId"]))
                if current is not None and (current.active or not replace_finished):
                    return current, False
            if not self._store.create_marker(_path(request.id), request.model_dump(mode="json")):
                existing = self.get(request.id)
                if existing is None:
                    raise StateConflictError(f"request {request.id} vanished while being claimed")
                return existing, False
            try:
                self._store.write_json(
                    _index(request.subject), {"requestId": request.id}, index.etag if index else None
                )
            except StateConflictError:
                self._store.delete(_path(request.id))
                continue
            self._store.create_marker(_active(request.id), {"requestId": request.id})
            return request, True
        raise StateConflictError(
            f"could not claim {request.subject.index_name} after {_CLAIM_ATTEMPTS} tries"
        )

    def update(self, request_id: str, change: Callable[[PostingRequest], PostingRequest]) -> PostingRequest:
        """Read, change and write the record back, again if another writer got there first."""
        for _ in range(_CLAIM_ATTEMPTS):
            found = self._store.read_json(_path(request_id))
            if found is None:
                raise LookupError(f"there is no GP posting request {request_id}")
            changed = change(PostingRequest.model_validate(found.value)).model_copy(
                update={"updated_at": self._now()}
            )
            try:
                self._store.write_json(_path(request_id), changed.model_dump(mode="json"), found.etag)
            except StateConflictError:
                continue
            if changed.active:
                self._store.create_marker(_active(request_id), {"requestId": request_id})
            else:
                self._store.delete(_active(request_id))
            return changed
        raise StateConflictError(f"request {request_id} kept changing under this writer")

    def active_ids(self) -> list[str]:
        """The requests not yet finished (an index kept beside the records), for the watchdog."""
        return [path.removeprefix(_ACTIVE).removesuffix(".json") for path in self._store.list(_ACTIVE)]


_ACTIVE = "gp/active/"


def _active(request_id: str) -> str:
    return f"{_ACTIVE}{request_id}.json"


def _path(request_id: str) -> str:
    return f"gp/requests/{request_id}.json"


def _index(subject: PostingSubject) -> str:
    return f"gp/subjects/{subject.index_name}.json"
