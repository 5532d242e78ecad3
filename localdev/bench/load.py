"""Loading measured: records staged by the engine, loaded by the real loader and sink into the sandbox.

Counts the sandbox's ``$batch`` requests against the ideal ``ceil(n/1000)`` and
reports how many answers were throttled, so the service-protection handling is
measured, not assumed.
"""

from __future__ import annotations

import math
import ssl
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
from azure.servicebus import ServiceBusClient
from azure.storage.blob import BlobServiceClient
from pydantic import BaseModel

from localdev.bench.sandbox_sign_in import sandbox_dataverse
from shared.connectors.dataverse.sink import DataverseSink, DataverseTarget
from shared.http.hosts import HostRegistry
from shared.pipeline.load import BatchLoader, LoadBatchMessage
from shared.pipeline.requests import SyncRequest
from shared.pipeline.stream import ReadWindow, Record, Row, Stream, StreamCatalog
from shared.pipeline.sync import SyncEngine
from shared.platform.blob_lock import BlobLocks
from shared.platform.blob_store import BlobStore
from shared.platform.service_bus import ServiceBus

LOAD_QUEUE = "batch-loads"
TARGET = DataverseTarget(entity_set="bs_jobcodesbysites", alternate_key=("bs_sitenumber", "bs_jobcode"))


class JobRate(BaseModel):
    number: int
    site: str
    job_code: str
    rate: float


@dataclass(frozen=True)
class LoadOutcome:
    seconds: float
    records_per_second: float
    batch_requests: int
    minimum_batches: int
    throttled: int
    rows_in_dataverse: int

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


def measure_load(
    records: int, blob: str, servicebus: str, org_url: str, ca_bundle: Path, throttled: float
) -> LoadOutcome:
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
    hosts = HostRegistry(verify=ca_bundle)
    dataverse, token = sandbox_dataverse(org_url, ca_bundle, hosts)
    sink = DataverseSink(dataverse, cap_seconds=5)
    loader = BatchLoader(catalog, staging, state, sink, engine.now)
    record = engine.run(SyncRequest(stream.name))
    token()  # sign in before the clock starts: the bench measures loading, not MSAL's first call
    admin.post("throttle", json={"fraction": throttled, "retry_after": 1, "seed": 5}).raise_for_status()
    started = time.perf_counter()
    with sdk.get_queue_receiver(LOAD_QUEUE, max_wait_time=5) as receiver:
        loaded = 0
        while loaded < len(record.batches):
            for message in receiver.receive_messages(max_message_count=10, max_wait_time=5):
                loader.load(LoadBatchMessage.model_validate_json(b"".join(message.body)))
                receiver.complete_message(message)
                loaded += 1
    seconds = time.perf_counter() - started
    stats = admin.get("stats").json()
    admin.post("throttle", json={"fraction": 0.0}).raise_for_status()
    in_dataverse = sum(1 for _ in dataverse.query(TARGET.entity_set, TARGET.alternate_key))
    hosts.close()
    sdk.close()
    admin.close()
    return LoadOutcome(
        seconds=seconds,
        records_per_second=records / seconds,
        batch_requests=int(stats["batches"]),
        minimum_batches=math.ceil(records / 1000),
        throttled=int(stats["throttled"]),
        rows_in_dataverse=in_dataverse,
    )
