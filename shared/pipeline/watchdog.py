"""The watchdog: every few minutes, moves on the runs and GP postings whose worker or message was lost.

Retries and redeliveries end almost every run and posting by themselves. What
they cannot see is work nobody holds: a request whose message never got
published (the process died between record and send), a worker killed in the
middle of an extraction whose message was then dead-lettered by Service Bus,
batch loads whose counting was lost. The watchdog looks only at what is
unfinished (each stream's active run, the GP postings' active index), so a
pass costs a few reads, and for each:

* a queued or retrying run whose request is overdue, and a running run whose
  worker has stopped (its stream lease lapsed, no heartbeat), has its request
  published again: the next worker claims it and resumes from the checkpoint;
* a loading run counts batches whose marker says they loaded, republishes the
  load messages of batches that stalled, and is dead-lettered with the list of
  missing batches when they have not loaded after ``LOADING_GIVE_UP``;
* a finished run's slot is given back;
* a GP posting still queued, running or retrying long after its last change
  has its message published again (posting it twice posts nothing twice).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from shared.pipeline import progress as told
from shared.pipeline.load import BatchLoader, LoadBatchMessage
from shared.pipeline.run_queue import RunQueue
from shared.pipeline.run_record import RunError, RunRecord, RunStatus
from shared.pipeline.run_states import RunEvent, move
from shared.pipeline.run_telemetry import RunPages, record_lags
from shared.pipeline.sync import SyncEngine, stream_lock
from shared.telemetry import names
from shared.telemetry.spans import span

log = logging.getLogger(__name__)

QUEUED_OVERDUE = timedelta(minutes=10)  # a queued or retrying request not picked up by then was lost
WORKER_SILENT = timedelta(minutes=2)  # an extraction writes its heartbeat every few seconds
LOADING_STALLED = timedelta(minutes=15)  # no batch counted for this long: republish the missing ones
LOADING_GIVE_UP = timedelta(hours=24)
POSTING_OVERDUE = timedelta(minutes=30)


@dataclass
class WatchReport:
    """What one pass did, by run or request id: for the log, and for tests."""

    republished: list[str] = field(default_factory=list)
    batches_counted: list[str] = field(default_factory=list)
    batches_republished: list[str] = field(default_factory=list)
    dead_lettered: list[str] = field(default_factory=list)
    slots_released: list[str] = field(default_factory=list)
    postings_republished: list[str] = field(default_factory=list)

    def in_words(self) -> str:
        """What the pass did in words, with the ids: ``2 run request(s) published again (a, b); ...``.

        Empty when it did nothing, so a quiet pass writes no line.
        """
        done = (
            ("run request(s) published again", self.republished),
            ("lost batch count(s) recovered", self.batches_counted),
            ("stalled batch(es) published again", self.batches_republished),
            ("run(s) dead-lettered after their batches never loaded", self.dead_lettered),
            ("finished run(s) gave back their stream's slot", self.slots_released),
            ("GP posting(s) published again", self.postings_republished),
        )
        return "; ".join(f"{len(ids)} {what} ({', '.join(ids)})" for what, ids in done if ids)


class OverduePostings(Protocol):
    """What the watchdog needs of GP postings (``GpPostings`` is one, when GP is configured)."""

    def overdue(self, older_than: datetime) -> list[str]: ...

    def republish(self, request_id: str) -> None: ...


class Watchdog:
    def __init__(
        self,
        engine: SyncEngine,
        queue: RunQueue,
        loader: BatchLoader,
        now: Callable[[], datetime],
        postings: Callable[[], OverduePostings | None],
        lag_of: tuple[RunPages, tuple[str, ...]] | None = None,
    ) -> None:
        """``lag_of``: the run store to read settled runs from, and the scheduled streams whose lag to record."""
        self._engine = engine
        self._queue = queue
        self._loader = loader
        self._now = now
        self._postings = postings
        self._lag_of = lag_of

    def sweep(self) -> WatchReport:
        with span(names.SPAN_WATCHDOG):
            report = self._sweep()
            if self._lag_of is not None:
                runs, streams = self._lag_of
                record_lags(runs, streams, self._now())
        return report

    def _sweep(self) -> WatchReport:
        report = WatchReport()
        for stream, run_id in self._queue.slots.holders().items():
            record = self._engine.runs.get(run_id)
            if record is None:
                continue  # a start in progress, or a stale slot the next start replaces
            if record.status.finished:
                self._queue.slots.release(stream, run_id)
                report.slots_released.append(run_id)
                continue
            self._watch(record, report)
        postings = self._postings()
        if postings is not None:
            for request_id in postings.overdue(self._now() - POSTING_OVERDUE):
                postings.republish(request_id)
                report.postings_republished.append(request_id)
                log.warning("Watchdog published GP posting %s again", request_id)
        return report

    def _watch(self, record: RunRecord, report: WatchReport) -> None:
        now = self._now()
        if record.status is RunStatus.LOADING:
            self._watch_loading(record, report, now)
            return
        if record.status is RunStatus.RUNNING:
            alive = self._engine.locks.holder(stream_lock(record.stream)) == record.id
            silent = record.heartbeat_at is None or now - record.heartbeat_at > WORKER_SILENT
            if alive or not silent:
                return
        elif record.status is RunStatus.QUEUED:
            if record.queued_at is not None and now - record.queued_at < QUEUED_OVERDUE:
                return
        elif record.status is RunStatus.RETRYING:
            due = record.next_attempt_at or record.heartbeat_at
            if due is not None and now - due < QUEUED_OVERDUE:
                return
        self._engine.runs.update(record.id, lambda latest: _noticed(latest, now))
        self._queue.publish(record)
        report.republished.append(record.id)
        log.warning("Watchdog published the request of run %s (%s) again", record.id, record.status.value)

    def _watch_loading(self, record: RunRecord, report: WatchReport, now: datetime) -> None:
        accounted = set(record.loaded_batches) | set(record.dead_lettered_batches)
        missing = [batch for batch in record.batches if batch.id not in accounted]
        for batch in list(missing):
            result = self._loader.counted(record.id, batch.id)
            if result is not None:
                record = self._loader.count(record.id, result)
                missing.remove(batch)
                report.batches_counted.append(f"{record.id}.{batch.id}")
        if not missing or record.status.finished:
            return
        quiet_since = record.heartbeat_at or record.extract_finished_at or now
        if now - (record.extract_finished_at or now) > LOADING_GIVE_UP:
            names = ", ".join(batch.id for batch in missing)
            failure = RunError(error_class="transient", message=f"batches never loaded: {names}")
            given_up = self._engine.runs.update(record.id, lambda latest: _give_up(latest, failure, now))
            if given_up.status.finished:
                self._queue.slots.release(given_up.stream, given_up.id)
                told.run_finished(given_up)
            report.dead_lettered.append(record.id)
            return
        if now - quiet_since < LOADING_STALLED:
            return
        for batch in missing:
            self._engine.publish(record, batch)
            report.batches_republished.append(
                LoadBatchMessage(run_id=record.id, stream=record.stream, batch=batch).message_id
            )
        self._engine.runs.update(record.id, lambda latest: _noticed(latest, now))
        log.warning("Watchdog published %d stalled batch(es) of run %s again", len(missing), record.id)


def _noticed(record: RunRecord, now: datetime) -> None:
    """The watchdog acted at ``now``: the run gets as long again before it is looked at."""
    record.heartbeat_at = now
    if record.status is RunStatus.RETRYING:
        record.next_attempt_at = now


def _give_up(record: RunRecord, failure: RunError, now: datetime) -> None:
    if record.status is not RunStatus.LOADING:
        return
    record.error = failure
    record.dead_lettered_batches = [
        batch.id for batch in record.batches if batch.id not in record.loaded_batches
    ]
    move(record, RunEvent.DEAD_LETTERED, RunStatus.DEAD_LETTERED)
    record.finished_at = now
