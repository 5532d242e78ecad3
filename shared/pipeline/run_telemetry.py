"""A run's figures in the metrics, once, as it settles; and each stream's lag, on every watchdog pass.

``count_settled`` observes the run stores' writes (``RunObserver``), with
the record before and after each: a run that moves from an unfinished
status to a final one is counted then, and only then, so the
metrics of a run equal its record (``hub.sync.rows`` by stage, ``hub.sync.runs``
by outcome, ``hub.sync.run.duration``). A dead-lettered run whose batch is
resubmitted and loads settles a second time from one final status to
another; it is not counted again.

A stream's lag is how long ago its newest succeeded (or partially failed) run
finished: what its target reflects. It is 0 as such a run settles, and the
watchdog records it for every scheduled stream, so a stream that stops
running shows a growing lag an alert can see.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from shared.telemetry import meters, names

if TYPE_CHECKING:  # the record's module is the engine's base; its types are for the checker only
    from shared.pipeline.run_record import RunRecord

_MOVED_DATA = ("succeeded", "partially_failed")  # RunStatus values: the runs that moved data


class RunPages(Protocol):
    """What the lag needs of the run store: its newest runs of one stream and status (``RunTable``)."""

    def newest(self, stream: str, status: str) -> RunRecord | None: ...


def count_settled(before: RunRecord | None, after: RunRecord) -> None:
    """Count the run if this write settled it."""
    if (before is not None and before.status.finished) or not after.status.finished:
        return
    stream, mode = after.stream, after.mode.value
    meters.record(
        names.RUNS_SETTLED,
        1,
        {
            names.STREAM: stream,
            names.OUTCOME: after.status.value,
            names.SYNC_MODE: mode,
            names.TRIGGER: after.trigger,
        },
    )
    began = after.queued_at or after.started_at
    if began is not None and after.finished_at is not None:
        seconds = (after.finished_at - began).total_seconds()
        meters.record(names.RUN_DURATION, seconds, {names.STREAM: stream, names.OUTCOME: after.status.value})
    for stage, count in row_counts(after).items():
        meters.record(
            names.ROWS_MOVED, count, {names.STREAM: stream, names.ROW_STAGE: stage, names.SYNC_MODE: mode}
        )
    if after.status in _MOVED_DATA:
        meters.record(names.STREAM_LAG, 0, {names.STREAM: stream})


def row_counts(record: RunRecord) -> dict[str, int]:
    """The record's counts by ``names.ROW_STAGES``: loaded is what the target wrote (created, updated,
    upserted, deleted), rejected what it refused (rejected, conflicts, not found)."""
    extract, load = record.extract, record.load
    return {
        "read": extract.read,
        "valid": extract.valid,
        "quarantined": extract.quarantined,
        "skipped": extract.skipped,
        "unchanged": extract.unchanged,
        "staged": extract.staged,
        "loaded": load.upserted + load.created + load.updated + load.deleted,
        "rejected": load.rejected + load.conflicts + load.not_found,
    }


def record_lags(runs: RunPages, streams: Iterable[str], now: datetime) -> dict[str, float]:
    """Each stream's lag in seconds, recorded as ``hub.sync.lag``; a stream that never moved data has none."""
    lags = {}
    for stream in streams:
        finished = [
            run.finished_at
            for status in _MOVED_DATA
            if (run := runs.newest(stream, status)) is not None and run.finished_at is not None
        ]
        if finished:
            lags[stream] = (now - max(finished)).total_seconds()
            meters.record(names.STREAM_LAG, lags[stream], {names.STREAM: stream})
    return lags
