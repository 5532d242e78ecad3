"""What a run tells the person watching it: a line per stage and per batch, and one line when it ends.

The lines go to this module's logger, so the Functions host's log, ``make
run``'s terminal and ``python -m localdev sync`` read the same words, and a log
search finds a run by its id. They are whole lines: no carriage returns, no
bars, nothing that turns to noise when the output is a file or Application
Insights. Counts are named for what they are (rows ``read`` from the source,
rows ``staged`` for loading, records ``upserted`` by the target); a rate comes
with every batch, and a time left once there is a way to know it: while
reading, from how far the cursor has come through the read window; while
loading, from the batches still to load.

The closing line of a run reads ``key=value`` pairs in a fixed order, so a
person scans it and a log query splits it.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # types only: the batch-loads trigger imports this module as the app is indexed
    from shared.pipeline.run_record import ExtractCounts, LoadCounts, RunRecord
    from shared.pipeline.stream import ReadWindow

log = logging.getLogger(__name__)

# How each load count reads in a line, in the order a person wants them.
_LOAD_WORDS = {
    "upserted": "upserted",
    "created": "created",
    "updated": "updated",
    "unchanged": "unchanged",
    "deleted": "deleted",
    "rejected": "rejected",
    "conflicts": "conflicts",
    "not_found": "not found",
}


def load_counts(counts: LoadCounts) -> str:
    """``10 upserted, 2 rejected``: the counts that are not zero, or ``nothing written``."""
    told = [
        f"{getattr(counts, name):,} {word}" for name, word in _LOAD_WORDS.items() if getattr(counts, name)
    ]
    return ", ".join(told) or "nothing written"


def written(counts: LoadCounts) -> int:
    """Records the target took: written, found unchanged, or deleted."""
    return counts.upserted + counts.created + counts.updated + counts.unchanged + counts.deleted


def refused(counts: LoadCounts) -> int:
    return counts.rejected + counts.conflicts + counts.not_found


class ExtractionProgress:
    """One extraction's lines: when reading starts, after each batch is published, and when it ends."""

    def __init__(self, record: RunRecord, window: ReadWindow) -> None:
        self._record = record
        self._window = window
        self._started = time.monotonic()
        self._first_cursor: Any = window.start

    def started(self) -> None:
        record, window = self._record, self._window
        reach = f" from {window.start}" if window.start is not None else ""
        reach += f" to {window.end}" if window.end is not None else ""
        log.info(
            "Run %s: reading %s (%s, attempt %d)%s",
            record.id,
            record.stream,
            record.mode.value,
            record.attempts,
            reach,
        )

    def batch_published(self, batch_number: int, counts: ExtractCounts, cursor: Any) -> None:
        """After each batch: the counts when it was taken, the reading rate and, when it can be told, the time left."""
        record = self._record
        if self._first_cursor is None:
            self._first_cursor = cursor
        seconds = max(time.monotonic() - self._started, 1e-6)
        left = _time_left(seconds, _share_read(self._first_cursor, cursor, self._window.end))
        log.info(
            "Run %s: batch %d published; %s read, %s valid, %s quarantined, %s staged; %s rows/s%s%s",
            record.id,
            batch_number,
            f"{counts.read:,}",
            f"{counts.valid:,}",
            f"{counts.quarantined:,}",
            f"{counts.staged:,}",
            f"{counts.read / seconds:,.0f}",
            "" if cursor is None else f"; cursor at {cursor}",
            "" if left is None else f"; about {left} left",
        )

    def finished(self) -> None:
        record, counts = self._record, self._record.extract
        log.info(
            "Run %s: read done in %.1f s; %s read, %s valid, %s quarantined, %s skipped, %s unchanged, "
            "%s staged and %s deletes in %d batches",
            record.id,
            time.monotonic() - self._started,
            f"{counts.read:,}",
            f"{counts.valid:,}",
            f"{counts.quarantined:,}",
            f"{counts.skipped:,}",
            f"{counts.unchanged:,}",
            f"{counts.staged:,}",
            f"{counts.deletes_staged:,}",
            len(record.batches),
        )


def batch_loaded(record: RunRecord, batch_id: str, counts: LoadCounts, now: datetime) -> None:
    """After a batch is counted in its run: what it wrote, the run's loading so far, rate and time left."""
    loaded = len(record.loaded_batches)
    seconds = _seconds(record.started_at, now)
    rate = loaded / seconds if seconds else None
    expected = record.batches_expected
    of = f" of {expected}" if expected is not None else ""
    left = None
    if rate and expected is not None and loaded < expected:
        left = _duration((expected - loaded) / rate)
    log.info(
        "Run %s: batch %s loaded (%s); %d%s batches, %s records written so far%s%s",
        record.id,
        batch_id,
        load_counts(counts),
        loaded,
        of,
        f"{written(record.load):,}",
        "" if rate is None else f"; {rate * 60:,.1f} batches/min",
        "" if left is None else f"; about {left} left",
    )


def run_finished(record: RunRecord) -> None:
    """The one closing line of a run, logged by whichever step gave it its final status."""
    extract, load = record.extract, record.load
    outcome = record.status.value
    if record.error is not None:
        outcome += f" ({record.error.error_class}: {record.error.message})"
    log.log(
        logging.INFO if record.error is None else logging.WARNING,
        "Run %s finished: stream=%s mode=%s read=%d valid=%d quarantined=%d skipped=%d unchanged=%d "
        "staged=%d deletes=%d loaded=%d refused=%d batches=%d/%d seconds=%.1f outcome=%s",
        record.id,
        record.stream,
        record.mode.value,
        extract.read,
        extract.valid,
        extract.quarantined,
        extract.skipped,
        extract.unchanged,
        extract.staged,
        extract.deletes_staged,
        written(load),
        refused(load),
        len(record.loaded_batches),
        len(record.batches),
        _seconds(record.started_at or record.queued_at, record.finished_at) or 0.0,
        outcome,
    )


def _share_read(first: Any, current: Any, end: Any) -> float | None:
    """How far through the read window the cursor is, 0 to 1; None when the cursor has no such measure.

    Dates and times measure against the window's end, or now when it has none (an
    incremental read goes up to the present); numbers only against an explicit end.
    """
    if end is None:
        if isinstance(current, datetime):
            end = datetime.now(UTC)
        elif isinstance(current, date):
            end = date.today()
    start, now, stop = _position(first), _position(current), _position(end)
    if start is None or now is None or stop is None or stop <= start:
        return None
    return min(max((now - start) / (stop - start), 0.0), 1.0)


def _position(value: Any) -> float | None:
    if isinstance(value, datetime):
        return value.timestamp() if value.tzinfo else value.replace(tzinfo=UTC).timestamp()
    if isinstance(value, date):
        return float(value.toordinal())
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def _time_left(seconds: float, share: float | None) -> str | None:
    if not share:
        return None
    return _duration(seconds * (1 - share) / share)


def _duration(seconds: float) -> str:
    """``45 s``, ``12 min``, ``3.5 h``: as precise as a person needs."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _seconds(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return max((end - start).total_seconds(), 0.0)
