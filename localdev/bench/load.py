"""Loading measured: records staged by the engine, loaded by the real loader and sink into the sandbox.

Each staged batch goes through the load trigger's handler (``BatchLoads``), so a
batch Dataverse holds off for longer than the sink waits is scheduled again on
its queue (``Redeliveries``), as in Azure. Counts every ``$batch`` POST the hub
sends (``SentRequests``, under the hub's HTTP clients: throttled, failed and
retried ones too) against the ideal ``ceil(n/1000)``, the sandbox's throttled
answers by code, and the dead letters, so the service-protection handling is
measured, not assumed.

``SCALED_LIMITS`` turns on all three service protection limits ("Service
protection API limits",
learn.microsoft.com/power-apps/developer/data-platform/api-limits: per user
per 5 minutes 6,000 requests, 1,200 s of execution time, 52 concurrent
requests), scaled so one loader on a small machine meets every one of them
within minutes: a 60 s window instead of 300 s; 60 requests per window (1/s,
Dataverse allows 20/s); 90 s of execution per window (1.5 s/s, Dataverse
allows 4 s/s) with each operation costing 3 ms; 3 requests in flight (the sink
sends up to 4). ``ceiling`` is the rate those limits allow at full batches, and
the same at Dataverse's documented limits for the same cost.
"""

from __future__ import annotations

import math
import ssl
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from azure.servicebus import ServiceBusClient, ServiceBusReceivedMessage
from azure.storage.blob import BlobServiceClient
from pydantic import BaseModel

from localdev.bench.sandbox_sign_in import sandbox_dataverse
from localdev.sandbox.dataverse.protection import (
    DOCUMENTED_CONCURRENCY,
    DOCUMENTED_EXECUTION_MS,
    DOCUMENTED_LIMIT,
    DOCUMENTED_WINDOW_SECONDS,
)
from shared.connectors.dataverse.batch import MAX_OPERATIONS
from shared.connectors.dataverse.sink import DataverseSink, DataverseTarget
from shared.http.hosts import HostRegistry
from shared.pipeline.delivery import Delivery, Redeliveries, RetrySchedule
from shared.pipeline.handlers import BatchLoads
from shared.pipeline.load import BatchLoader
from shared.pipeline.requests import SyncRequest
from shared.pipeline.stream import ReadWindow, Record, Row, Stream, StreamCatalog
from shared.pipeline.sync import SyncEngine
from shared.platform.blob_lock import BlobLocks
from shared.platform.blob_store import BlobStore
from shared.platform.dead_letter_shelf import DeadLetterShelf
from shared.platform.service_bus import PropertyValue, ServiceBus

LOAD_QUEUE = "batch-loads"
TARGET = DataverseTarget(entity_set="bs_jobcodesbysites", alternate_key=("bs_sitenumber", "bs_jobcode"))
SCALED_LIMITS: dict[str, Any] = {
    "window_seconds": 60,
    "limit": 60,
    "execution_ms_limit": 90_000,
    "cost_ms_per_operation": 3,
    "concurrent_limit": 3,
}


def ceiling(
    window_seconds: float,
    limit: int,
    execution_ms_limit: int,
    cost_ms_per_operation: float,
    concurrent_limit: int,
) -> float:
    """Records/s the three limits allow with full ``$batch`` requests, held each as long as they cost."""
    by_requests = limit * MAX_OPERATIONS / window_seconds
    by_execution = execution_ms_limit / window_seconds / cost_ms_per_operation
    by_concurrency = concurrent_limit * 1000 / cost_ms_per_operation
    return min(by_requests, by_execution, by_concurrency)


def documented_ceiling(cost_ms_per_operation: float) -> float:
    """``ceiling`` at Dataverse's documented limits, for operations costing ``cost_ms_per_operation``."""
    return ceiling(
        DOCUMENTED_WINDOW_SECONDS,
        DOCUMENTED_LIMIT,
        DOCUMENTED_EXECUTION_MS,
        cost_ms_per_operation,
        DOCUMENTED_CONCURRENCY,
    )


class SentRequests(httpx.HTTPTransport):
    """The hub's HTTP transport for the bench, counting each request it sends, whatever the answer."""

    def __init__(self, ca_bundle: Path) -> None:
        super().__init__(verify=ssl.create_default_context(cafile=str(ca_bundle)))
        self.batch_posts = 0
        self._lock = threading.Lock()  # the sink sends several batches at once

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path.endswith("/$batch"):
            with self._lock:
                self.batch_posts += 1
        return super().handle_request(request)


class JobRate(BaseModel):
    number: int
    site: str
    job_code: str
    rate: float


@dataclass(frozen=True)
class LoadOutcome:
    seconds: float
    records_per_second: float
    batch_requests: int  # every $batch POST the hub sent, answered or not
    batches_served: int  # the $batch requests the sandbox served (not throttled or refused)
    minimum_batches: int
    throttled: int
    rows_in_dataverse: int
    retried_later: int
    dead_lettered: int
    throttled_by_code: dict[str, int] = field(default_factory=dict)

    @property
    def extra_percent(self) -> float:
        return 100.0 * (self.batch_requests - self.minimum_batches) / self.minimum_batches


def _rates(count: int) -> Iterator[list[Row]]:
    page: list[Row] = []
    for number in range(count):
        page.append(
            {
                "number": number,
                "site": f"{number % 650 + 1:04d}",
                "job_code": f"J{number:06d}",
                "rate": 15 + number % 17,
            }
        )
        if len(page) == 5000:
            yield page
            page = []
    if page:
        yield page


def _delivery(message: ServiceBusReceivedMessage, queue: str) -> Delivery:
    """The ``Delivery`` the load trigger would build (``functions/delivery.py``), from the SDK's message."""
    properties: dict[str, PropertyValue] = {}
    for name, value in (message.application_properties or {}).items():
        key = name.decode() if isinstance(name, bytes) else str(name)
        text = value.decode() if isinstance(value, bytes) else value
        properties[key] = text if isinstance(text, str | int | float | bool) else str(text)
    return Delivery(
        queue=queue,
        message_id=str(message.message_id),
        body=b"".join(message.body),
        correlation_id=message.correlation_id,
        application_properties=properties,
        delivery_count=message.delivery_count or 1,
        enqueued_at=message.enqueued_time_utc,
    )


def measure_load(
    records: int, blob: str, servicebus: str, org_url: str, ca_bundle: Path, throttle: Mapping[str, Any]
) -> LoadOutcome:
    """Load ``records`` under the sandbox's ``throttle`` settings (its ``/sandbox/throttle`` JSON)."""
    admin = httpx.Client(
        base_url=f"{org_url}/sandbox/", verify=ssl.create_default_context(cafile=str(ca_bundle))
    )
    admin.post("reset").raise_for_status()

    def read(window: ReadWindow) -> Iterator[list[Row]]:
        return _rates(records)

    def to_target(rate: JobRate) -> Record:
        return {"bs_sitenumber": rate.site, "bs_jobcode": rate.job_code, "bs_averagehourlyrate": rate.rate}

    stream = Stream(
        name="bench_job_rates", model=JobRate, read=read, transform=to_target, target=TARGET, cursor="number"
    )
    blob_service = BlobServiceClient.from_connection_string(blob)
    suffix = uuid.uuid4().hex[:8]
    staging, state = (
        BlobStore(blob_service, f"load-staging-{suffix}"),
        BlobStore(blob_service, f"load-state-{suffix}"),
    )
    staging.ensure_container()
    state.ensure_container()
    sdk = ServiceBusClient.from_connection_string(servicebus)
    catalog = StreamCatalog([stream])
    engine = SyncEngine(catalog, staging, state, BlobLocks(state.container), ServiceBus(sdk), LOAD_QUEUE)
    sent = SentRequests(ca_bundle)
    hosts = HostRegistry(verify=ca_bundle, transport=sent)
    dataverse, token = sandbox_dataverse(org_url, ca_bundle, hosts)
    sink = DataverseSink(dataverse, cap_seconds=5)
    loader = BatchLoader(catalog, staging, state, sink, engine.now)
    shelf = DeadLetterShelf(state)
    loads = BatchLoads(loader, Redeliveries(ServiceBus(sdk), shelf, RetrySchedule()))
    record = engine.run(SyncRequest(stream.name))
    token()  # sign in before the clock starts: the bench measures loading, not MSAL's first call
    admin.post("throttle", json=dict(throttle)).raise_for_status()
    started, posts_before = time.perf_counter(), sent.batch_posts
    loaded = retried = 0
    with sdk.get_queue_receiver(LOAD_QUEUE, max_wait_time=5) as receiver:
        while loaded + len(shelf.page(LOAD_QUEUE, 1, 0)[0]) < len(record.batches):
            for message in receiver.receive_messages(max_message_count=10, max_wait_time=5):
                if loads.handle(_delivery(message, LOAD_QUEUE)) is None:
                    retried += 1
                else:
                    loaded += 1
                receiver.complete_message(message)
    seconds, batch_posts = time.perf_counter() - started, sent.batch_posts - posts_before
    stats = admin.get("stats").json()
    admin.post("throttle", json={"fraction": 0.0}).raise_for_status()
    in_dataverse = sum(1 for _ in dataverse.query(TARGET.entity_set, TARGET.alternate_key))
    hosts.close()
    sdk.close()
    admin.close()
    return LoadOutcome(
        seconds=seconds,
        records_per_second=records / seconds,
        batch_requests=batch_posts,
        batches_served=int(stats["batches"]),
        minimum_batches=math.ceil(records / 1000),
        throttled=int(stats["throttled"]),
        rows_in_dataverse=in_dataverse,
        retried_later=retried,
        dead_lettered=len(shelf.page(LOAD_QUEUE, 1000, 0)[0]),
        throttled_by_code=dict(stats["throttled_by_code"]),
    )
