"""One measured backfill of a payroll-actuals stream over a sandbox SQL Server, in its own process.

Runs the real ``worked_hours`` (``vwPAYROLL_SUMMARY``) or ``scheduled_hours``
(``SHIFT_ENTITY``) stream as a backfill of ``--start`` up to ``--end``: SQL
aggregation a month at a time, validation, staging to Azurite, load messages
to the Service Bus emulator (to a queue nobody drains: extraction is measured
alone). Prints one JSON line: the source rows the window holds, the records
staged, seconds, both rates and this process's peak RSS, so the orchestrator
(``python -m localdev.bench``) can show a month and a year side by side and
that memory does not grow with the window.
"""

from __future__ import annotations

import argparse
import resource
import time
import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import orjson
from azure.servicebus import ServiceBusClient
from azure.storage.blob import BlobServiceClient
from sqlalchemy import Engine, and_, func, select

from localdev.bench.extract import LOAD_QUEUE
from localdev.sandbox_sql import sandbox_url
from shared.connectors.legion.days import shift_days
from shared.connectors.legion.scheduled_hours import scheduled_hours_stream
from shared.connectors.legion.worked_hours import worked_hours_stream
from shared.pipeline.requests import SyncRequest
from shared.pipeline.run_record import RunMode
from shared.pipeline.stream import ReadWindow, Stream, StreamCatalog
from shared.pipeline.sync import SyncEngine
from shared.platform.blob_lock import BlobLocks
from shared.platform.blob_store import BlobStore
from shared.platform.service_bus import ServiceBus
from shared.sql.engines import sql_server_engine
from shared.sql.tables import shift_entity, vw_payroll_summary

STREAMS = ("worked_hours", "scheduled_hours")


def source_rows(edw: Engine, stream: str, first: date, end: date) -> int:
    """How many rows of the stream's source the window covers (what SQL aggregates)."""
    if stream == "worked_hours":
        view = vw_payroll_summary.c
        counted = select(func.count()).where(and_(view.DATE >= first, view.DATE < end))
    else:
        counted = select(func.count()).select_from(shift_entity).where(shift_days(first, end))
    with edw.connect() as connection:
        return int(connection.execute(counted).scalar_one())


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m localdev.bench.payroll_actuals", description=__doc__)
    parser.add_argument("--folder", required=True, help="the sandbox SQL Server folder")
    parser.add_argument(
        "--stream", choices=STREAMS, default="worked_hours", help="the actuals stream to backfill"
    )
    parser.add_argument("--start", type=date.fromisoformat, required=True, help="the first day (yyyy-MM-dd)")
    parser.add_argument("--end", type=date.fromisoformat, required=True, help="exclusive")
    parser.add_argument("--blob", required=True, help="Azurite connection string for the staged batches")
    parser.add_argument("--servicebus", required=True, help="Service Bus emulator connection string")
    arguments = parser.parse_args()
    edw = sql_server_engine(sandbox_url(Path(arguments.folder)), None, 3600)
    today = arguments.end
    stream: Stream[Any] = (
        worked_hours_stream(edw)
        if arguments.stream == "worked_hours"
        else scheduled_hours_stream(edw, today=lambda: today)
    )
    blob = BlobServiceClient.from_connection_string(arguments.blob)
    suffix = uuid.uuid4().hex[:8]
    staging, state = BlobStore(blob, f"bench-staging-{suffix}"), BlobStore(blob, f"bench-state-{suffix}")
    staging.ensure_container()
    state.ensure_container()
    bus = ServiceBus(ServiceBusClient.from_connection_string(arguments.servicebus))
    sync = SyncEngine(StreamCatalog([stream]), staging, state, BlobLocks(state.container), bus, LOAD_QUEUE)
    covered = source_rows(edw, arguments.stream, arguments.start, arguments.end)
    window = ReadWindow(start=arguments.start, end=arguments.end)
    started = time.perf_counter()
    record = sync.run(SyncRequest(stream.name, mode=RunMode.BACKFILL, window=window, trigger="bench"))
    seconds = time.perf_counter() - started
    bus.close()
    edw.dispose()
    print(
        orjson.dumps(
            {
                "stream": stream.name,
                "days": (arguments.end - arguments.start) // timedelta(days=1),
                "error": record.error.message if record.error else None,
                "source_rows": covered,
                "records": record.extract.staged,
                "batches": len(record.batches),
                "seconds": round(seconds, 2),
                "source_rows_per_second": round(covered / seconds) if seconds else None,
                "records_per_second": round(record.extract.staged / seconds) if seconds else None,
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            }
        ).decode()
    )


if __name__ == "__main__":
    main()
