"""Sync runs end to end through Azurite and the Service Bus emulator: modes, checkpoints, quarantine."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from azure.data.tables import TableServiceClient
from azure.storage.blob import BlobServiceClient

from shared.pipeline.requests import SyncRequest
from shared.pipeline.run_queue import AlreadyRunningError
from shared.pipeline.run_record import RunMode, RunStatus
from shared.pipeline.stream import ReadWindow
from tests.fixtures.servicebus_emulator import ServiceBusEmulator
from tests.pipeline.world import FIRST_DAY, ListSource, World, build_world, rows, site_day_stream


@pytest.fixture(params=["blob", "table"])
def world_for(
    request: pytest.FixtureRequest,
    blob_service: BlobServiceClient,
    table_service: TableServiceClient,
    servicebus_emulator: ServiceBusEmulator,
) -> Any:
    """Every test twice: run records and stream states in the state container, then in Table storage."""
    tables = table_service if request.param == "table" else None

    def build(source: ListSource, **overrides: Any) -> World:
        return build_world(
            blob_service,
            servicebus_emulator.connection_string,
            site_day_stream(source, **overrides),
            tables=tables,
        )

    return build


def test_incremental_run_stages_publishes_loads_and_advances_the_watermark(world_for: Any) -> None:
    source = ListSource(rows(days=8))  # 24 rows → batches of 10, 10, 4
    world = world_for(source)

    record = world.engine.run(SyncRequest("site_days"))

    assert record.status is RunStatus.LOADING
    assert [batch.count for batch in record.batches] == [10, 10, 4]
    assert record.extract.read == record.extract.valid == record.extract.staged == 24
    assert record.watermark_after == (FIRST_DAY + timedelta(days=7)).isoformat()
    state, _ = world.engine.states.read("site_days")
    assert state.watermark == record.watermark_after

    assert world.drain_loads() == 3
    loaded = world.engine.runs.get(record.id)
    assert loaded is not None
    assert loaded.status is RunStatus.SUCCEEDED
    assert loaded.load.upserted == 24 and loaded.load.batches_loaded == 3
    assert len(world.table.rows) == 24


@pytest.mark.slow(8)
def test_a_run_with_no_source_change_queries_once_and_stages_nothing(world_for: Any) -> None:
    source = ListSource(rows(days=5))
    world = world_for(source)
    world.engine.run(SyncRequest("site_days"))
    world.drain_loads()
    _, etag_before = world.engine.states.read("site_days")
    queries_before = source.queries

    again = world.engine.run(SyncRequest("site_days"))

    assert source.queries == queries_before + 1
    assert again.batches == [] and again.extract.staged == 0
    assert again.extract.unchanged == 3  # the boundary day is re-read, recognised, and not sent
    assert again.status is RunStatus.SUCCEEDED
    _, etag_after = world.engine.states.read("site_days")
    assert etag_after == etag_before  # no state write either
    assert world.drain_loads() == 0


@pytest.mark.slow(9)
def test_new_and_late_rows_are_picked_up_within_the_look_back(world_for: Any) -> None:
    source = ListSource(rows(days=6))
    world = world_for(source, lookback=timedelta(days=2))
    world.engine.run(SyncRequest("site_days"))
    world.drain_loads()

    last_day = FIRST_DAY + timedelta(days=5)
    source.rows.append(
        {"site": "0009", "day": last_day - timedelta(days=1), "job_code": "CASH", "hours": 3.0}
    )
    source.rows.append(
        {"site": "0009", "day": last_day + timedelta(days=1), "job_code": "CASH", "hours": 4.0}
    )
    source.rows[-3]["hours"] = 99.0  # a change inside the look-back window

    record = world.engine.run(SyncRequest("site_days"))

    assert source.windows[-1].start == last_day - timedelta(days=2)
    assert record.extract.staged == 3
    world.drain_loads()
    assert world.table.rows[("0009", (last_day - timedelta(days=1)).isoformat(), "CASH")]["bs_hours"] == 3.0
    assert world.table.rows[("0003", last_day.isoformat(), "GSA")]["bs_hours"] == 99.0


def test_bad_rows_are_quarantined_with_reasons_and_the_rest_loads(world_for: Any) -> None:
    source = ListSource(rows(days=3))
    source.rows[1]["site"] = "17"  # unpadded site number
    source.rows[4]["hours"] = -2
    world = world_for(source)

    record = world.engine.run(SyncRequest("site_days"))
    world.drain_loads()

    final = world.engine.runs.get(record.id)
    assert final is not None
    assert final.extract.quarantined == 2 and final.extract.staged == 7
    assert final.status is RunStatus.PARTIALLY_FAILED
    assert final.quarantine_path is not None
    quarantined = world.staging.get(final.quarantine_path).decode().splitlines()
    assert len(quarantined) == 2
    assert "site: String should match pattern" in quarantined[0]
    assert "hours: Input should be greater than or equal to 0" in quarantined[1]
    assert len(world.table.rows) == 7


def test_too_many_bad_rows_fail_the_run_and_leave_the_watermark(world_for: Any) -> None:
    source = ListSource(rows(days=3))
    for row in source.rows[:4]:
        row["job_code"] = ""
    world = world_for(source)

    record = world.engine.run(SyncRequest("site_days"))

    assert record.status is RunStatus.FAILED
    assert record.error is not None and "more than 3 rows failed validation" in record.error.message
    state, etag = world.engine.states.read("site_days")
    assert etag is None and state.watermark is None


@pytest.mark.slow(9)
def test_a_failed_read_keeps_its_checkpoints_and_the_next_run_resumes_without_duplicates(
    world_for: Any,
) -> None:
    source = ListSource(rows(days=10), page_rows=5, fail_after_pages=3)  # dies after 15 of 30 rows
    world = world_for(source)

    failed = world.engine.run(SyncRequest("site_days"))

    assert failed.status is RunStatus.FAILED
    assert failed.error is not None and failed.error.error_class == "transient"
    state, _ = world.engine.states.read("site_days")
    assert (
        state.watermark == (FIRST_DAY + timedelta(days=3)).isoformat()
    )  # the one published batch's last day
    world.drain_loads()

    source.fail_after_pages = None
    resumed = world.engine.run(SyncRequest("site_days"))
    world.drain_loads()

    assert resumed.status in (RunStatus.LOADING, RunStatus.SUCCEEDED)
    # The one batch ended a third of the way into day 3: that row is recognised, the rest of day 3 is sent.
    assert resumed.extract.unchanged == 1
    assert resumed.extract.staged == 30 - 10
    assert len(world.table.rows) == 30


def test_full_mode_resends_everything_and_backfill_leaves_state_alone(world_for: Any) -> None:
    source = ListSource(rows(days=4))
    world = world_for(source)
    world.engine.run(SyncRequest("site_days"))
    state_before, etag_before = world.engine.states.read("site_days")

    backfill = world.engine.run(
        SyncRequest(
            "site_days", mode=RunMode.BACKFILL, window=ReadWindow(FIRST_DAY, FIRST_DAY + timedelta(days=2))
        )
    )
    assert backfill.extract.staged == 6
    assert world.engine.states.read("site_days") == (state_before, etag_before)

    full = world.engine.run(SyncRequest("site_days", mode=RunMode.FULL))
    assert full.extract.staged == 12 and full.extract.unchanged == 0


@pytest.mark.slow(9)
def test_replay_republishes_the_staged_batches_and_links_the_runs(world_for: Any) -> None:
    source = ListSource(rows(days=5))
    world = world_for(source)
    original = world.engine.run(SyncRequest("site_days"))
    world.drain_loads()
    rows_before = dict(world.table.rows)
    queries_before = source.queries

    replay = world.engine.run(SyncRequest("site_days", mode=RunMode.REPLAY, replay_of=original.id))
    assert world.drain_loads() == len(original.batches)

    assert source.queries == queries_before
    final = world.engine.runs.get(replay.id)
    assert final is not None
    assert final.replay_of == original.id and final.status is RunStatus.SUCCEEDED
    assert final.load.upserted == 15
    assert world.table.rows == rows_before


def test_a_second_run_of_a_running_stream_is_refused_with_the_running_id(world_for: Any) -> None:
    gate = threading.Event()
    source = ListSource(rows(days=2), gate=gate)
    world = world_for(source)
    outcome: dict[str, Any] = {}

    first = threading.Thread(
        target=lambda: outcome.update(run=world.engine.run(SyncRequest("site_days", run_id="run-A")))
    )
    first.start()
    try:
        for _ in range(100):
            if source.queries:
                break
            threading.Event().wait(0.05)
        with pytest.raises(AlreadyRunningError) as refused:
            world.engine.run(SyncRequest("site_days"))
        assert refused.value.run_id == "run-A"
        assert "already running as run run-A" in str(refused.value)
        assert sorted(world.engine.runs.ids()) == ["run-A"]  # the refused run left no record behind
    finally:
        gate.set()
        first.join()
    assert outcome["run"].status is RunStatus.LOADING


def test_rows_out_of_cursor_order_fail_the_run_with_the_reason(world_for: Any) -> None:
    source = ListSource(rows(days=3))
    world = world_for(source)
    source.read = lambda window: [list(reversed(source.rows))]  # type: ignore[method-assign]
    world.engine.catalog.get("site_days")
    broken = world_for(source)

    record = broken.engine.run(SyncRequest("site_days"))

    assert record.status is RunStatus.FAILED
    assert record.error is not None and "must order rows by day" in record.error.message
