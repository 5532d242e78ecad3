"""Staged batches loaded into the sandbox Dataverse by the real sink: crash, redelivery, replay, throttling.

Everything here is the real path but the Functions host: the loop in
``World.drain_loads`` receives from the emulator and abandons on exception,
as the host does.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from azure.storage.blob import BlobServiceClient
from pydantic import BaseModel

from shared.connectors.dataverse.client import DataverseClient, web_api_root
from shared.connectors.dataverse.sink import DataverseSink, DataverseTarget
from shared.errors import ErrorClass, ThrottledError
from shared.http.hosts import HostRegistry
from shared.http.policy import HttpPolicy
from shared.pipeline.delivery import Delivery, RetryLater, RetrySchedule
from shared.pipeline.handlers import BatchLoads, SyncRequests
from shared.pipeline.load import BatchLoader
from shared.pipeline.requests import SyncRequest
from shared.pipeline.run_record import RunMode, RunStatus
from shared.pipeline.stream import Record, Stream
from shared.pipeline.target import RecordResult
from tests.fixtures.dataverse_sandbox import DataverseSandbox
from tests.fixtures.servicebus_emulator import ServiceBusEmulator
from tests.pipeline.world import LOAD_QUEUE, SYNC_REQUESTS, ListSource, World, build_world

pytestmark = pytest.mark.services

TARGET = DataverseTarget(entity_set="bs_jobcodesbysites", alternate_key=("bs_sitenumber", "bs_jobcode"))
RECORDS = 2500
# Longer than several retries of the schedule below (first 1 s, doubling to 4 s): as a two-minute outage
# is against production's minutes-apart retries, and over in a test's time.
OUTAGE_SECONDS = 20


class JobRate(BaseModel):
    site: str
    job_code: str
    rate: float
    day: int


def to_job_code_by_site(row: JobRate) -> Record:
    return {"bs_sitenumber": row.site, "bs_jobcode": row.job_code, "bs_averagehourlyrate": row.rate}


def job_rates(count: int) -> list[dict[str, Any]]:
    return [
        {"site": f"{n % 650 + 1:04d}", "job_code": f"J{n:05d}", "rate": 15.0 + n % 17, "day": n // 100}
        for n in range(count)
    ]


class CrashingSink:
    """The loader "dies" (raises) after ``crash_after`` batches, like a worker killed mid-run."""

    def __init__(self, sink: DataverseSink, crash_after: int) -> None:
        self.sink = sink
        self.remaining = crash_after

    def upsert(self, target: DataverseTarget, records: Sequence[Mapping[str, Any]]) -> list[RecordResult]:
        if self.remaining <= 0:
            raise ConnectionError("loader process died")
        self.remaining -= 1
        return self.sink.upsert(target, records)

    def delete(self, target: DataverseTarget, keys: Sequence[Mapping[str, Any]]) -> list[RecordResult]:
        return self.sink.delete(target, keys)


@pytest.fixture
def dataverse(dataverse_sandbox: DataverseSandbox) -> Iterator[DataverseClient]:
    sandbox = dataverse_sandbox
    token = sandbox.hub_token()
    hosts = HostRegistry(HttpPolicy(budget_seconds=60), verify=sandbox.ca_bundle)
    yield DataverseClient(hosts.client(web_api_root(sandbox.url)), token)
    sandbox.throttle(0.0)
    hosts.close()


@pytest.fixture
def sink(dataverse: DataverseClient) -> DataverseSink:
    return DataverseSink(dataverse, retry_budget_seconds=120, cap_seconds=2)


@pytest.fixture
def world(
    blob_service: BlobServiceClient, servicebus_emulator: ServiceBusEmulator, sink: DataverseSink
) -> tuple[World, ListSource]:
    source = ListSource(job_rates(RECORDS), page_rows=400)
    stream = Stream(
        name="job_rates",
        model=JobRate,
        read=source.read,
        transform=to_job_code_by_site,
        target=TARGET,
        cursor="day",
        batch_rows=1000,
    )
    built = build_world(blob_service, servicebus_emulator.connection_string, stream)
    built.loader = BatchLoader(built.engine.catalog, built.staging, built.state, sink, built.engine.now)
    return built, source


def rows_in_dataverse(sandbox: DataverseSandbox) -> dict[tuple[str, str], float]:
    found: dict[tuple[str, str], float] = {}
    with sandbox.client() as client:
        url = "bs_jobcodesbysites?$select=bs_sitenumber,bs_jobcode,bs_averagehourlyrate"
        while url:
            page = client.get(url, headers={"Prefer": "odata.maxpagesize=5000"}).json()
            for row in page["value"]:
                key = (row["bs_sitenumber"], row["bs_jobcode"])
                assert key not in found, f"{key} is in Dataverse twice"
                found[key] = row["bs_averagehourlyrate"]
            url = page.get("@odata.nextLink", "")
    return found


@pytest.mark.slow(7)
def test_a_loader_killed_mid_run_finishes_on_redelivery_and_every_record_lands_once(
    world: tuple[World, ListSource], sink: DataverseSink, dataverse_sandbox: DataverseSandbox
) -> None:
    hub, _ = world
    record = hub.engine.run(SyncRequest("job_rates"))
    assert len(record.batches) == 3

    crashing = CrashingSink(sink, crash_after=2)
    hub.loader = BatchLoader(hub.engine.catalog, hub.staging, hub.state, crashing, hub.engine.now)
    assert hub.drain_loads(stop_on_error=True) == 2  # died on the third batch; its message goes back
    midway = hub.engine.runs.get(record.id)
    assert midway is not None and midway.status is RunStatus.LOADING and midway.load.batches_loaded == 2

    hub.loader = BatchLoader(hub.engine.catalog, hub.staging, hub.state, sink, hub.engine.now)
    assert hub.drain_loads() == 1

    final = hub.engine.runs.get(record.id)
    assert final is not None
    assert final.status is RunStatus.SUCCEEDED
    assert final.load.batches_loaded == 3 and final.load.upserted == RECORDS
    assert len(rows_in_dataverse(dataverse_sandbox)) == RECORDS


def test_loading_uses_one_batch_request_per_thousand_records(
    world: tuple[World, ListSource], dataverse_sandbox: DataverseSandbox
) -> None:
    hub, _ = world
    before = dataverse_sandbox.stats()["batches"]

    hub.engine.run(SyncRequest("job_rates"))
    hub.drain_loads()

    assert dataverse_sandbox.stats()["batches"] - before == math.ceil(RECORDS / 1000)


@pytest.mark.slow(11)
def test_replay_leaves_dataverse_unchanged_and_links_the_runs(
    world: tuple[World, ListSource], dataverse_sandbox: DataverseSandbox
) -> None:
    hub, source = world
    original = hub.engine.run(SyncRequest("job_rates"))
    hub.drain_loads()
    before = rows_in_dataverse(dataverse_sandbox)

    replay = hub.engine.run(SyncRequest("job_rates", mode=RunMode.REPLAY, replay_of=original.id))
    hub.drain_loads()

    final = hub.engine.runs.get(replay.id)
    assert final is not None and final.replay_of == original.id
    assert final.status is RunStatus.SUCCEEDED and final.load.upserted == RECORDS
    assert rows_in_dataverse(dataverse_sandbox) == before
    assert source.queries == 1


@pytest.mark.slow(10)
def test_loading_finishes_correctly_with_thirty_percent_of_requests_throttled(
    world: tuple[World, ListSource], dataverse: DataverseClient, dataverse_sandbox: DataverseSandbox
) -> None:
    hub, _ = world
    # $batch requests of 100 records: enough requests that 30% throttling certainly bites.
    small_batches = DataverseSink(dataverse, batch_size=100, retry_budget_seconds=120, cap_seconds=2)
    hub.loader = BatchLoader(hub.engine.catalog, hub.staging, hub.state, small_batches, hub.engine.now)
    dataverse_sandbox.throttle(0.3, retry_after=1, seed=11)

    record = hub.engine.run(SyncRequest("job_rates"))
    hub.drain_loads()

    final = hub.engine.runs.get(record.id)
    assert final is not None and final.status is RunStatus.SUCCEEDED
    assert dataverse_sandbox.stats()["throttled"] > 0
    dataverse_sandbox.throttle(0.0)
    assert len(rows_in_dataverse(dataverse_sandbox)) == RECORDS


@pytest.mark.slow(45)
def test_dataverse_down_for_longer_than_several_retries_is_waited_out_and_the_run_succeeds_with_no_dead_letter(
    world: tuple[World, ListSource], dataverse_sandbox: DataverseSandbox
) -> None:
    hub, _ = world
    # The sink and its HTTP client give up within seconds; surviving the outage is the retry schedule's job.
    hosts = HostRegistry(HttpPolicy(budget_seconds=3), verify=dataverse_sandbox.ca_bundle)
    dataverse = DataverseClient(
        hosts.client(web_api_root(dataverse_sandbox.url)), dataverse_sandbox.hub_token()
    )
    impatient = DataverseSink(dataverse, batch_size=500, retry_budget_seconds=3, cap_seconds=1)
    hub.loader = BatchLoader(hub.engine.catalog, hub.staging, hub.state, impatient, hub.engine.now)
    schedule = RetrySchedule(timedelta(seconds=1), timedelta(seconds=4), budget=timedelta(minutes=10))
    redeliveries = hub.redeliveries(schedule)
    requests = SyncRequests(hub.engine, hub.run_queue(), redeliveries)
    loads = BatchLoads(hub.loader, redeliveries)
    queued = hub.run_queue().queue(SyncRequest("job_rates"))
    assert hub.pump(SYNC_REQUESTS, requests.handle, 3, limit=1) == 1
    assert hub.pump(LOAD_QUEUE, loads.handle, 3, limit=1) == 1  # one batch in, then Dataverse goes down

    dataverse_sandbox.outage(OUTAGE_SECONDS)
    started, deliveries = time.monotonic(), 0
    while time.monotonic() - started < OUTAGE_SECONDS + 60:
        deliveries += hub.pump(LOAD_QUEUE, loads.handle, 5)
        current = hub.engine.runs.get(queued.id)
        assert current is not None and current.status in (RunStatus.LOADING, RunStatus.SUCCEEDED), current
        if current.status is RunStatus.SUCCEEDED:
            break
    dataverse_sandbox.outage(0)

    final = hub.engine.runs.get(queued.id)
    assert final is not None and final.status is RunStatus.SUCCEEDED, final
    assert time.monotonic() - started >= OUTAGE_SECONDS  # it really waited the outage out
    assert deliveries > 2  # the two batches left did not load on their first delivery: they were retried
    assert final.load.upserted == RECORDS and final.dead_lettered_batches == []
    assert redeliveries.shelf.page(LOAD_QUEUE, 50, 0)[0] == []
    assert len(rows_in_dataverse(dataverse_sandbox)) == RECORDS
    hosts.close()


def test_a_retry_after_longer_than_the_sinks_budget_is_a_retry_later_no_sooner_than_dataverse_allows(
    world: tuple[World, ListSource], dataverse_sandbox: DataverseSandbox
) -> None:
    hub, _ = world
    sandbox = dataverse_sandbox
    hosts = HostRegistry(HttpPolicy(budget_seconds=3), verify=sandbox.ca_bundle)
    dataverse = DataverseClient(hosts.client(web_api_root(sandbox.url)), sandbox.hub_token())
    sink = DataverseSink(dataverse, retry_budget_seconds=3, cap_seconds=1)
    rows = [{"bs_sitenumber": "0001", "bs_jobcode": f"J{n}", "bs_averagehourlyrate": 15.0} for n in range(10)]
    sink.upsert(TARGET, rows)
    sandbox.throttle(limit=1, window_seconds=60)  # Retry-After: the minute until the window has room
    sink.upsert(TARGET, rows)

    started = time.monotonic()
    with pytest.raises(ThrottledError) as refused:
        sink.upsert(TARGET, rows)
    assert time.monotonic() - started < 10  # it did not sit out the minute in-process
    assert refused.value.error_class is ErrorClass.THROTTLED
    retry_after = refused.value.retry_after
    assert retry_after is not None and 50 <= retry_after <= 60
    seen = sandbox.stats()["total"]
    with pytest.raises(ThrottledError) as held:  # the next load is held at the gate: nothing is sent
        sink.upsert(TARGET, rows)
    assert sandbox.stats()["total"] == seen
    assert held.value.retry_after is not None and 45 <= held.value.retry_after <= retry_after

    delivery = Delivery(LOAD_QUEUE, "batch-1", b"{}", enqueued_at=datetime.now(UTC))
    schedule = RetrySchedule(timedelta(seconds=2), timedelta(seconds=10), budget=timedelta(minutes=10))
    decided = hub.redeliveries(schedule).decide(
        delivery, ErrorClass.THROTTLED, str(held.value), held.value.retry_after
    )
    assert isinstance(decided, RetryLater)
    assert decided.at - datetime.now(UTC) >= timedelta(seconds=held.value.retry_after - 1)
    hosts.close()


@pytest.mark.slow(40)
def test_batches_throttled_for_longer_than_the_sink_waits_load_later_with_no_dead_letter(
    world: tuple[World, ListSource], dataverse_sandbox: DataverseSandbox
) -> None:
    hub, _ = world
    sandbox = dataverse_sandbox
    hosts = HostRegistry(HttpPolicy(budget_seconds=2), verify=sandbox.ca_bundle)
    dataverse = DataverseClient(hosts.client(web_api_root(sandbox.url)), sandbox.hub_token())
    impatient = DataverseSink(dataverse, retry_budget_seconds=2, cap_seconds=1)
    hub.loader = BatchLoader(hub.engine.catalog, hub.staging, hub.state, impatient, hub.engine.now)
    redeliveries = hub.redeliveries(
        RetrySchedule(timedelta(seconds=1), timedelta(seconds=2), budget=timedelta(minutes=10))
    )
    loads = BatchLoads(hub.loader, redeliveries)
    sandbox.throttle(limit=1, window_seconds=8)  # three staged batches, one $batch each, one per 8 s

    started = time.monotonic()
    record = hub.engine.run(SyncRequest("job_rates"))
    while time.monotonic() - started < 60:
        hub.pump(LOAD_QUEUE, loads.handle, 3)
        current = hub.engine.runs.get(record.id)
        assert current is not None and current.status in (RunStatus.LOADING, RunStatus.SUCCEEDED), current
        if current.status is RunStatus.SUCCEEDED:
            break

    final = hub.engine.runs.get(record.id)
    assert final is not None and final.status is RunStatus.SUCCEEDED, final
    assert time.monotonic() - started >= 16  # batches two and three each waited for the window
    assert final.load.upserted == RECORDS and final.dead_lettered_batches == []
    assert redeliveries.shelf.page(LOAD_QUEUE, 50, 0)[0] == []
    stats = sandbox.stats()
    # Each retry came when Dataverse said it could: a few refusals, not one per poll of the queue.
    assert 0 < stats["throttled_by_code"]["0x80072322"] <= 4
    sandbox.throttle(0.0)
    assert len(rows_in_dataverse(sandbox)) == RECORDS
    hosts.close()


@pytest.mark.slow(8)
def test_a_sync_request_and_load_batches_delivered_twice_run_once_and_load_once(
    world: tuple[World, ListSource],
    dataverse_sandbox: DataverseSandbox,
    servicebus_emulator: ServiceBusEmulator,
) -> None:
    hub, source = world
    redeliveries = hub.redeliveries()
    requests = SyncRequests(hub.engine, hub.run_queue(), redeliveries)
    loads = BatchLoads(hub.loader, redeliveries)
    servicebus_emulator.duplicate(SYNC_REQUESTS, 1)
    queued = hub.run_queue().queue(SyncRequest("job_rates"))
    assert (
        hub.pump(SYNC_REQUESTS, requests.handle, 3, limit=2) == 2
    )  # the request, then the same message again
    servicebus_emulator.duplicate(LOAD_QUEUE, 2)
    assert hub.pump(LOAD_QUEUE, loads.handle, 3, limit=5) == 5  # three batches, two of them delivered twice

    assert servicebus_emulator.faults()["duplicatesByQueue"] == {SYNC_REQUESTS: 1, LOAD_QUEUE: 2}
    assert list(hub.engine.runs.ids()) == [queued.id] and source.queries == 1  # one run, the source read once
    final = hub.engine.runs.get(queued.id)
    assert final is not None and final.status is RunStatus.SUCCEEDED
    assert final.load.batches_loaded == 3 and final.load.upserted == RECORDS
    assert dataverse_sandbox.stats()["batches"] == math.ceil(RECORDS / 1000)  # no batch was sent twice
    assert len(rows_in_dataverse(dataverse_sandbox)) == RECORDS
