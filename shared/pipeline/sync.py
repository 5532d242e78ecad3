"""One sync run of one stream: read, validate, transform, stage, publish, checkpoint.

The order of writes is what makes a run safe to kill at any point:

1. a lease named after the stream, so two runs never overlap;
2. each full batch is staged in Blob, then its load message is published, then
   the watermark moves to the batch's last cursor value: state never points
   past data that is not durable;
3. after a failure nothing final is written but the run record's error, so the
   next run starts from the last checkpoint.

Modes: ``incremental`` reads from the watermark (minus the stream's look-back)
and skips records sent unchanged before; ``full`` re-reads and re-sends
everything and resets the watermark; ``backfill`` reads an explicit window and
leaves state alone; ``replay`` re-publishes a past run's staged batches without
touching the source.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from pydantic import TypeAdapter, ValidationError

from shared.errors import classify_exception, redact
from shared.pipeline.load import LoadBatchMessage, settle_if_complete
from shared.pipeline.quarantine import Quarantine, reasons
from shared.pipeline.run_record import (
    RunError,
    RunMode,
    RunRecord,
    RunRecords,
    RunStatus,
    StagedBatch,
    new_run_id,
)
from shared.pipeline.sent_records import SentRecords, window_start
from shared.pipeline.staging import DELETE, UPSERT, BatchWriter
from shared.pipeline.stream import ReadWindow, Stream, StreamCatalog
from shared.pipeline.stream_state import StreamState, StreamStates, content_digest, key_text
from shared.platform.blob_lock import BlobLocks, LockHeldError
from shared.platform.blob_store import BlobStore
from shared.platform.service_bus import OutgoingMessage, ServiceBus


class AlreadyRunningError(Exception):
    """Another run of the stream holds its lease; ``run_id`` is that run."""

    def __init__(self, stream: str, run_id: str | None) -> None:
        super().__init__(f"stream '{stream}' is already running as run {run_id or '(unknown)'}")
        self.stream = stream
        self.run_id = run_id


class StreamDeclarationError(Exception):
    """The stream broke its own declaration (rows out of cursor order, a missing cursor value)."""


class TooManyDeletesError(Exception):
    """A full read would delete more of the target than the stream allows: the source looks broken."""


@dataclass(frozen=True)
class SyncRequest:
    stream: str
    mode: RunMode = RunMode.INCREMENTAL
    trigger: str = "manual"
    window: ReadWindow | None = None
    replay_of: str | None = None
    run_id: str | None = None


def utc_now() -> datetime:
    return datetime.now(UTC)


class SyncEngine:
    """Runs syncs for every stream in the catalog, with the hub's Blob and Service Bus clients."""

    def __init__(
        self,
        catalog: StreamCatalog,
        staging: BlobStore,
        state: BlobStore,
        locks: BlobLocks,
        bus: ServiceBus,
        load_queue: str,
        now: Callable[[], datetime] = utc_now,
    ) -> None:
        self.catalog = catalog
        self.staging = staging
        self.now = now
        self._locks = locks
        self._bus = bus
        self._load_queue = load_queue
        self.runs = RunRecords(state)
        self.states = StreamStates(state)

    def run(self, request: SyncRequest) -> RunRecord:
        """Run one sync to the end of extraction; loading continues on the load queue.

        Returns the run record, failed or not: the caller decides from its
        error class whether a retry could help.
        """
        stream = self.catalog.get(request.stream)
        run_id = request.run_id or new_run_id(stream.name, self.now())
        try:
            lease = self._locks.acquire(f"sync-{stream.name}", holder=run_id)
        except LockHeldError as held:
            raise AlreadyRunningError(stream.name, held.holder) from None
        with lease:
            record = RunRecord(
                id=run_id,
                stream=stream.name,
                mode=request.mode,
                trigger=request.trigger,
                started_at=self.now(),
                replay_of=request.replay_of,
            )
            self.runs.create(record)
            try:
                if request.mode is RunMode.REPLAY:
                    self._replay(stream, record, request.replay_of)
                else:
                    _Extraction(self, stream, record, request).run()
            except Exception as error:  # noqa: BLE001 - every failure is recorded with its class
                failure = RunError(error_class=classify_exception(error).value, message=redact(str(error)))
                return self.runs.update(run_id, lambda latest: _fail(latest, failure, self.now()))
        return self._finish_extraction(record)

    def publish(self, record: RunRecord, batch: StagedBatch) -> None:
        message = LoadBatchMessage(run_id=record.id, stream=record.stream, batch=batch)
        self._bus.publish(
            self._load_queue,
            OutgoingMessage(
                body=message.model_dump(mode="json"),
                message_id=message.message_id,
                correlation_id=record.id,
                subject="load-batch",
                application_properties={"stream": record.stream, "run_id": record.id},
            ),
        )

    def _replay(self, stream: Stream[Any], record: RunRecord, replay_of: str | None) -> None:
        original = self.runs.get(replay_of) if replay_of else None
        if original is None or original.stream != stream.name:
            raise LookupError(f"replay needs a past run of '{stream.name}'; '{replay_of}' is not one")
        for batch in original.batches:
            self.publish(record, batch)
        record.batches = list(original.batches)
        record.extract.staged = sum(batch.count for batch in original.batches)

    def _finish_extraction(self, extracted: RunRecord) -> RunRecord:
        def finish(latest: RunRecord) -> None:
            latest.extract = extracted.extract
            latest.batches = extracted.batches
            latest.window_start, latest.window_end = extracted.window_start, extracted.window_end
            latest.watermark_before = extracted.watermark_before
            latest.watermark_after = extracted.watermark_after
            latest.quarantine_path = extracted.quarantine_path
            latest.batches_expected = len(extracted.batches)
            latest.extract_finished_at = self.now()
            latest.status = RunStatus.LOADING
            settle_if_complete(latest, self.now())

        return self.runs.update(extracted.id, finish)


def _fail(record: RunRecord, failure: RunError, now: datetime) -> None:
    record.error = failure
    record.status = RunStatus.FAILED
    record.finished_at = now


class _Extraction:
    """The read → validate → transform → stage → publish loop of one run."""

    def __init__(
        self, engine: SyncEngine, stream: Stream[Any], record: RunRecord, request: SyncRequest
    ) -> None:
        self.engine = engine
        self.stream = stream
        self.record = record
        self.mode = request.mode
        self.state, self.etag = engine.states.read(stream.name)
        self.cursor_type: TypeAdapter[Any] | None = None
        if stream.cursor is not None:
            self.cursor_type = TypeAdapter(stream.model.model_fields[stream.cursor].annotation)
        self.watermark = self._typed(self.state.watermark)
        self.window = self._window(request)
        self.sent = SentRecords(None if stream.cursor is None else stream.lookback)
        self.writer = BatchWriter(
            engine.staging, stream.name, record.id, stream.batch_rows, stream.batch_bytes
        )
        self.quarantine = Quarantine(stream.name, stream.max_bad_rows)
        self.last_cursor: Any = None

    def _typed(self, value: Any) -> Any:
        return value if value is None or self.cursor_type is None else self.cursor_type.validate_python(value)

    def _window(self, request: SyncRequest) -> ReadWindow:
        if self.mode is RunMode.BACKFILL:
            if request.window is None:
                raise ValueError("a backfill needs an explicit window (start and/or end)")
            return request.window
        if self.mode is RunMode.INCREMENTAL and self.stream.cursor is not None:
            return ReadWindow(start=window_start(self.watermark, self.stream.lookback))
        return ReadWindow()

    def run(self) -> None:
        record, counts = self.record, self.record.extract
        record.window_start, record.window_end = _json(self.window.start), _json(self.window.end)
        record.watermark_before = self.state.watermark
        skip_unchanged = self.mode is RunMode.INCREMENTAL
        previous = self.state.fingerprints
        for page in self.stream.read(self.window):
            for row in page:
                counts.read += 1
                try:
                    model = self.stream.model.model_validate(row)
                except ValidationError as error:
                    counts.quarantined += 1
                    self.quarantine.add(row, reasons(error), counts.read)
                    continue
                counts.valid += 1
                target = self.stream.transform(model)
                if target is None:
                    counts.skipped += 1
                    continue
                cursor = self._cursor_of(model, counts.read)
                key = key_text(self.stream.key_of(target))
                digest = content_digest(target)
                self.sent.saw(key, digest, cursor)
                if skip_unchanged and previous.get(key) == digest:
                    counts.unchanged += 1
                    continue
                counts.staged += 1
                if self.writer.add(UPSERT, target, cursor):
                    self._stage_and_checkpoint()
        self._stage_deletes(previous)
        self._stage_and_checkpoint(final=True)
        record.quarantine_path = self.quarantine.write(self.engine.staging, record.id)
        record.watermark_after = self.state.watermark

    def _cursor_of(self, model: Any, row_number: int) -> Any:
        if self.stream.cursor is None:
            return None
        cursor = getattr(model, self.stream.cursor)
        if cursor is None:
            raise StreamDeclarationError(
                f"stream '{self.stream.name}': row {row_number} has no {self.stream.cursor}"
            )
        if self.last_cursor is not None and cursor < self.last_cursor:
            raise StreamDeclarationError(
                f"stream '{self.stream.name}': row {row_number} goes back from {self.last_cursor} to {cursor}; "
                f"its read() must order rows by {self.stream.cursor}"
            )
        self.last_cursor = cursor
        return cursor

    def _stage_deletes(self, previous: dict[str, str]) -> None:
        if not self.stream.deletes or self.mode is RunMode.BACKFILL:
            return
        vanished = sorted(previous.keys() - self.sent.keys())
        if previous and len(vanished) > len(previous) * self.stream.max_delete_fraction:
            raise TooManyDeletesError(
                f"stream '{self.stream.name}': {len(vanished)} of {len(previous)} records vanished from the "
                f"source, more than the {self.stream.max_delete_fraction:.0%} allowed; check the source"
            )
        for key in vanished:
            self.record.extract.deletes_staged += 1
            if self.writer.add(DELETE, dict(zip(self.stream.key, orjson.loads(key), strict=True))):
                self._stage_and_checkpoint()

    def _stage_and_checkpoint(self, final: bool = False) -> None:
        batch = self.writer.stage()
        if batch is not None:
            self.engine.publish(self.record, batch)
            self.record.batches.append(batch)
            if not final:
                self.engine.runs.update(self.record.id, self._progress)
        if self.mode is not RunMode.BACKFILL and (self.stream.cursor is not None or final):
            self._checkpoint()

    def _progress(self, latest: RunRecord) -> None:
        """Keep the stored record's batch list current, so a run killed mid-way still shows its batches."""
        latest.batches = list(self.record.batches)
        latest.extract = self.record.extract.model_copy()

    def _checkpoint(self) -> None:
        watermark = self.last_cursor if self.last_cursor is not None else self.watermark
        state = StreamState(
            watermark=_json(watermark),
            fingerprints=self.sent.snapshot(),
            last_run_id=self.record.id,
            updated_at=self.engine.now(),
        )
        if state.watermark == self.state.watermark and state.fingerprints == self.state.fingerprints:
            return  # nothing moved: a no-change run writes no state
        self.etag = self.engine.states.write(self.stream.name, state, self.etag)
        self.state = state


def _json(value: Any) -> Any:
    return None if value is None else orjson.loads(orjson.dumps(value))
