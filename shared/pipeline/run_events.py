"""A run's life as CloudEvents: queued, started, batch staged, extracted, batch loaded, retrying, settled.

Each write of a run record (``RunTable``, ``RunRecords``) is one event, named
after the fact the write records (``fact``), carrying the fields it changed;
``rebuild_run`` folds a run's events back into its record. The events are
the hub's account of its work for a Power Automate flow or another system
subscribed to the run-events topic, not its state: the record stays the truth.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from shared.pipeline.run_record import RunRecord, RunStatus
from shared.platform.cloud_events import CloudEvent, rebuild, write_event

_ENTERED = {
    RunStatus.QUEUED: "queued",
    RunStatus.RUNNING: "started",
    RunStatus.RETRYING: "retrying",
    RunStatus.LOADING: "extracted",
}


def fact(before: RunRecord | None, after: RunRecord) -> str:
    """What the write that turned ``before`` into ``after`` records."""
    if before is None or after.status is not before.status:
        return _ENTERED.get(after.status, "settled")
    if len(after.loaded_batches) > len(before.loaded_batches):
        return "batch_loaded"
    if len(after.batches) > len(before.batches):
        return "batch_staged"
    return "progressed"


def run_event(before: RunRecord | None, after: RunRecord, now: datetime) -> CloudEvent:
    about = {"runId": after.id, "stream": after.stream, "status": after.status.value}
    source = f"runs/{after.stream}"
    return write_event("run", fact(before, after), source, before, after, after.id, after.version, about, now)


def rebuild_run(events: Iterable[CloudEvent]) -> RunRecord:
    """The run record its events describe."""
    return RunRecord.model_validate(rebuild(events))
