"""Runs as the API shows them, read from the run table: queued ones included, since queueing writes one.

The pipeline writes a run's record when the run is queued
(``shared.pipeline.run_queue``), so a caller polling ``Location`` sees
"queued" from the first moment, and every later status comes from the same
record. A page of ``GET /v1/runs`` is one query of the table, whatever the
filter (``shared.pipeline.run_table``).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

import orjson

from shared.api import models
from shared.api.problems import ProblemError
from shared.pipeline.run_record import RunRecord
from shared.pipeline.run_table import RunTable

_MAX_PROBLEMS = 100


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
        change_tracking=(
            None
            if record.change_tracking is None
            else models.ChangeTrackingView(**record.change_tracking.model_dump())
        ),
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


class RunViews:
    """Reads runs for the API from the run table: each page is one query (``RunTable.page``)."""

    def __init__(self, records: RunTable) -> None:
        self._records = records

    def record(self, run_id: str) -> RunRecord | None:
        return self._records.get(run_id)

    def get(self, run_id: str) -> models.Run | None:
        record = self._records.get(run_id)
        return None if record is None else view_of_record(record)

    def page(self, query: models.RunQuery) -> tuple[list[models.Run], str | None]:
        """Newest first, filtered by stream, status and start time; the token goes on where this page ended."""
        found = self._records.page(
            stream=query.stream,
            status=query.status,
            since=_utc(query.since) if query.since is not None else None,
            top=query.top,
            continuation=_decode_token(query.continuation_token),
        )
        token = _encode_token(found.continuation) if found.continuation else None
        return [view_of_record(record) for record in found.records], token


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _encode_token(continuation: Mapping[str, str]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(dict(continuation))).decode("ascii")


def _decode_token(token: str | None) -> dict[str, str] | None:
    if token is None:
        return None
    try:
        value: Any = orjson.loads(base64.urlsafe_b64decode(token.encode("ascii")))
    except (binascii.Error, orjson.JSONDecodeError, UnicodeError, ValueError):
        value = None
    if (
        not isinstance(value, dict)
        or not value
        or not all(isinstance(name, str) and isinstance(part, str) for name, part in value.items())
    ):
        raise ProblemError(400, "validation", "continuationToken is not one this API gave out.")
    return value
