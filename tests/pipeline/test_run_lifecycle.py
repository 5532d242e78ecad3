"""A run has one owner from queued to settled: every run ends, transient failures wait, permanent ones are set aside.

The real path but the Functions host: runs are queued by ``RunQueue`` as the
API queues them, their requests and batches travel through the Service Bus
emulator, ``World.pump`` hands each delivery to the same handlers the
triggers call, and state lives in Azurite.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from contextvars import ContextVar
from datetime import datetime, timedelta
from typing import Any

import pytest
from azure.data.tables import TableServiceClient
from azure.storage.blob import BlobServiceClient

from shared.connectors.dataverse.sink import DataverseTarget
from shared.errors import ErrorClass, HubError
from shared.pipeline.dead_letters import DeadLetters
from shared.pipeline.delivery import ATTEMPT, RetrySchedule
from shared.pipeline.handlers import BatchLoads, SyncRequests
from shared.pipeline.load import LoadBatchMessage
from shared.pipeline.requests import SyncRequest
from shared.pipeline.run_record import RunRecord, RunStatus
from shared.pipeline.run_states import RunEvent, move
from shared.pipeline.target import RecordResult
from shared.pipeline.watchdog import Watchdog
from shared.platform.service_bus import OutgoingMessage, ServiceBus
from tests.fixtures.servicebus_emulator import ServiceBusEmulator
from tests.pipeline.world import (
    LOAD_QUEUE,
    SYNC_REQUESTS,
    ListSource,
    TableDouble,
    World,
    build_world,
    rows,
    site_day_stream,
)

pytestmark = pytest.mark.services


class FlakySink:
    """The Dataverse side failing as told: ``failures`` more calls raise ``error``, then it writes."""

    def __init__(self, table: TableDouble, error: Exception, failures: int) -> None:
        self.table, self.error, self.failures = table, error, failures

    def upsert(self, target: DataverseTarget, records: Sequence[Mapping[str, Any]]) -> list[RecordResult]:
        if self.failures > 0:
            self.failures -= 1
            raise self.error
        return self.table.upsert(target, records)

    def delete(self, target: DataverseTarget, keys: Sequence[Mapping[str, Any]]) -> list[RecordResult]:
        return self.table.delete(target, keys)


_state_tables: ContextVar[TableServiceClient | None] = ContextVar("state_tables", default=None)


@pytest.fixture(autouse=True, params=["blob", "table"])
def state_store(request: pytest.FixtureRequest, table_service: TableServiceClient) -> None:
    """Every lifecycle test twice: run records and stream states in the state container, then in tables."""
    _state_tables.set(table_service if request.param == "table" else None)


def world_with(
    blob_service: BlobServiceClient, emulator: ServiceBusEmulator, source: ListSource, **stream: Any
) -> World:
    return build_world(
        blob_service,
        emulator.connection_string,
        site_day_stream(source, **stream),
        tables=_state_tables.get(),
    )


def handlers(world: World, schedule: RetrySchedule | None = None) -> tuple[SyncRequests, BatchLoads]:
    redeliveries = world.redeliveries(schedule) if schedule else world.redeliveries()
    return SyncRequests(world.engine, world.run_queue(), redeliveries), BatchLoads(world.loader, redeliveries)


def settle(world: World, requests: SyncRequests, loads: BatchLoads, seconds: float = 8) -> None:
    """Pump both queues until neither has work for this world."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if not (world.pump(SYNC_REQUESTS, requests.handle, 2) + world.pump(LOAD_QUEUE, loads.handle, 2)):
            return


def stored(world: World, run_id: str) -> RunRecord:
    record = world.engine.runs.get(run_id)
    assert record is not None
    return record


@pytest.mark.slow(12)
def test_a_queued_run_that_fails_for_a_moment_is_retried_later_and_succeeds_as_the_same_run(
    blob_service: BlobServiceClient, servicebus_emulator: ServiceBusEmulator
) -> None:
    source = ListSource(rows(days=4), page_rows=5, fail_after_pages=1)
    world = world_with(blob_service, servicebus_emulator, source)
    requests, loads = handlers(world)
    queued = world.run_queue().queue(SyncRequest("site_days", trigger="api"), requested_by="key:test")
    assert stored(world, queued.id).status is RunStatus.QUEUED

    assert world.pump(SYNC_REQUESTS, requests.handle, 2, limit=1) == 1
    retrying = stored(world, queued.id)
    assert retrying.status is RunStatus.RETRYING and retrying.error is not None
    assert retrying.error.error_class == "transient" and retrying.next_attempt_at is not None

    source.fail_after_pages = None
    settle(world, requests, loads)

    final = stored(world, queued.id)
    assert final.status is RunStatus.SUCCEEDED and final.attempts == 2 and final.error is None
    assert list(world.engine.runs.ids()) == [queued.id]
    assert len(world.table.rows) == 12
    assert world.engine.slots.holder("site_days") is None  # the stream is free again


@pytest.mark.slow(12)
def test_a_permanent_failure_is_set_aside_on_its_first_delivery_and_a_resubmit_after_the_fix_succeeds(
    blob_service: BlobServiceClient, servicebus_emulator: ServiceBusEmulator
) -> None:
    source = ListSource(rows(days=3))
    for row in source.rows[:4]:
        row["job_code"] = ""  # more bad rows than the stream allows: a permanent failure
    world = world_with(blob_service, servicebus_emulator, source)
    requests, loads = handlers(world)
    queued = world.run_queue().queue(SyncRequest("site_days", trigger="api"))

    assert world.pump(SYNC_REQUESTS, requests.handle, 2, limit=1) == 1
    dead = stored(world, queued.id)
    assert dead.status is RunStatus.DEAD_LETTERED and dead.attempts == 1
    letters = DeadLetters(ServiceBus(world.bus), requests_shelf(world))
    listed, _ = letters.page(SYNC_REQUESTS, 50, None)
    (letter,) = [found for found in listed if found.message_id == queued.id]
    assert letter.reason == "permanent" and "failed validation" in (letter.description or "")
    assert world.pump(SYNC_REQUESTS, requests.handle, 1) == 0  # nothing left to burn deliveries on

    for row in source.rows[:4]:
        row["job_code"] = "FIXED"
    assert letters.resubmit(SYNC_REQUESTS, queued.id) is not None
    settle(world, requests, loads)

    final = stored(world, queued.id)
    assert final.status is RunStatus.SUCCEEDED and final.attempts == 2
    assert letters.resubmit(SYNC_REQUESTS, queued.id) is None


def requests_shelf(world: World) -> Any:
    return world.redeliveries().shelf


def test_a_message_that_is_not_a_sync_request_is_set_aside_with_the_reason(
    blob_service: BlobServiceClient, servicebus_emulator: ServiceBusEmulator
) -> None:
    world = world_with(blob_service, servicebus_emulator, ListSource(rows(days=1)))
    requests, _ = handlers(world)
    ServiceBus(world.bus).publish(
        SYNC_REQUESTS,
        OutgoingMessage(body={"stream": "site_days", "colour": "red"}, message_id="bad-request-1"),
    )
    world.pump(SYNC_REQUESTS, requests.handle, 2)
    shelved = requests_shelf(world).get(SYNC_REQUESTS, "bad-request-1")
    assert shelved is not None and shelved.reason == "bad_record" and "colour" in shelved.description


@pytest.mark.slow(20)
def test_a_batch_load_failing_for_minutes_waits_and_the_run_succeeds_with_no_dead_letter(
    blob_service: BlobServiceClient, servicebus_emulator: ServiceBusEmulator
) -> None:
    world = world_with(blob_service, servicebus_emulator, ListSource(rows(days=4)))
    down = FlakySink(
        world.table, HubError("Dataverse answered HTTP 503", error_class=ErrorClass.TRANSIENT), 6
    )
    world.loader = world.loader_with(down)
    requests, loads = handlers(world)
    queued = world.run_queue().queue(SyncRequest("site_days"))

    settle(world, requests, loads, seconds=30)

    final = stored(world, queued.id)
    assert down.failures == 0
    assert final.status is RunStatus.SUCCEEDED and len(final.loaded_batches) == len(final.batches) == 2
    assert len(world.table.rows) == 12
    assert requests_shelf(world).page(LOAD_QUEUE, 50, 0)[0] == []


@pytest.mark.slow(12)
def test_a_batch_load_refused_by_configuration_is_set_aside_and_settles_the_run_when_resubmitted(
    blob_service: BlobServiceClient, servicebus_emulator: ServiceBusEmulator
) -> None:
    world = world_with(blob_service, servicebus_emulator, ListSource(rows(days=4)))
    schema = HubError("Could not find a property named 'bs_hourz'", error_class=ErrorClass.CONFIG)
    broken = FlakySink(world.table, schema, 1)
    world.loader = world.loader_with(broken)
    requests, loads = handlers(world)
    queued = world.run_queue().queue(SyncRequest("site_days"))

    settle(world, requests, loads)

    dead = stored(world, queued.id)
    assert dead.status is RunStatus.DEAD_LETTERED and len(dead.dead_lettered_batches) == 1
    assert dead.error is not None and dead.error.error_class == "config" and "bs_hourz" in dead.error.message
    (batch_id,) = dead.dead_lettered_batches
    letters = DeadLetters(ServiceBus(world.bus), requests_shelf(world))
    assert letters.resubmit(LOAD_QUEUE, f"{queued.id}.{batch_id}") is not None
    settle(world, requests, loads)

    final = stored(world, queued.id)
    assert final.status is RunStatus.SUCCEEDED and final.dead_lettered_batches == [] and final.error is None
    assert len(world.table.rows) == 12


@pytest.mark.slow(16)
def test_a_failure_that_outlasts_the_retry_budget_ends_dead_lettered_not_retrying_forever(
    blob_service: BlobServiceClient, servicebus_emulator: ServiceBusEmulator
) -> None:
    source = ListSource(rows(days=2), fail_after_pages=0)
    world = world_with(blob_service, servicebus_emulator, source)
    short = RetrySchedule(timedelta(seconds=0.3), timedelta(seconds=0.5), budget=timedelta(seconds=4))
    requests, loads = handlers(world, short)
    queued = world.run_queue().queue(SyncRequest("site_days"))

    settle(world, requests, loads, seconds=15)

    final = stored(world, queued.id)
    assert final.status is RunStatus.DEAD_LETTERED and final.attempts >= 2
    assert final.error is not None and "retry budget" in final.error.message
    shelved = requests_shelf(world).get(SYNC_REQUESTS, queued.id)
    assert shelved is not None and int(shelved.application_properties[ATTEMPT]) == final.attempts


@pytest.mark.slow(15)
def test_the_watchdog_republishes_a_lost_request_and_counts_a_loaded_batch_whose_count_was_lost(
    blob_service: BlobServiceClient, servicebus_emulator: ServiceBusEmulator
) -> None:
    world, requests, loads, clock, queued = a_lost_request(blob_service, servicebus_emulator)

    watchdog = Watchdog(world.engine, world.run_queue(), world.loader, lambda: clock[0], lambda: None)
    assert watchdog.sweep().republished == []  # not overdue yet
    clock[0] += timedelta(minutes=11)
    assert watchdog.sweep().republished == [queued.id]
    assert world.pump(SYNC_REQUESTS, requests.handle, 2) == 1
    loading = stored(world, queued.id)
    assert loading.status is RunStatus.LOADING

    first, second = loading.batches
    world.loader.load(  # the batch loads, then its count in the run record is lost
        LoadBatchMessage(run_id=queued.id, stream="site_days", batch=first)
    )
    world.engine.runs.update(queued.id, lambda record: record.loaded_batches.clear())
    report = watchdog.sweep()
    assert report.batches_counted == [f"{queued.id}.{first.id}"]
    clock[0] += timedelta(minutes=16)
    assert watchdog.sweep().batches_republished == [f"{queued.id}.{second.id}"]
    world.pump(LOAD_QUEUE, loads.handle, 3)
    assert stored(world, queued.id).status is RunStatus.SUCCEEDED
    assert watchdog.sweep().slots_released == []


@pytest.mark.slow(10)
def test_the_watchdog_resumes_a_run_whose_worker_died_mid_extraction(
    blob_service: BlobServiceClient, servicebus_emulator: ServiceBusEmulator
) -> None:
    world, requests, loads, clock, queued = a_lost_request(blob_service, servicebus_emulator)
    world.engine.runs.update(queued.id, lambda record: _claimed_by_a_dead_worker(record, clock[0]))

    watchdog = Watchdog(world.engine, world.run_queue(), world.loader, lambda: clock[0], lambda: None)
    assert watchdog.sweep().republished == []  # its heartbeat is fresh: maybe it is only slow
    clock[0] += timedelta(minutes=3)
    assert watchdog.sweep().republished == [queued.id]  # no lease, no heartbeat for 3 minutes
    settle(world, requests, loads)

    final = stored(world, queued.id)
    assert final.status is RunStatus.SUCCEEDED and final.attempts == 2
    assert len(world.table.rows) == 12


def a_lost_request(
    blob_service: BlobServiceClient, emulator: ServiceBusEmulator
) -> tuple[World, SyncRequests, BatchLoads, list[datetime], RunRecord]:
    """A world on a clock the test moves, with a run whose request was taken off the queue and never run."""
    world = world_with(blob_service, emulator, ListSource(rows(days=4)))
    requests, loads = handlers(world)
    clock = [world.engine.now()]
    world.engine.now = lambda: clock[0]  # type: ignore[method-assign]
    queued = world.run_queue().queue(SyncRequest("site_days"))
    world.pump(SYNC_REQUESTS, lambda delivery: None, 2)
    return world, requests, loads, clock, queued


def _claimed_by_a_dead_worker(record: RunRecord, now: datetime) -> None:
    move(record, RunEvent.CLAIMED, RunStatus.RUNNING)
    record.attempts, record.heartbeat_at = 1, now
