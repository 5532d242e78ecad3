"""Starting syncs from the API: queue the run through the pipeline, or say which run holds the stream.

The work happens on the ``sync-requests`` queue's trigger, not inside the
HTTP call (Functions answers HTTP within 230 s; a sync can take longer). The
pipeline's ``RunQueue`` writes the run record as queued and publishes its
request, so the status URL given to the caller answers from the first moment;
a stream with a queued or running run answers 409 naming it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from typing import Any

from pydantic import ValidationError

from shared.api import models
from shared.api.problems import FieldError, ProblemError, validation_problem
from shared.api.runs import RunViews, view_of_record
from shared.pipeline.requests import SyncRequestMessage
from shared.pipeline.run_queue import AlreadyRunningError, RunQueue
from shared.pipeline.run_table import RunTable
from shared.pipeline.stream import StreamCatalog
from shared.pipeline.stream_state_table import StreamProgress, StreamStateTable
from shared.platform.table_store import key_part
from shared.query_values import cursor_bound


class SyncDesk:
    """Accepts sync requests and describes each stream's progress."""

    def __init__(
        self,
        catalog: StreamCatalog,
        queue: RunQueue,
        runs: RunTable,
        states: StreamStateTable,
        schedules: Mapping[str, str],
        now: Callable[[], datetime],
    ) -> None:
        self._catalog = catalog
        self._queue = queue
        self._schedules = dict(schedules)
        self._now = now
        self.runs = RunViews(runs)
        self._runs = runs
        self._states = states

    def start(
        self, stream: str, start: models.SyncStart, requested_by: str, correlation_id: str | None = None
    ) -> models.Run:
        self._known(stream)
        try:
            message = SyncRequestMessage(
                stream=stream,
                mode=start.mode,
                trigger="api",
                window_start=_bound(start.window_start, "windowStart"),
                window_end=_bound(start.window_end, "windowEnd"),
                replay_of=start.replay_of,
            )
        except ValidationError as error:
            raise validation_problem(error, "body") from None
        if message.mode == "backfill":
            _check_window(message.window_start, message.window_end)
        if message.mode == "replay":
            past = self.runs.record(message.replay_of or "")
            if past is None or past.stream != stream:
                raise ProblemError(400, "validation", f"replayOf must name a past run of '{stream}'.")
        try:
            record = self._queue.queue(
                message.to_request(), requested_by=requested_by, correlation_id=correlation_id
            )
        except AlreadyRunningError as running:
            raise ProblemError(
                409,
                "sync-running",
                f"'{stream}' is queued or running already as run {running.run_id}; "
                f"poll /api/v1/runs/{running.run_id}.",
            ) from None
        return view_of_record(record)

    def replay(self, run_id: str, requested_by: str) -> models.Run:
        past = self.runs.record(run_id)
        if past is None:
            raise ProblemError(
                404, "run-not-found", f"There is no finished or running run '{run_id}' to replay."
            )
        return self.start(past.stream, models.SyncStart(mode="replay", replayOf=run_id), requested_by)

    def list(self) -> models.SyncList:
        """Every stream with its progress and its newest run: two queries, whatever the number of streams."""
        progress = self._states.progress()
        latest = self._runs.latest_per_stream()
        syncs = []
        for stream in self._catalog:
            state = progress.get(key_part(stream.name), StreamProgress(None, None))
            last = latest.get(stream.name)
            syncs.append(
                models.Sync(
                    stream=stream.name,
                    target=stream.target.name,
                    cursor=stream.cursor,
                    schedule=self._schedules.get(stream.name),
                    watermark=state.watermark,
                    lag_seconds=self._lag(state.watermark),
                    last_run_id=last.id if last else state.last_run_id,
                    last_run_status=last.status.value if last else None,
                    last_run_started_at=last.started_at if last else None,
                )
            )
        return models.SyncList(value=syncs)

    def _known(self, stream: str) -> None:
        try:
            self._catalog.get(stream)
        except KeyError as unknown:
            raise ProblemError(404, "stream-not-found", str(unknown.args[0])) from None

    def _lag(self, watermark: Any) -> int | None:
        moment: datetime | None = None
        if isinstance(watermark, str):
            try:
                moment = datetime.fromisoformat(watermark)
            except ValueError:
                return None
        elif isinstance(watermark, datetime):
            moment = watermark
        elif isinstance(watermark, date):
            moment = datetime(watermark.year, watermark.month, watermark.day)
        if moment is None:
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return max(0, int((self._now() - moment).total_seconds()))


def _bound(text: str | None, name: str) -> date | datetime | int | None:
    try:
        return None if text is None else cursor_bound(text)
    except ValueError as wrong:
        raise ProblemError(
            400,
            "validation",
            f"{name} is not {wrong}.",
            errors=[FieldError(field=f"body.{name}", message=str(wrong))],
        ) from None


def _check_window(start: date | datetime | int | None, end: date | datetime | int | None) -> None:
    """A backfill reads start (included) up to end (excluded): an empty or backwards window reads nothing."""
    if start is None and end is None:
        raise ProblemError(400, "validation", "A backfill needs windowStart, windowEnd or both.")
    if start is None or end is None:
        return
    try:
        forwards = type(start) is type(end) and start < end  # type: ignore[operator]
    except TypeError:  # a time with a zone against one without
        forwards = False
    if not forwards:
        raise ProblemError(
            400, "validation", f"windowStart ({start}) must be before windowEnd ({end}), which is excluded, "
            "and of the same kind: two dates, two times with or without a zone, or two numbers.",
        )  # fmt: skip
