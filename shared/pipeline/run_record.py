"""The run record: what one sync run did, kept as JSON in Blob for the API, admins and replays.

It is written when the run is queued, when a worker claims it, at each
checkpoint, when extraction ends, and finally by whichever loader finishes the
last batch. Every write is ETag-guarded (``RunRecords.update``), so the
extractor and many loaders can update one record without losing each other's
counts, and every change of status goes through ``TRANSITIONS``
(``shared.pipeline.run_states``).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Protocol

from pydantic import BaseModel, Field

from shared.observers import tell
from shared.pipeline.changes import ChangeRead
from shared.platform.blob_store import BlobStore
from shared.platform.conflicts import StateConflictError

_UPDATE_ATTEMPTS = 20


class RunMode(StrEnum):
    INCREMENTAL = "incremental"
    FULL = "full"
    BACKFILL = "backfill"
    REPLAY = "replay"


class RunStatus(StrEnum):
    QUEUED = "queued"  # recorded and published; no worker has claimed it yet
    RUNNING = "running"  # a worker is extracting (or resuming after a worker died)
    RETRYING = "retrying"  # failed for a moment; its request comes back at ``next_attempt_at``
    LOADING = "loading"  # extraction is over; batches are loading
    SUCCEEDED = "succeeded"
    PARTIALLY_FAILED = "partially_failed"
    FAILED = "failed"
    DEAD_LETTERED = "dead_lettered"  # set aside with its reason; an operator resubmits it

    @property
    def finished(self) -> bool:
        """No worker will touch the run again unless an operator resubmits it."""
        return self in _FINISHED


_FINISHED = frozenset(
    {RunStatus.SUCCEEDED, RunStatus.PARTIALLY_FAILED, RunStatus.FAILED, RunStatus.DEAD_LETTERED}
)


class StagedBatch(BaseModel):
    """A batch's claim check: where it is, how many operations, and its digest."""

    id: str
    path: str
    count: int
    sha256: str
    cursor_min: Any = None
    cursor_max: Any = None


@dataclass
class ExtractCounts:
    """Plain attributes, not a pydantic model: the extraction loop bumps them once per row."""

    read: int = 0
    valid: int = 0
    quarantined: int = 0
    skipped: int = 0
    unchanged: int = 0
    staged: int = 0
    deletes_staged: int = 0


@dataclass
class LoadCounts:
    batches_loaded: int = 0
    upserted: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    rejected: int = 0
    conflicts: int = 0
    not_found: int = 0


class RecordProblem(BaseModel):
    """One record the sink refused, or whose Dataverse-owned fields it kept, so an operator sees why."""

    batch_id: str
    key: list[Any]
    outcome: str
    status: int
    error_code: str | None = None
    message: str | None = None


class RunError(BaseModel):
    error_class: str
    message: str
    retry_after: float | None = None  # seconds the other side asked for, when it said


class RunRecord(BaseModel):
    id: str
    stream: str
    mode: RunMode
    trigger: str
    status: RunStatus = RunStatus.RUNNING
    queued_at: datetime | None = None
    requested_by: str | None = None
    correlation_id: str | None = None
    then: list[str] = Field(default_factory=list)  # the sync's later streams, queued when this one is staged
    attempts: int = 0  # how many times a worker has claimed the run
    heartbeat_at: datetime | None = None  # the extracting worker's last write
    next_attempt_at: datetime | None = None  # when a retrying run's request comes back
    started_at: datetime | None = None
    extract_finished_at: datetime | None = None
    finished_at: datetime | None = None
    window_start: Any = None
    window_end: Any = None
    watermark_before: Any = None
    watermark_after: Any = None
    extract: ExtractCounts = Field(default_factory=ExtractCounts)
    change_tracking: ChangeRead | None = None  # how a change-tracked stream read its source
    report: dict[str, Any] | None = (
        None  # the summary of what the read found beyond counts (``ReportingRead``)
    )
    report_path: str | None = None  # where its detail is, in the staging container
    load: LoadCounts = Field(default_factory=LoadCounts)
    batches: list[StagedBatch] = Field(default_factory=list)
    batches_expected: int | None = None
    quarantine_path: str | None = None
    loaded_batches: list[str] = Field(default_factory=list)
    dead_lettered_batches: list[str] = Field(default_factory=list)
    problems: list[RecordProblem] = Field(default_factory=list)
    error: RunError | None = None
    replay_of: str | None = None
    version: int = 0  # 0 as created, one more at each write: its events' sequence


def new_run_id(stream: str, now: datetime | None = None) -> str:
    """Sortable by start time, unique without coordination: ``20261128T103700Z-legion_wage_rates-3f9a1c2b``."""
    started = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    return f"{started}-{stream}-{secrets.token_hex(4)}"


def run_path(run_id: str) -> str:
    return f"runs/{run_id}.json"


# Told of every write a run store made: the record before it (None for a new one) and after it.
RunObserver = Callable[["RunRecord | None", "RunRecord"], None]


class RunStore(Protocol):
    """Where run records live: Table storage in the app (``run_table.RunTable``); Blob before migration."""

    def create(self, record: RunRecord) -> None: ...

    def get(self, run_id: str) -> RunRecord | None: ...

    def update(self, run_id: str, change: Callable[[RunRecord], None]) -> RunRecord: ...

    def delete(self, run_id: str) -> None: ...

    def ids(self) -> Iterator[str]: ...


class RunRecords:
    """Run records in the state container, one blob per run: the store before ``migrate-state``."""

    def __init__(self, store: BlobStore, observers: Sequence[RunObserver] = ()) -> None:
        self._store = store
        self._observers = observers

    def create(self, record: RunRecord) -> None:
        """Write a new record; ``StateConflictError`` if the id is taken."""
        self._store.write_json(run_path(record.id), record.model_dump(mode="json"), etag=None)
        tell(self._observers, None, record, f"run {record.id}")

    def delete(self, run_id: str) -> None:
        """Remove a queued run whose request could not be published: it never existed for anyone."""
        self._store.delete(run_path(run_id))

    def get(self, run_id: str) -> RunRecord | None:
        document = self._store.read_json(run_path(run_id))
        return None if document is None else RunRecord.model_validate(document.value)

    def update(self, run_id: str, change: Callable[[RunRecord], None]) -> RunRecord:
        """Apply ``change`` to the latest record and write it back; re-read and retry on a lost race."""
        for _ in range(_UPDATE_ATTEMPTS):
            document = self._store.read_json(run_path(run_id))
            if document is None:
                raise KeyError(f"no run record '{run_id}'")
            before = RunRecord.model_validate(document.value)
            record = before.model_copy(deep=True)
            change(record)
            record.version = before.version + 1
            try:
                self._store.write_json(run_path(run_id), record.model_dump(mode="json"), etag=document.etag)
            except StateConflictError:
                continue
            tell(self._observers, before, record, f"run {record.id} v{record.version}")
            return record
        raise StateConflictError(f"run record {run_id} kept changing; gave up after {_UPDATE_ATTEMPTS} tries")

    def ids(self) -> Iterator[str]:
        """Every run id, oldest first (ids sort by start time)."""
        for path in self._store.list("runs/"):
            yield path.removeprefix("runs/").removesuffix(".json")
