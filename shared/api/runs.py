"""Runs as the API shows them, read from the run records: queued ones included, since queueing writes one.

The pipeline writes a run's record when the run is queued
(``shared.pipeline.run_queue``), so a caller polling ``Location`` sees
"queued" from the first moment, and every later status comes from the same
record.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

import orjson

from shared.api import models
from shared.api.problems import ProblemError
from shared.pipeline.run_record import RunRecord, RunRecords

_MAX_PROBLEMS = 100
SCAN_LIMIT = 200  # runs one page may read (the largest top); see RunViews.page
_READERS = 8
_ID_TIME_LENGTH = len("20261128T103700Z")


def view_of_record(record: RunRecord) -> models.Run:
    return models.Run(
        id=record.id,
        stream=record.stream,
        mode=record.mode.value,
        trigger=record.trigger,
        status=record.status.value,
        queued_at=record.queued_at,
        started_at=record.started_at,
        extract_finished_at=record.extract_finished_at,
        finished_at=record.finished_at,
        window_start=record.window_start,
        window_end=record.window_end,
        watermark_before=record.watermark_before,
        watermark_after=record.watermark_after,
        extract=models.ExtractCountsView(**asdict(record.extract)),
        load=models.LoadCountsView(**asdict(record.load)),
        batches=models.BatchesView(
            staged=len(record.batches), loaded=len(record.loaded_batches), expected=record.batches_expected
        ),
        quarantined_rows=record.extract.quarantined,
        quarantine_path=record.quarantine_path,
        problems=[
            models.RecordProblemView(**problem.model_dump()) for problem in record.problems[:_MAX_PROBLEMS]
        ]
        or None,
        error_class=record.error.error_class if record.error else None,
        error_message=record.error.message if record.error else None,
        replay_of=record.replay_of,
        attempts=record.attempts,
        next_attempt_at=record.next_attempt_at,
    )


def stream_of(run_id: str) -> str:
    """The stream named inside a run id (``<time>-<stream>-<8 hex>``)."""
    return run_id[_ID_TIME_LENGTH + 1 : -9]


def started_of(run_id: str) -> datetime | None:
    try:
        return datetime.strptime(run_id[:_ID_TIME_LENGTH], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        return None


class RunViews:
    """Reads runs for the API from the run records."""

    def __init__(self, records: RunRecords) -> None:
        self._records = records

    def record(self, run_id: str) -> RunRecord | None:
        return self._records.get(run_id)

    def get(self, run_id: str) -> models.Run | None:
        return self._matching(run_id, None)

    def page(self, query: models.RunQuery) -> tuple[list[models.Run], str | None]:
        """Newest first; the continuation token is the last id looked at, so pages never overlap.

        A filter that matches few runs could otherwise read every run record
        in one call and outlast the caller's time-out; each page reads at most
        ``SCAN_LIMIT`` runs, several at a time, and hands back a token to go
        on from, so a page may hold fewer than ``top`` runs and not be the last.
        """
        candidates, more = self._candidates(query)
        found: list[models.Run] = []
        step = max(query.top, _READERS)
        with ThreadPoolExecutor(max_workers=_READERS) as readers:
            for first in range(0, len(candidates), step):
                chunk = candidates[first : first + step]
                runs = readers.map(lambda run_id: self._matching(run_id, query.status), chunk)
                for run_id, run in zip(chunk, runs, strict=True):
                    if run is None:
                        continue
                    found.append(run)
                    if len(found) == query.top:
                        return found, _encode_token(run_id)
        return found, _encode_token(candidates[-1]) if more else None

    def _candidates(self, query: models.RunQuery) -> tuple[list[str], bool]:
        """Up to ``SCAN_LIMIT`` ids that pass the filters the id itself answers; True if more follow."""
        after = _decode_token(query.continuation_token)
        candidates: list[str] = []
        for run_id in self._ids_newest_first():
            if after is not None and run_id >= after:
                continue
            if query.stream is not None and stream_of(run_id) != query.stream:
                continue
            started = started_of(run_id)
            if query.since is not None and (started is None or started < _utc(query.since)):
                break  # ids sort by start time, so every later one is older still
            if len(candidates) == SCAN_LIMIT:
                return candidates, True
            candidates.append(run_id)
        return candidates, False

    def _matching(self, run_id: str, status: str | None) -> models.Run | None:
        record = self._records.get(run_id)
        if record is None or (status is not None and record.status.value != status):
            return None
        return view_of_record(record)

    def _ids_newest_first(self) -> Iterator[str]:
        yield from sorted(self._records.ids(), reverse=True)


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _encode_token(run_id: str) -> str:
    return base64.urlsafe_b64encode(orjson.dumps({"after": run_id})).decode("ascii")


def _decode_token(token: str | None) -> str | None:
    if token is None:
        return None
    try:
        value: Any = orjson.loads(base64.urlsafe_b64decode(token.encode("ascii")))
    except (binascii.Error, orjson.JSONDecodeError, UnicodeError, ValueError):
        value = None
    if not isinstance(value, dict) or not isinstance(value.get("after"), str):
        raise ProblemError(400, "validation", "continuationToken is not one this API gave out.")
    return str(value["after"])
