"""Queueing a run: the one call the API, the timers and the sync chain use to ask for a sync.

``RunQueue.queue`` takes the stream's slot, writes the run record as
``queued`` and publishes the request on the sync-requests queue (message id =
run id). The slot is a create-only blob naming the stream's active run, so of
two starts racing for one stream exactly one conditional write wins and the
other is told which run it lost to (``AlreadyRunningError``, the API's 409);
the slot is given back when the run finishes. A start whose request cannot be
published removes its record and its slot again, so nobody waits on a run
that will never come.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

import orjson
from pydantic import BaseModel

from shared.errors import ErrorClass, HubError
from shared.pipeline.requests import SyncRequest, SyncRequestMessage
from shared.pipeline.run_record import RunMode, RunRecord, RunStatus, RunStore, new_run_id
from shared.pipeline.stream import StreamCatalog
from shared.platform.blob_store import BlobStore
from shared.platform.conflicts import StateConflictError
from shared.platform.service_bus import OutgoingMessage, ServiceBus, model_message
from shared.telemetry import names
from shared.telemetry.spans import span

_SLOTS = "active-runs/"
_TAKE_ATTEMPTS = 5
_RECORD_GRACE = timedelta(minutes=2)  # how long a new slot may wait for its run's record


def run_message(
    record: RunRecord, body: BaseModel, message_id: str, subject: str, at: datetime | None = None
) -> OutgoingMessage:
    """A message of ``record``'s run: its correlation id, and the stream and run every handler filters by."""
    return model_message(
        body,
        message_id=message_id,
        subject=subject,
        correlation_id=record.correlation_id or record.id,
        properties={"stream": record.stream, "run_id": record.id},
        at=at,
    )


class AlreadyRunningError(HubError):
    """Another run of the stream is queued or running; ``run_id`` is that run."""

    default_class = ErrorClass.BUSY

    def __init__(self, stream: str, run_id: str | None) -> None:
        super().__init__(f"stream '{stream}' is already running as run {run_id or '(unknown)'}")
        self.stream = stream
        self.run_id = run_id


class StreamSlots:
    """One active run per stream (``active-runs/<stream>.json`` in the state container)."""

    def __init__(self, state: BlobStore) -> None:
        self._state = state

    def take(self, stream: str, run_id: str, is_active: Callable[[str], bool | None], now: datetime) -> None:
        """Name ``run_id`` the stream's active run, or raise ``AlreadyRunningError`` naming the one that is.

        ``is_active`` says whether a run is unfinished (None: it has no record).
        A slot whose run has finished is stale, and so is one whose run never
        got its record within ``_RECORD_GRACE`` (its start died half-way): it is
        replaced, at its ETag, so a racing start still loses. A slot taken a
        moment ago whose record is still being written counts as held.
        """
        path = _SLOTS + stream + ".json"
        for _ in range(_TAKE_ATTEMPTS):
            held = self._state.read_json(path)
            if held is not None:
                holder = str(held.value.get("runId"))
                active = is_active(holder)
                if active is None:
                    taken_at = datetime.fromisoformat(
                        str(held.value.get("takenAt", "1970-01-01T00:00:00+00:00"))
                    )
                    active = now - taken_at < _RECORD_GRACE
                if active:
                    raise AlreadyRunningError(stream, holder)
            try:
                self._state.write_json(
                    path, {"runId": run_id, "takenAt": now.isoformat()}, held.etag if held else None
                )
            except StateConflictError:
                continue
            return
        raise StateConflictError(f"the slot of stream '{stream}' kept changing; try again")

    def release(self, stream: str, run_id: str) -> None:
        """Give the slot back if ``run_id`` still holds it; a slot another run took is left alone."""
        path = _SLOTS + stream + ".json"
        held = self._state.read_json(path)
        if held is None or held.value.get("runId") != run_id:
            return
        with contextlib.suppress(StateConflictError):
            self._state.delete(path, held.etag)

    def holder(self, stream: str) -> str | None:
        held = self._state.read_json(_SLOTS + stream + ".json")
        return None if held is None else str(held.value.get("runId"))

    def holders(self) -> dict[str, str]:
        """Every stream with an active run, and that run: what the watchdog looks after."""
        found = {}
        for path in self._state.list(_SLOTS):
            stream = path.removeprefix(_SLOTS).removesuffix(".json")
            holder = self.holder(stream)
            if holder is not None:
                found[stream] = holder
        return found


class RunQueue:
    """Records and publishes requested runs; republishes a run's request for the watchdog."""

    def __init__(
        self,
        catalog: StreamCatalog,
        records: RunStore,
        slots: StreamSlots,
        bus: ServiceBus,
        sync_requests_queue: str,
        now: Callable[[], datetime],
    ) -> None:
        self._catalog = catalog
        self.records = records
        self.slots = slots
        self._bus = bus
        self._queue = sync_requests_queue
        self._now = now

    def queue(
        self,
        request: SyncRequest,
        *,
        requested_by: str = "",
        correlation_id: str | None = None,
        then: Sequence[str] = (),
    ) -> RunRecord:
        """Queue one run of ``request.stream``; ``then`` are streams to queue, in order, once it is staged."""
        stream = self._catalog.get(request.stream).name
        now = self._now()
        run_id = request.run_id or new_run_id(stream, now)
        attributes = {
            names.STREAM: stream,
            names.RUN_ID: run_id,
            names.SYNC_MODE: request.mode.value,
            names.TRIGGER: request.trigger,
            names.CORRELATION_ID: correlation_id,
        }
        with span(names.SPAN_QUEUE_RUN, attributes):
            self.slots.take(stream, run_id, self._is_active, now)
            record = RunRecord(
                id=run_id,
                stream=stream,
                mode=request.mode,
                trigger=request.trigger,
                status=RunStatus.QUEUED,
                queued_at=now,
                requested_by=requested_by or None,
                correlation_id=correlation_id,
                then=list(then),
                window_start=_json(request.window.start) if request.window else None,
                window_end=_json(request.window.end) if request.window else None,
                replay_of=request.replay_of,
            )
            try:
                self.records.create(record)
                self.publish(record)
            except BaseException:
                with contextlib.suppress(Exception):
                    self.records.delete(run_id)
                self.slots.release(stream, run_id)
                raise
            return record

    def queue_in_order(
        self,
        streams: Sequence[str],
        trigger: str,
        *,
        requested_by: str = "",
        correlation_id: str | None = None,
    ) -> tuple[RunRecord | None, list[AlreadyRunningError]]:
        """Queue the first of ``streams`` that is free, the rest to follow it; and the busy ones passed over.

        A sync's streams run one after another (a job code before its site rows);
        a stream still busy from an earlier occurrence is skipped this time, not
        run twice at once.
        """
        busy = []
        for position, stream in enumerate(streams):
            try:
                record = self.queue(
                    SyncRequest(stream, trigger=trigger),
                    requested_by=requested_by,
                    correlation_id=correlation_id,
                    then=streams[position + 1 :],
                )
            except AlreadyRunningError as running:
                busy.append(running)
                continue
            return record, busy
        return None, busy

    def publish(self, record: RunRecord, at: datetime | None = None) -> None:
        """Send the run's request (again): the worker that gets it claims the record and goes on from there."""
        backfill = record.mode is RunMode.BACKFILL
        message = SyncRequestMessage(
            stream=record.stream,
            mode=record.mode,
            trigger=record.trigger,
            window_start=record.window_start if backfill else None,
            window_end=record.window_end if backfill else None,
            replay_of=record.replay_of,
            run_id=record.id,
            then=record.then,
        )
        self._bus.publish(self._queue, run_message(record, message, record.id, "sync-request", at))

    def _is_active(self, run_id: str) -> bool | None:
        record = self.records.get(run_id)
        return None if record is None else not record.status.finished


def _json(value: Any) -> Any:
    return None if value is None else orjson.loads(orjson.dumps(value))
