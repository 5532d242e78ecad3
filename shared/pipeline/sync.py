"""One sync run of one stream: read, validate, transform, stage, publish, checkpoint.

The order of writes is what makes a run safe to kill at any point:

1. a lease named after the stream, so two extractions never overlap, and the
   run's record claimed (``queued``/``retrying``/interrupted → ``running``);
2. each full batch is staged in Blob, then its load message is published; at
   most every ``_CHECKPOINT_EVERY_SECONDS`` (and at the end) the watermark
   moves to the last cursor value of the batches published so far: state
   never points past data that is not durable;
3. after a failure nothing final is written but the run record's error and the
   status the caller chose (retrying, dead-lettered, failed), so the next
   attempt resumes from the last checkpoint.

Modes: ``incremental`` reads from the watermark (minus the stream's look-back)
and skips records sent unchanged before; ``full`` re-reads and re-sends
everything and resets the watermark; ``backfill`` reads an explicit window and
leaves state alone (resumed, it reads on from the batches it published); ``replay`` re-publishes a past run's staged batches without
touching the source.
"""

from __future__ import annotations

import contextvars
import operator
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime
from itertools import islice, repeat
from typing import Any, cast

import orjson
from azure.storage.blob import ContentSettings
from pydantic import TypeAdapter, ValidationError

from shared.errors import classify_exception
from shared.pipeline import progress as told
from shared.pipeline.changes import ReadPlan, plan_read
from shared.pipeline.load import LoadBatchMessage, settle_if_complete
from shared.pipeline.pages import ColumnValidator, Page, ValidPage
from shared.pipeline.quarantine import Quarantine, reasons
from shared.pipeline.requests import SyncRequest
from shared.pipeline.run_queue import AlreadyRunningError, StreamSlots, run_message
from shared.pipeline.run_record import (
    ExtractCounts,
    RunError,
    RunMode,
    RunRecord,
    RunRecords,
    RunStatus,
    RunStore,
    StagedBatch,
    new_run_id,
)
from shared.pipeline.run_states import IllegalTransitionError, RunEvent, can_move, move
from shared.pipeline.sent_records import (
    Key,
    SentRecords,
    content_digest,
    encoded,
    key_from_text,
    window_start,
)
from shared.pipeline.staging import DELETE, UPSERT, BatchWriter, PendingBatch, stage_batch
from shared.pipeline.stream import ReadReport, ReadWindow, Record, ReportingRead, Row, Stream, StreamCatalog
from shared.pipeline.stream_state import StreamState, StreamStates, StreamStateStore
from shared.platform.blob_lock import BlobLocks, LockHeldError
from shared.platform.blob_store import BlobStore
from shared.platform.service_bus import ServiceBus
from shared.redaction import redact
from shared.telemetry import names
from shared.telemetry.dimensions import Dimension
from shared.telemetry.spans import span


def stream_lock(stream: str) -> str:
    """The name of the lock a run of ``stream`` holds while it extracts: one extraction per stream."""
    return f"sync-{stream}"


class StreamDeclarationError(Exception):
    """The stream broke its own declaration (rows out of cursor order, a missing cursor value)."""


class TooManyDeletesError(Exception):
    """A full read would delete more of the target than the stream allows: the source looks broken."""


# What a failed run becomes: a run started by hand just fails; a queued one is retried or set aside.
FailureStatus = Callable[[RunError], tuple[RunEvent, RunStatus]]
# How often a long run rewrites its stored record with its batches so far (and its heartbeat).
_PROGRESS_EVERY_SECONDS = 5.0
_IN_FLIGHT = 2  # batches handed to the staging thread and not yet published
# A long run moves its watermark at most this often (after the batch that completes it is
# published); a run killed in between re-reads and re-sends at most this much, which keyed upserts
# make harmless.
_CHECKPOINT_EVERY_SECONDS = 2.0


_JSON = ContentSettings(content_type="application/json")


def utc_now() -> datetime:
    return datetime.now(UTC)


def fail_outright(failure: RunError) -> tuple[RunEvent, RunStatus]:
    return RunEvent.FAILED, RunStatus.FAILED


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
        runs: RunStore | None = None,
        states: StreamStateStore | None = None,
    ) -> None:
        """``runs`` and ``states`` default to the blob stores in ``state``; the app passes its tables."""
        self.catalog = catalog
        self.staging = staging
        self.now = now
        self.locks = locks
        self._bus = bus
        self._load_queue = load_queue
        self.runs: RunStore = runs or RunRecords(state)
        self.states: StreamStateStore = states or StreamStates(state)
        self.slots = StreamSlots(state)

    def run(
        self,
        request: SyncRequest,
        failure_status: FailureStatus = fail_outright,
    ) -> RunRecord:
        """Claim the run and extract it; loading continues on the load queue.

        With ``request.run_id`` the queued (or retrying, or interrupted) run of
        that id is claimed and resumed from the stream's last checkpoint; a run
        that is already loading or finished is returned as it is, untouched, so
        a duplicate delivery does nothing. Without it a new run is made.

        Returns the run record, failed or not; ``failure_status`` says what a
        failure makes of the run. Each stage and batch is told in the log
        (``shared.pipeline.progress``).
        """
        stream = self.catalog.get(request.stream)
        run_id = request.run_id or new_run_id(stream.name, self.now())
        try:
            lease = self.locks.acquire(stream_lock(stream.name), holder=run_id)
        except LockHeldError as held:
            raise AlreadyRunningError(stream.name, held.holder) from None
        with lease:
            record = self._claim(run_id, request)
            if record is None:
                current = self.runs.get(run_id)
                if current is None:
                    raise LookupError(f"run {run_id} vanished while being claimed")
                return current
            try:
                if request.mode is RunMode.REPLAY:
                    self._replay(stream, record, request.replay_of)
                else:
                    with span(names.SPAN_EXTRACTION, _about(record)) as extraction:
                        _Extraction(self, stream, record, request).run()
                        extraction.set_attributes(_extracted(record))
            except Exception as error:  # noqa: BLE001 - every failure is recorded with its class
                failure = RunError(
                    error_class=classify_exception(error).value,
                    message=redact(str(error)),
                    retry_after=getattr(error, "retry_after", None),
                )
                event, status = failure_status(failure)
                failed = self.runs.update(
                    run_id, lambda latest: _fail(latest, record, failure, event, status, self.now())
                )
                if failed.status.finished:
                    self.slots.release(failed.stream, failed.id)
                    told.run_finished(failed)
                return failed
        return self._finish_extraction(record)

    def _claim(self, run_id: str, request: SyncRequest) -> RunRecord | None:
        """The run's record, now ``running`` under this worker; None when there is nothing to do."""
        now = self.now()
        existing = self.runs.get(run_id)
        if existing is None:
            record = RunRecord(
                id=run_id,
                stream=request.stream,
                mode=request.mode,
                trigger=request.trigger,
                started_at=now,
                heartbeat_at=now,
                attempts=1,
                window_start=_json(request.window.start) if request.window else None,
                window_end=_json(request.window.end) if request.window else None,
                replay_of=request.replay_of,
            )
            self.runs.create(record)
            return record
        if not can_move(existing, RunEvent.CLAIMED):
            return None

        def claim(latest: RunRecord) -> None:
            move(latest, RunEvent.CLAIMED, RunStatus.RUNNING)
            latest.attempts += 1
            latest.extract = ExtractCounts()  # this attempt's counts; earlier batches stay in ``batches``
            latest.started_at = latest.started_at or now
            latest.heartbeat_at = now
            latest.next_attempt_at = None
            latest.batches_expected = None  # known again when this attempt's extraction ends
            latest.error = None
            latest.finished_at = None

        try:
            return self.runs.update(run_id, claim)
        except IllegalTransitionError:
            return None

    def publish(self, record: RunRecord, batch: StagedBatch) -> None:
        message = LoadBatchMessage(run_id=record.id, stream=record.stream, batch=batch)
        self._bus.publish(self._load_queue, run_message(record, message, message.message_id, "load-batch"))

    def _replay(self, stream: Stream[Any], record: RunRecord, replay_of: str | None) -> None:
        original = self.runs.get(replay_of) if replay_of else None
        if original is None or original.stream != stream.name:
            raise LookupError(f"replay needs a past run of '{stream.name}'; '{replay_of}' is not one")
        published = {batch.id for batch in record.batches}
        for batch in original.batches:
            if batch.id not in published:
                self.publish(record, batch)
                record.batches.append(batch)
        record.extract.staged = sum(batch.count for batch in original.batches)

    def _finish_extraction(self, extracted: RunRecord) -> RunRecord:
        def finish(latest: RunRecord) -> None:
            latest.extract = extracted.extract
            latest.change_tracking = extracted.change_tracking
            latest.report, latest.report_path = extracted.report, extracted.report_path
            latest.batches = extracted.batches
            latest.window_start, latest.window_end = extracted.window_start, extracted.window_end
            latest.watermark_before = extracted.watermark_before
            latest.watermark_after = extracted.watermark_after
            latest.quarantine_path = extracted.quarantine_path
            latest.batches_expected = len(extracted.batches)
            latest.extract_finished_at = self.now()
            move(latest, RunEvent.EXTRACTED, RunStatus.LOADING)
            settle_if_complete(latest, self.now())

        finished = self.runs.update(extracted.id, finish)
        if finished.status.finished:
            self.slots.release(finished.stream, finished.id)
            told.run_finished(finished)
        return finished


def _fail(
    record: RunRecord,
    extracted: RunRecord,
    failure: RunError,
    event: RunEvent,
    status: RunStatus,
    now: datetime,
) -> None:
    """Record the failure with what the run did before it: the batches it published still load."""
    record.extract = replace(extracted.extract)
    record.batches = list(extracted.batches)
    record.error = failure
    move(record, event, status)
    if status.finished:
        record.finished_at = now


class _Extraction:
    """The read → validate → transform → stage → publish loop of one run."""

    def __init__(
        self,
        engine: SyncEngine,
        stream: Stream[Any],
        record: RunRecord,
        request: SyncRequest,
    ) -> None:
        self._next_progress = 0.0
        self._next_checkpoint = 0.0
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
        self.writer = BatchWriter(stream.batch_rows, stream.batch_bytes, prefix=batch_prefix(record.attempts))
        self.in_flight: deque[Future[None]] = deque()
        self.stager = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"stage-{stream.name}")
        self.quarantine = Quarantine(stream.name, stream.max_bad_rows)
        self.columns = ColumnValidator(stream.model)
        self.key_of = _key_getter(stream.key)
        self.last_cursor: Any = None
        self.plan: ReadPlan | None = None
        self.kept: dict[str, str] = {}  # a change read's fingerprints of records it does not touch
        self.told = told.ExtractionProgress(record, self.window)

    def _typed(self, value: Any) -> Any:
        return value if value is None or self.cursor_type is None else self.cursor_type.validate_python(value)

    def _window(self, request: SyncRequest) -> ReadWindow:
        if self.mode is RunMode.BACKFILL:
            if request.window is None:
                raise ValueError("a backfill needs an explicit window (start and/or end)")
            return self._resumed(request.window)
        if self.mode is RunMode.INCREMENTAL and self.stream.cursor is not None:
            return ReadWindow(start=window_start(self.watermark, self.stream.lookback))
        return ReadWindow()

    def _resumed(self, window: ReadWindow) -> ReadWindow:
        """A resumed backfill reads on from the last cursor its earlier attempts published, not from the start.

        A backfill keeps no watermark, but its run record keeps the batches it
        published (with their cursor range), so a year's backfill that fails in
        October starts again at the day of its last published batch: that day
        is read again, which keyed upserts make harmless.
        """
        published = [
            self._typed(batch.cursor_max) for batch in self.record.batches if batch.cursor_max is not None
        ]
        if self.stream.cursor is None or not published:
            return window
        start = self._typed(window.start)
        return replace(window, start=max(published) if start is None else max(start, *published))

    def run(self) -> None:
        record = self.record
        record.window_start, record.window_end = _json(self.window.start), _json(self.window.end)
        record.watermark_before = self.state.watermark
        previous = {key_from_text(text): digest for text, digest in self.state.fingerprints.items()}
        compare = previous if self.mode is RunMode.INCREMENTAL else {}
        if self.stream.changes is not None and self.mode is not RunMode.BACKFILL:
            self.plan = plan_read(
                self.stream.changes,
                self.state.change_version,
                self.state.full_read_at,
                self.engine.now(),
                incremental=self.mode is RunMode.INCREMENTAL,
            )
            record.change_tracking = self.plan.read
            if (affects := self.plan.affects) is not None:
                fingerprints = self.state.fingerprints.items()
                self.kept = {text: d for text, d in fingerprints if not affects(key_from_text(text))}
        self.told.started()
        try:
            self._read_and_stage(previous, compare)
        finally:
            self.stager.shutdown(wait=True, cancel_futures=False)
        self.told.finished()
        record.quarantine_path = self.quarantine.write(self.engine.staging, record.id)
        record.watermark_after = self.state.watermark

    def _read_and_stage(self, previous: dict[Key, str], compare: dict[Key, str]) -> None:
        """Each page by column when the stream allows it (``shared.pipeline.pages``), else row by row."""
        transform_page, read = self.stream.transform_page, 0
        pages = self._pages()
        try:
            for page in pages:
                if (
                    transform_page is not None
                    and isinstance(page, Page)
                    and (valid := self.columns.check(page)) is not None
                ):
                    read = self._stage_valid_page(transform_page(valid), valid, read, compare)
                else:
                    read = self._stage_rows(page, read, compare)
        finally:
            self._tally(read)
        if isinstance(pages, ReportingRead):
            self._keep_report(pages.report())
        self._stage_deletes(previous)
        self._hand_over(final=True)
        while self.in_flight:
            self.in_flight.popleft().result()

    def _keep_report(self, report: ReadReport) -> None:
        path = f"reports/{self.stream.name}/{self.record.id}.json"
        self.engine.staging.put(path, orjson.dumps(report.detail), content_settings=_JSON)
        self.record.report, self.record.report_path = report.summary, path

    def _saw(self) -> Callable[[Key, bytes, Any], None]:
        """How the loop remembers a record it stages. A backfill writes no state, so it need not remember
        what it sent: its memory stays flat however long its window (a full-read stream would otherwise
        keep a digest per record)."""
        return _remember_nothing if self.mode is RunMode.BACKFILL else self.sent.saw

    def _stage_rows(self, page: Sequence[Row], read: int, compare: dict[Key, str]) -> int:
        """The hot loop, row by row: a few microseconds a row, so lookups are hoisted and work is skipped
        when it can be. Returns the rows read so far."""
        stream, counts = self.stream, self.record.extract
        validate = stream.model.__pydantic_validator__.validate_python
        transform, key_of = stream.transform, self.key_of
        cursor_field, last_cursor = stream.cursor, self.last_cursor
        saw, add = self._saw(), self.writer.add_encoded
        try:
            for row in page:
                read += 1
                try:
                    model = validate(row)
                except ValidationError as error:
                    counts.quarantined += 1
                    self.quarantine.add(row, reasons(error), read)
                    continue
                target = transform(model)
                if target is None:
                    counts.skipped += 1
                    continue
                cursor = None
                if cursor_field is not None:
                    cursor = getattr(model, cursor_field)
                    if cursor is None or (last_cursor is not None and cursor < last_cursor):
                        self._out_of_order(cursor, last_cursor, read)
                    last_cursor = cursor
                key, body = key_of(target), encoded(target)
                saw(key, body, cursor)
                if key in compare and compare[key] == content_digest(body):
                    counts.unchanged += 1
                    continue
                if add(UPSERT, body, cursor):
                    self.last_cursor = last_cursor
                    self._tally(read)
                    self._hand_over()
        finally:
            self.last_cursor = last_cursor
        return read

    def _stage_valid_page(
        self, targets: Sequence[Record | None], page: ValidPage, read: int, compare: dict[Key, str]
    ) -> int:
        """``_stage_rows`` for a page that passed the model by column: ``targets`` are its records from
        ``transform_page``, its cursor values come from the checked cursor column.

        A page of records to send whole (no record left out, nothing to compare with, cursor values in
        order) is encoded and staged a batch's share at a time; any other goes record by record."""
        stream = self.stream
        if len(targets) != len(page):
            raise StreamDeclarationError(
                f"stream '{stream.name}': transform_page gave {len(targets)} records for {len(page)} rows"
            )
        cursors = None if stream.cursor is None else page.values(stream.cursor)
        if compare or None in targets or (cursors is not None and not _ascending(cursors, self.last_cursor)):
            return self._stage_records(targets, cursors, read, compare)
        records = cast(Sequence[Record], targets)
        start = 0
        while start < len(records):
            # Only what the batch has room for is encoded: lines wait in the batch, not in the page.
            part = records[start : start + self.writer.room]
            bodies, keys = list(map(encoded, part)), list(map(self.key_of, part))
            chunk = None if cursors is None else cursors[start : start + len(part)]
            taken, full = self.writer.add_encoded_many(UPSERT, bodies, chunk)
            if self.mode is not RunMode.BACKFILL:
                self.sent.saw_many(keys[:taken], bodies[:taken], None if chunk is None else chunk[:taken])
            start += taken
            if full:
                self.last_cursor = None if cursors is None else cursors[start - 1]
                self._tally(read + start)
                self._hand_over()
        if cursors:
            self.last_cursor = cursors[-1]
        return read + len(records)

    def _stage_records(
        self,
        targets: Sequence[Record | None],
        cursors: Sequence[Any] | None,
        read: int,
        compare: dict[Key, str],
    ) -> int:
        """The checked page's records one by one: counting those left out, comparing, checking order."""
        counts, cursor_field = self.record.extract, self.stream.cursor
        last_cursor, key_of = self.last_cursor, self.key_of
        saw, add = self._saw(), self.writer.add_encoded
        try:
            for target, cursor in zip(targets, cursors or repeat(None), strict=False):
                read += 1
                if target is None:
                    counts.skipped += 1
                    continue
                if cursor_field is not None:
                    if cursor is None or (last_cursor is not None and cursor < last_cursor):
                        self._out_of_order(cursor, last_cursor, read)
                    last_cursor = cursor
                key, body = key_of(target), encoded(target)
                saw(key, body, cursor)
                if key in compare and compare[key] == content_digest(body):
                    counts.unchanged += 1
                    continue
                if add(UPSERT, body, cursor):
                    self.last_cursor = last_cursor
                    self._tally(read)
                    self._hand_over()
        finally:
            self.last_cursor = last_cursor
        return read

    def _pages(self) -> Any:
        """The stream's own read, or the affected rows a change read found."""
        if self.plan is None or self.plan.pages is None:
            return self.stream.read(self.window)
        return self.plan.pages

    def _out_of_order(self, cursor: Any, last_cursor: Any, row_number: int) -> None:
        name, field = self.stream.name, self.stream.cursor
        if cursor is None:
            raise StreamDeclarationError(f"stream '{name}': row {row_number} has no {field}")
        raise StreamDeclarationError(
            f"stream '{name}': row {row_number} goes back from {last_cursor} to {cursor}; "
            f"its read() must order rows by {field}"
        )

    def _stage_deletes(self, previous: dict[Key, str]) -> None:
        if not self.stream.deletes or self.mode is RunMode.BACKFILL:
            return
        affects = None if self.plan is None else self.plan.affects
        in_question = previous.keys() if affects is None else {key for key in previous if affects(key)}
        vanished = sorted(in_question - self.sent.keys())
        if previous and len(vanished) > len(previous) * self.stream.max_delete_fraction:
            raise TooManyDeletesError(
                f"stream '{self.stream.name}': {len(vanished)} of {len(previous)} records vanished from the "
                f"source, more than the {self.stream.max_delete_fraction:.0%} allowed; check the source"
            )
        for key in vanished:
            self.record.extract.deletes_staged += 1
            if self.writer.add(DELETE, dict(zip(self.stream.key, key, strict=True))):
                self._hand_over()

    def _tally(self, read: int) -> None:
        """Counts the loop does not keep per row, derived from the ones it does."""
        counts = self.record.extract
        counts.read = read
        counts.valid = read - counts.quarantined
        counts.staged = counts.valid - counts.skipped - counts.unchanged

    def _hand_over(self, final: bool = False) -> None:
        """Give a full batch, and the state it completes, to the staging thread.

        Reading goes on while the previous batch is compressed, uploaded,
        published and checkpointed, in that order, on one thread. The watermark
        is checkpointed every ``_CHECKPOINT_EVERY_SECONDS`` and at the end. At most
        ``_IN_FLIGHT`` batches wait, so memory stays bounded; a failure there
        surfaces here at the next hand-over.
        """
        pending = self.writer.take()
        due = final or (self.stream.cursor is not None and time.monotonic() >= self._next_checkpoint)
        state = self._next_state() if due and self.mode is not RunMode.BACKFILL else None
        if state is not None:
            self._next_checkpoint = time.monotonic() + _CHECKPOINT_EVERY_SECONDS
        if pending is None and state is None:
            return
        # The staging thread works in this context: its spans are the extraction's, its logs the run's.
        counts = replace(self.record.extract)  # as they stand when the batch is taken, for its progress line
        self.in_flight.append(
            self.stager.submit(contextvars.copy_context().run, self._stage, pending, state, counts)
        )
        while len(self.in_flight) > _IN_FLIGHT or (self.in_flight and self.in_flight[0].done()):
            self.in_flight.popleft().result()

    def _stage(self, pending: PendingBatch | None, state: StreamState | None, counts: ExtractCounts) -> None:
        if pending is not None:
            with span(names.SPAN_STAGE_BATCH) as current:
                batch = stage_batch(self.engine.staging, self.stream.name, self.record.id, pending)
                current.set_attributes({names.BATCH_ID: batch.id, names.RECORDS: batch.count})
                self.engine.publish(self.record, batch)
            self.record.batches.append(batch)
            self.told.batch_published(len(self.record.batches), counts, pending.cursor_max)
            if time.monotonic() >= self._next_progress:
                self.engine.runs.update(self.record.id, self._progress)
                self._next_progress = time.monotonic() + _PROGRESS_EVERY_SECONDS
        if state is not None:
            self.etag = self.engine.states.write(self.stream.name, state, self.etag)

    def _progress(self, latest: RunRecord) -> None:
        """Keep the stored record's batch list current, so a run killed mid-way still shows its batches."""
        latest.batches = list(self.record.batches)
        latest.extract = replace(self.record.extract)
        latest.heartbeat_at = self.engine.now()

    def _next_state(self) -> StreamState | None:
        """The state once the batch just taken is published; None when nothing moved (no write)."""
        watermark = self.last_cursor if self.last_cursor is not None else self.watermark
        state = StreamState(
            watermark=_json(watermark),
            fingerprints=self.kept | self.sent.snapshot(),
            last_run_id=self.record.id,
            updated_at=self.engine.now(),
        )
        if self.plan is not None:
            read = self.plan.read
            state.change_version = read.version_after
            state.full_read_at = self.engine.now() if read.fell_back_to_full_read else self.state.full_read_at
        if (state.watermark, state.fingerprints, state.change_version, state.full_read_at) == (
            self.state.watermark,
            self.state.fingerprints,
            self.state.change_version,
            self.state.full_read_at,
        ):
            return None
        self.state = state
        return state


def _remember_nothing(*_: Any) -> None:
    """What a backfill does with each record it stages, in place of ``SentRecords.saw``."""


def _about(record: RunRecord) -> dict[str, Dimension | None]:
    return {names.STREAM: record.stream, names.RUN_ID: record.id, names.SYNC_MODE: record.mode.value}


def _extracted(record: RunRecord) -> dict[str, Dimension]:
    """The extraction's counts as span attributes: ``hub.rows.read``, ``hub.rows.staged`` ..."""
    counts = record.extract
    tallies = {"read": counts.read, "valid": counts.valid, "quarantined": counts.quarantined}
    tallies |= {"unchanged": counts.unchanged, "staged": counts.staged, "batches": len(record.batches)}
    return {f"{names.ROWS}.{stage}": count for stage, count in tallies.items()}


def _ascending(cursors: Sequence[Any], after: Any) -> bool:
    """True when no value is None and each is at least the one before it (and ``after``, if any)."""
    if None in cursors or (after is not None and cursors[0] < after):
        return False
    return all(map(operator.le, cursors, islice(cursors, 1, None)))


def batch_prefix(attempt: int) -> str:
    """Batch ids differ between a run's attempts, so a resumed run's batches never meet the markers of
    the batches its earlier attempt published: ``b00001`` on the first attempt, ``a2b00001`` on the second."""
    return "b" if attempt <= 1 else f"a{attempt}b"


def _key_getter(fields: tuple[str, ...]) -> Callable[[dict[str, Any]], Key]:
    """A fast key reader; a record missing a key field fails with the field's name (KeyError)."""
    if len(fields) == 1:
        (field,) = fields
        return lambda record: (record[field],)
    return operator.itemgetter(*fields)


def _json(value: Any) -> Any:
    return None if value is None else orjson.loads(orjson.dumps(value))
