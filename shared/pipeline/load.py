"""The loader: one staged batch into its target, exactly once in effect.

Service Bus delivers a load message at least once. The batch's result is kept
in a create-only marker, so a redelivered message finds the marker and only
re-applies its counts to the run record, which itself counts each batch once
(by id). Writes to the target are idempotent upserts by alternate key, so a
loader killed between writing and marking loads the same records again on
redelivery, harmlessly. A failure raises; the batch-loads handler
(``shared.pipeline.handlers``) retries it later or sets it aside
(``set_aside``), and the run settles once every batch is loaded or set aside.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import fields
from datetime import datetime

from pydantic import BaseModel, Field

from shared.errors import ErrorClass
from shared.pipeline import progress as told
from shared.pipeline.run_queue import StreamSlots
from shared.pipeline.run_record import (
    LoadCounts,
    RecordProblem,
    RunError,
    RunRecord,
    RunRecords,
    RunStatus,
    RunStore,
    StagedBatch,
)
from shared.pipeline.run_states import RunEvent, can_move, move
from shared.pipeline.staging import DELETE, UPSERT, BatchIntegrityError, read_batch
from shared.pipeline.stream import StreamCatalog
from shared.pipeline.target import RecordResult, Sink
from shared.platform.blob_store import BlobStore

MAX_PROBLEMS_PER_RUN = 1000
_COUNTED = {
    "upserted": "upserted",
    "created": "created",
    "updated": "updated",
    "unchanged": "unchanged",
    "deleted": "deleted",
    "rejected": "rejected",
    "conflict": "conflicts",
    "not_found": "not_found",
}
_PROBLEMS = {"rejected", "conflict", "not_found"}


class LoadBatchMessage(BaseModel):
    """The body of a load-queue message: which run is loading which staged batch."""

    run_id: str
    stream: str
    batch: StagedBatch

    @property
    def message_id(self) -> str:
        """Unique per (loading run, batch): a replay's messages are new work, a redelivery is not.

        No slash, so it fits one segment of ``/api/v1/deadletters/{queue}/{messageId}``.
        """
        return f"{self.run_id}.{self.batch.id}"


class BatchResult(BaseModel):
    batch_id: str
    counts: LoadCounts = Field(default_factory=LoadCounts)
    problems: list[RecordProblem] = Field(default_factory=list)
    error: RunError | None = None


def marker_path(run_id: str, batch_id: str) -> str:
    return f"loads/{run_id}/{batch_id}.json"


class BatchLoader:
    def __init__(
        self,
        catalog: StreamCatalog,
        staging: BlobStore,
        state: BlobStore,
        sink: Sink,
        now: Callable[[], datetime],
        runs: RunStore | None = None,
    ) -> None:
        self._catalog = catalog
        self._staging = staging
        self._state = state
        self._sink = sink
        self._now = now
        self._runs: RunStore = runs or RunRecords(state)
        self._slots = StreamSlots(state)

    def load(self, message: LoadBatchMessage) -> BatchResult:
        """Load the batch unless it is already loaded, then count it once in the run record."""
        path = marker_path(message.run_id, message.batch.id)
        existing = self._state.read_json(path)
        if existing is not None:
            result = BatchResult.model_validate(existing.value)
        else:
            result = self._write(message)
            if not self._state.create_marker(path, result.model_dump(mode="json")):
                winner = self._state.read_json(path)
                result = BatchResult.model_validate(winner.value) if winner else result
        self.count(message.run_id, result)
        return result

    def set_aside(self, message: LoadBatchMessage, failure: RunError) -> RunRecord:
        """Note a batch that was dead-lettered; the run settles without it, and again if it is resubmitted."""
        finished_before: list[bool] = []

        def note(record: RunRecord) -> None:
            finished_before[:] = [record.status.finished]
            if message.batch.id in record.loaded_batches:
                return
            if message.batch.id not in record.dead_lettered_batches:
                record.dead_lettered_batches.append(message.batch.id)
            if record.error is None:
                record.error = failure
            settle_if_complete(record, self._now())

        return self._settle(self._runs.update(message.run_id, note), finished_before)

    def _settle(self, record: RunRecord, finished_before: list[bool]) -> RunRecord:
        """Give back a finished run's slot; the change that finished it (not a redelivery) tells the run's end."""
        if record.status.finished:
            self._slots.release(record.stream, record.id)
            if finished_before == [False]:
                told.run_finished(record)
        return record

    def counted(self, run_id: str, batch_id: str) -> BatchResult | None:
        """The batch's result when it has loaded (its marker), for the watchdog to count a lost update."""
        found = self._state.read_json(marker_path(run_id, batch_id))
        return None if found is None else BatchResult.model_validate(found.value)

    def count(self, run_id: str, result: BatchResult) -> RunRecord:
        """Count the batch's result in its run, once (by batch id)."""
        finished_before: list[bool] = []

        def count(record: RunRecord) -> None:
            finished_before[:] = [record.status.finished]
            self._count(record, result)

        record = self._runs.update(run_id, count)
        told.batch_loaded(record, result.batch_id, result.counts, self._now())
        return self._settle(record, finished_before)

    def _write(self, message: LoadBatchMessage) -> BatchResult:
        target = self._catalog.get(message.stream).target
        try:
            operations = list(read_batch(self._staging, message.batch))
        except BatchIntegrityError as error:
            failure = RunError(error_class=ErrorClass.PERMANENT.value, message=str(error))
            return BatchResult(batch_id=message.batch.id, error=failure)
        upserts = [body for operation, body in operations if operation == UPSERT]
        deletes = [body for operation, body in operations if operation == DELETE]
        results = self._sink.upsert(target, upserts) if upserts else []
        if deletes:
            results += self._sink.delete(target, deletes)
        return _tally(message.batch.id, results)

    def _count(self, record: RunRecord, result: BatchResult) -> None:
        if result.batch_id in record.loaded_batches:
            return
        record.loaded_batches.append(result.batch_id)
        record.heartbeat_at = self._now()
        if result.batch_id in record.dead_lettered_batches:  # resubmitted, and loaded this time
            record.dead_lettered_batches.remove(result.batch_id)
            if not record.dead_lettered_batches:
                record.error = None
        for name in (field.name for field in fields(LoadCounts)):
            setattr(record.load, name, getattr(record.load, name) + getattr(result.counts, name))
        record.load.batches_loaded = len(record.loaded_batches)
        room = MAX_PROBLEMS_PER_RUN - len(record.problems)
        record.problems.extend(result.problems[: max(room, 0)])
        if result.error is not None and record.error is None:
            record.error = result.error
        settle_if_complete(record, self._now())


def _tally(batch_id: str, results: list[RecordResult]) -> BatchResult:
    outcomes = Counter(result.outcome for result in results)
    counts = LoadCounts(batches_loaded=0, **{_COUNTED[name]: n for name, n in outcomes.items()})
    problems = [
        RecordProblem(
            batch_id=batch_id,
            key=list(result.key),
            outcome=result.outcome,
            status=result.status,
            error_code=result.error_code,
            message=result.message,
        )
        for result in results
        # A Dataverse-owned field whose value differed from the source's was kept: the two sides
        # disagreed, and the run says so rather than settling it in silence.
        if result.outcome in _PROBLEMS or result.kept
    ]
    return BatchResult(batch_id=batch_id, counts=counts, problems=problems)


def settle_if_complete(record: RunRecord, now: datetime) -> None:
    """Give the run its final status once extraction is over and every batch is loaded or set aside.

    A batch that was set aside (dead-lettered) makes the run ``dead_lettered``
    with that reason; resubmitting the batch loads it and settles the run again.
    """
    if record.batches_expected is None or not (
        can_move(record, RunEvent.SETTLED) or can_move(record, RunEvent.DEAD_LETTERED)
    ):
        return
    accounted = set(record.loaded_batches) | set(record.dead_lettered_batches)
    if any(batch.id not in accounted for batch in record.batches):
        return
    if record.dead_lettered_batches:
        if record.status is not RunStatus.DEAD_LETTERED:
            move(record, RunEvent.DEAD_LETTERED, RunStatus.DEAD_LETTERED)
            record.finished_at = now
        return
    written, refused = told.written(record.load), told.refused(record.load)
    if record.error is not None or (refused and not written):
        status = RunStatus.FAILED
    elif refused or record.extract.quarantined:
        status = RunStatus.PARTIALLY_FAILED
    else:
        status = RunStatus.SUCCEEDED
    move(record, RunEvent.SETTLED, status)
    record.finished_at = now
