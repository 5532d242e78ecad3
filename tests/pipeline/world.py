"""The engine's real surroundings for tests: Azurite containers, the emulator's load queue, a loader.

Only the Dataverse side is replaced, by ``TableDouble``, an in-memory table
keyed like Dataverse's alternate keys; the sink itself is tested against Web
API doubles and the sandbox in ``tests/dataverse_sink``. Everything else is the
real thing: staged batches in Azurite, messages through the Service Bus
emulator, leases, ETag-guarded state.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from azure.data.tables import TableServiceClient
from azure.servicebus import ServiceBusClient, ServiceBusReceivedMessage
from azure.storage.blob import BlobServiceClient
from pydantic import BaseModel, Field

from shared.connectors.dataverse.sink import DataverseTarget
from shared.pipeline.delivery import Delivery, Redeliveries, RetrySchedule
from shared.pipeline.load import BatchLoader, LoadBatchMessage
from shared.pipeline.run_queue import RunQueue
from shared.pipeline.run_record import RunStore
from shared.pipeline.run_table import RunTable
from shared.pipeline.stream import ReadWindow, Record, Row, Stream, StreamCatalog
from shared.pipeline.stream_state import StreamStateStore
from shared.pipeline.stream_state_table import StreamStateTable
from shared.pipeline.sync import SyncEngine
from shared.pipeline.target import Outcome, RecordResult
from shared.platform.blob_lock import BlobLocks
from shared.platform.blob_store import BlobStore
from shared.platform.dead_letter_shelf import DeadLetterShelf
from shared.platform.service_bus import PropertyValue, ServiceBus
from tests.fixtures.state_tables import make_state_tables

LOAD_QUEUE = "batch-loads"
SYNC_REQUESTS = "sync-requests"
# Retries a second or two apart, so a test sees several attempts quickly.
FAST_RETRIES = RetrySchedule(
    first_delay=timedelta(seconds=0.5), max_delay=timedelta(seconds=2), budget=timedelta(minutes=2)
)


class TableDouble:
    """Dataverse rows by alternate key; counts writes so a test can see what each load did."""

    def __init__(self) -> None:
        self.rows: dict[tuple[Any, ...], dict[str, Any]] = {}
        self.writes = 0
        self.fail_after_writes: int | None = None
        self.lock = threading.Lock()

    def upsert(self, target: DataverseTarget, records: Sequence[Mapping[str, Any]]) -> list[RecordResult]:
        results = []
        with self.lock:
            if self.fail_after_writes is not None and self.writes >= self.fail_after_writes:
                raise ConnectionError("the table double was told to fail now")
            for record in records:
                key = tuple(record[name] for name in target.alternate_key)
                if record.get("bs_amount") == "refuse":
                    results.append(RecordResult(key, Outcome.REJECTED, 400, "0x80044331", "refused"))
                    continue
                self.rows[key] = dict(record)
                results.append(RecordResult(key, Outcome.UPSERTED, 204))
            self.writes += 1
        return results

    def delete(self, target: DataverseTarget, keys: Sequence[Mapping[str, Any]]) -> list[RecordResult]:
        results = []
        with self.lock:
            for key_values in keys:
                key = tuple(key_values[name] for name in target.alternate_key)
                found = self.rows.pop(key, None)
                outcome = Outcome.DELETED if found else Outcome.NOT_FOUND
                results.append(RecordResult(key, outcome, 204 if found else 404))
        return results


class SiteDay(BaseModel):
    """A small stand-in for a Legion row: site, day, job code, hours."""

    site: str = Field(pattern=r"^\d{4}$")
    day: date
    job_code: str = Field(min_length=1)
    hours: float = Field(ge=0)
    amount: str | None = None


def to_target(row: SiteDay) -> Record | None:
    if row.job_code == "SKIP":
        return None
    record: Record = {
        "bs_sitenumber": row.site,
        "bs_date": row.day.isoformat(),
        "bs_jobcode": row.job_code,
        "bs_hours": row.hours,
    }
    if row.amount is not None:
        record["bs_amount"] = row.amount
    return record


FIRST_DAY = date(2026, 10, 1)


def rows(days: int, sites: int = 3, start: date = FIRST_DAY) -> list[dict[str, Any]]:
    return [
        {"site": f"{site:04d}", "day": start + timedelta(days=day), "job_code": "GSA", "hours": 8.0 + site}
        for day in range(days)
        for site in range(1, sites + 1)
    ]


@dataclass
class ListSource:
    """Rows in a list, read like a SQL query ordered by ``day``; counts its queries."""

    rows: list[dict[str, Any]]
    page_rows: int = 7
    queries: int = 0
    fail_after_pages: int | None = None
    gate: threading.Event | None = None
    windows: list[ReadWindow] = field(default_factory=list)

    def read(self, window: ReadWindow) -> Iterable[Sequence[Row]]:
        self.queries += 1
        self.windows.append(window)
        chosen = sorted(
            (
                row
                for row in self.rows
                if (window.start is None or row["day"] >= window.start)
                and (window.end is None or row["day"] < window.end)
            ),
            key=lambda row: row["day"],
        )
        for page_number, start in enumerate(range(0, len(chosen), self.page_rows)):
            if self.gate is not None:
                self.gate.wait(30)
            if self.fail_after_pages is not None and page_number >= self.fail_after_pages:
                raise ConnectionError("the source went away mid-read")
            yield chosen[start : start + self.page_rows]


TARGET = DataverseTarget(
    entity_set="bs_payrolldetails", alternate_key=("bs_sitenumber", "bs_date", "bs_jobcode")
)


def site_day_stream(source: ListSource, **overrides: Any) -> Stream[SiteDay]:
    settings: dict[str, Any] = {
        "name": "site_days",
        "model": SiteDay,
        "read": source.read,
        "transform": to_target,
        "target": TARGET,
        "cursor": "day",
        "batch_rows": 10,
        "max_bad_rows": 3,
    }
    settings.update(overrides)
    return Stream(**settings)


@dataclass
class World:
    engine: SyncEngine
    loader: BatchLoader
    table: TableDouble
    bus: ServiceBusClient
    staging: BlobStore
    state: BlobStore

    def use_stores(self, runs: RunStore, states: StreamStateStore) -> None:
        """Keep run records and stream states in ``runs`` and ``states`` (the app's tables) from now on."""
        engine = self.engine
        self.engine = SyncEngine(
            engine.catalog, self.staging, self.state, engine.locks, ServiceBus(self.bus), LOAD_QUEUE,
            runs=runs, states=states,
        )  # fmt: skip
        self.loader = BatchLoader(
            engine.catalog, self.staging, self.state, self.table, self.engine.now, runs=runs
        )

    def redeliveries(self, schedule: RetrySchedule = FAST_RETRIES) -> Redeliveries:
        return Redeliveries(ServiceBus(self.bus), DeadLetterShelf(self.state), schedule)

    def loader_with(self, sink: Any) -> BatchLoader:
        """A loader writing to ``sink`` that counts runs in the engine's run store, whichever it is."""
        loader = BatchLoader(self.engine.catalog, self.staging, self.state, sink, self.engine.now)
        loader._runs = self.engine.runs
        return loader

    def run_queue(self) -> RunQueue:
        return RunQueue(
            self.engine.catalog,
            self.engine.runs,
            self.engine.slots,
            ServiceBus(self.bus),
            SYNC_REQUESTS,
            self.engine.now,
        )

    def pump(
        self, queue: str, handle: Callable[[Delivery], object], seconds: float = 5.0, limit: int | None = None
    ) -> int:
        """Receive and hand over this world's messages on ``queue`` until it is quiet, as the host would.

        Messages of other tests' worlds (their runs are not in this state
        container) are completed unread. Returns how many were handed over.
        With a ``limit``, no more messages are received than it leaves room for:
        one received and not handed over stays locked, out of every receiver's
        reach, until its lock lapses.
        """
        handled, deadline = 0, time.monotonic() + seconds
        with self.bus.get_queue_receiver(queue, max_wait_time=1) as receiver:
            while time.monotonic() < deadline:
                room = 20 if limit is None else min(20, limit - handled)
                for message in receiver.receive_messages(max_message_count=room, max_wait_time=1):
                    if not self._owns(message):
                        receiver.complete_message(message)
                        continue
                    try:
                        handle(delivery_from_sdk(message, queue))
                    except Exception:  # noqa: BLE001 - what the Functions host does: abandon
                        receiver.abandon_message(message)
                        continue
                    receiver.complete_message(message)
                    handled += 1
                    if handled == limit:
                        return handled
                    deadline = max(deadline, time.monotonic() + 2)
        return handled

    def _owns(self, message: ServiceBusReceivedMessage) -> bool:
        properties = message.application_properties or {}
        run_id = properties.get(b"run_id", properties.get("run_id"))  # type: ignore[call-overload]
        run_id = run_id.decode() if isinstance(run_id, bytes) else run_id
        return run_id is None or self.engine.runs.get(str(run_id)) is not None

    def drain_loads(self, stop_on_error: bool = False) -> int:
        """Receive every load message and load it, as the load trigger does; returns how many loaded.

        ``stop_on_error`` plays a worker that dies on its first failure: the
        message is abandoned and nothing more is received.
        """
        handled = 0
        with self.bus.get_queue_receiver(LOAD_QUEUE, max_wait_time=2) as receiver:
            while True:
                messages = receiver.receive_messages(max_message_count=20, max_wait_time=2)
                if not messages:
                    return handled
                for message in messages:
                    batch = LoadBatchMessage.model_validate_json(b"".join(message.body))
                    try:
                        self.loader.load(batch)
                    except Exception:  # noqa: BLE001 - what the Functions host does: abandon
                        receiver.abandon_message(message)
                        if stop_on_error:
                            return handled
                        continue
                    receiver.complete_message(message)
                    handled += 1


def delivery_from_sdk(message: ServiceBusReceivedMessage, queue: str) -> Delivery:
    """The ``Delivery`` a trigger would build for this message (``functions/delivery.py`` does it from
    ``func.ServiceBusMessage``)."""
    properties: dict[str, PropertyValue] = {}
    for name, value in (message.application_properties or {}).items():
        key = name.decode() if isinstance(name, bytes) else str(name)
        properties[key] = value.decode() if isinstance(value, bytes) else value
    return Delivery(
        queue=queue,
        message_id=str(message.message_id),
        body=b"".join(message.body),
        correlation_id=message.correlation_id,
        subject=message.subject,
        application_properties=properties,
        delivery_count=message.delivery_count or 1,
        enqueued_at=message.enqueued_time_utc,
    )


def build_world(
    blob_service: BlobServiceClient,
    connection_string: str,
    *streams: Stream[Any],
    tables: TableServiceClient | None = None,
) -> World:
    """The engine and a loader over fresh containers; with ``tables``, run records and stream states
    live in fresh Azurite tables instead of the state container (the issue-21 stores)."""
    suffix = uuid.uuid4().hex[:10]
    staging = BlobStore(blob_service, f"staging-{suffix}")
    state = BlobStore(blob_service, f"state-{suffix}")
    staging.ensure_container()
    state.ensure_container()
    bus = ServiceBusClient.from_connection_string(connection_string)
    catalog = StreamCatalog(streams)
    table = TableDouble()
    engine = SyncEngine(catalog, staging, state, BlobLocks(state.container, 15), ServiceBus(bus), LOAD_QUEUE)
    loader = BatchLoader(catalog, staging, state, table, engine.now)
    world = World(engine, loader, table, bus, staging, state)
    if tables is not None:
        state_tables = make_state_tables(tables, state)
        world.use_stores(RunTable(state_tables.runs, state), StreamStateTable(state_tables.streams, state))
    return world
