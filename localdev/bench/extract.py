"""One measured extract → validate → stage run, in its own process so its peak RSS is its own.

Prints one JSON line: rows, seconds, rows per second, peak RSS, source queries,
batches. The orchestrator (``python -m localdev.bench``) runs it at several
sizes to show throughput and that memory does not grow with the row count.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time
import uuid
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import orjson
from azure.servicebus import ServiceBusClient
from azure.storage.blob import BlobServiceClient
from sqlalchemy import create_engine

from localdev.bench.synthetic import PayrollLine, reader, to_payroll_detail, to_payroll_details
from shared.connectors.dataverse.sink import DataverseTarget
from shared.pipeline.requests import SyncRequest
from shared.pipeline.run_record import RunMode
from shared.pipeline.stream import ReadWindow, Row, Stream, StreamCatalog
from shared.pipeline.sync import SyncEngine
from shared.platform.blob_lock import BlobLocks
from shared.platform.blob_store import BlobStore
from shared.platform.service_bus import ServiceBus

# Extraction is measured alone: its load messages go to a queue nobody drains.
LOAD_QUEUE = "bench-extract-loads"


def measure_extract(source: Path, blob: str, servicebus: str, runs: int = 1) -> dict[str, Any]:
    """Run this module on ``source`` in a fresh interpreter, so its peak RSS is its own; its JSON line."""
    child = subprocess.run(  # noqa: S603 - our own module
        [
            sys.executable,
            "-m",
            "localdev.bench.extract",
            "--source",
            f"sqlite:///{source}",
            "--blob",
            blob,
            "--servicebus",
            servicebus,
            "--runs",
            str(runs),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, Any] = orjson.loads(child.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m localdev.bench.extract", description=__doc__)
    parser.add_argument("--source", required=True, help="sqlite URL of the synthetic source")
    parser.add_argument("--blob", required=True, help="Azurite connection string for the staged batches")
    parser.add_argument(
        "--servicebus", required=True, help="Service Bus emulator connection string for the load messages"
    )
    parser.add_argument("--runs", type=int, default=1, help="1 = one full run; 2 = then a no-change run")
    parser.add_argument(
        "--by-row", action="store_true", help="without transform_page: every row validated on its own"
    )
    arguments = parser.parse_args()

    engine = create_engine(arguments.source)
    queries = 0
    read_lines = reader(engine)

    def counted_read(window: ReadWindow) -> Iterable[Sequence[Row]]:
        nonlocal queries
        queries += 1
        return read_lines(window)

    stream = Stream(
        name="bench_payroll_lines",
        model=PayrollLine,
        read=counted_read,
        transform=to_payroll_detail,
        transform_page=None if arguments.by_row else to_payroll_details,
        target=DataverseTarget(entity_set="bs_payrolldetails", alternate_key=("bs_lineid",)),
        cursor="LINE_ID",
        batch_rows=5000,
    )
    blob = BlobServiceClient.from_connection_string(arguments.blob)
    suffix = uuid.uuid4().hex[:8]
    staging, state = BlobStore(blob, f"bench-staging-{suffix}"), BlobStore(blob, f"bench-state-{suffix}")
    staging.ensure_container()
    state.ensure_container()
    bus = ServiceBus(ServiceBusClient.from_connection_string(arguments.servicebus))
    sync = SyncEngine(StreamCatalog([stream]), staging, state, BlobLocks(state.container), bus, LOAD_QUEUE)

    results = []
    for number in range(arguments.runs):
        before = queries
        started, cpu_started = time.perf_counter(), time.process_time()
        record = sync.run(SyncRequest(stream.name, mode=RunMode.FULL if number == 0 else RunMode.INCREMENTAL))
        seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
        results.append(
            {
                "run": "full" if number == 0 else "no-change incremental",
                "status": record.status.value,
                "error": record.error.message if record.error else None,
                "rows": record.extract.read,
                "staged": record.extract.staged,
                "batches": len(record.batches),
                "source_queries": queries - before,
                "seconds": round(seconds, 2),
                "cpu_seconds": round(cpu_seconds, 2),
                "rows_per_second": round(record.extract.read / seconds) if seconds else None,
            }
        )
    bus.close()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(orjson.dumps({"runs": results, "peak_rss_mb": round(peak_mb, 1)}).decode())


if __name__ == "__main__":
    main()
