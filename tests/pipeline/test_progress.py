"""What a run tells the operator in the log: a line per stage and per batch, and one closing line per run."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from azure.storage.blob import BlobServiceClient

from shared.pipeline.load import LoadBatchMessage
from shared.pipeline.progress import load_counts
from shared.pipeline.requests import SyncRequest
from shared.pipeline.run_record import LoadCounts, RunMode
from shared.pipeline.stream import ReadWindow
from tests.fixtures.servicebus_emulator import ServiceBusEmulator
from tests.pipeline.world import FIRST_DAY, ListSource, World, build_world, rows, site_day_stream

PROGRESS = "shared.pipeline.progress"


def _world(blob_service: BlobServiceClient, emulator: ServiceBusEmulator, source: ListSource) -> World:
    return build_world(blob_service, emulator.connection_string, site_day_stream(source))


def _lines(caplog: pytest.LogCaptureFixture, run_id: str) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.name == PROGRESS and record.getMessage().startswith(f"Run {run_id}")
    ]


def test_a_run_tells_each_stage_each_batch_and_one_closing_line(
    blob_service: BlobServiceClient, servicebus_emulator: ServiceBusEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    source = ListSource([*rows(days=8), {"site": "12", "day": FIRST_DAY, "job_code": "GSA", "hours": 1}])
    world = _world(blob_service, servicebus_emulator, source)
    caplog.set_level(logging.INFO, logger=PROGRESS)

    record = world.engine.run(SyncRequest("site_days"))
    assert world.drain_loads() == 3
    # A redelivered batch is counted once, and the run's end is told once.
    world.loader.load(LoadBatchMessage(run_id=record.id, stream="site_days", batch=record.batches[0]))

    lines = _lines(caplog, record.id)
    assert lines[0] == f"Run {record.id}: reading site_days (incremental, attempt 1)"
    published = [line for line in lines if "published" in line]
    assert len(published) == 3
    assert published[0].startswith(
        f"Run {record.id}: batch 1 published; 11 read, 10 valid, 1 quarantined, 10 staged"
    )
    assert all(" rows/s" in line and "cursor at 2026-10-" in line for line in published)
    assert any("read done in " in line and "25 read, 24 valid, 1 quarantined" in line for line in lines)
    loaded = [line for line in lines if " loaded (" in line]
    assert len(loaded) == 4
    assert "(10 upserted); 1 of 3 batches" in loaded[0] and "batches/min; about " in loaded[0]
    assert "3 of 3 batches, 24 records written so far" in loaded[2]
    closing = [line for line in lines if " finished: " in line]
    assert closing == [
        f"Run {record.id} finished: stream=site_days mode=incremental read=25 valid=24 quarantined=1 "
        "skipped=0 unchanged=0 staged=24 deletes=0 loaded=24 refused=0 batches=3/3 "
        f"seconds={_seconds(closing[0])} outcome=partially_failed"
    ]
    assert not any("\r" in line for line in lines)


def test_a_backfill_tells_the_time_left_from_how_far_its_cursor_has_come(
    blob_service: BlobServiceClient, servicebus_emulator: ServiceBusEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    world = _world(blob_service, servicebus_emulator, ListSource(rows(days=10)))
    caplog.set_level(logging.INFO, logger=PROGRESS)
    window = ReadWindow(FIRST_DAY, FIRST_DAY + timedelta(days=10))

    record = world.engine.run(SyncRequest("site_days", mode=RunMode.BACKFILL, window=window))

    published = [line for line in _lines(caplog, record.id) if "published" in line]
    assert len(published) == 3
    assert all("; about " in line and line.endswith(" s left") for line in published[:-1])
    assert _lines(caplog, record.id)[0].endswith("(backfill, attempt 1) from 2026-10-01 to 2026-10-11")


def test_a_failed_run_ends_with_its_reason_in_the_closing_line(
    blob_service: BlobServiceClient, servicebus_emulator: ServiceBusEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    world = _world(blob_service, servicebus_emulator, ListSource(rows(days=8), fail_after_pages=1))
    caplog.set_level(logging.INFO, logger=PROGRESS)

    record = world.engine.run(SyncRequest("site_days"))

    closing = [line for line in _lines(caplog, record.id) if " finished: " in line]
    assert len(closing) == 1
    assert closing[0].endswith("outcome=failed (transient: the source went away mid-read)")
    assert " read=7 " in closing[0]


def test_load_counts_read_as_words() -> None:
    assert (
        load_counts(LoadCounts(upserted=10, rejected=2, not_found=1))
        == "10 upserted, 2 rejected, 1 not found"
    )
    assert load_counts(LoadCounts(batches_loaded=1)) == "nothing written"


def _seconds(line: str) -> str:
    return line.split("seconds=")[1].split(maxsplit=1)[0]
