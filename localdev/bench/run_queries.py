"""``make bench-runs``: the API's run questions against 20,000 run records in Azurite's Table service.

Seeds the runs through ``RunTable.create`` (the write path the hub uses; a
few runs carry thousands of refused records, so they spill to a blob), then
times what ``GET /api/v1/runs?status=failed&top=50``, ``GET /api/v1/runs?stream=…``
(first and second page) and ``GET /api/v1/syncs`` (the last run of every
stream) ask of the store, printing the median and slowest of ``--repeat``
calls and how many storage requests one call made, Table's and Blob's alike.

Azurite runs on free ports in a temporary folder and is stopped at the end.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from azure.core.pipeline import PipelineRequest
from azure.data.tables import TableServiceClient
from azure.storage.blob import BlobServiceClient

from localdev import services
from shared.api.models import RunPage, RunQuery
from shared.api.runs import RunViews
from shared.pipeline.run_record import RecordProblem, RunMode, RunRecord, RunStatus
from shared.pipeline.run_table import RunTable
from shared.platform.blob_store import BlobStore
from shared.platform.table_store import TableStore

STREAMS = (
    "master_customer_sites",
    "user_sites",
    "user_roles",
    "legion_wage_rates",
    "billable_expense_budgets",
    "payroll_actuals",
    "gp_payment_status",
)
GOAL_MS = 300.0


class RequestCounter:
    """Counts every HTTP request the clients send, retries included: their ``raw_request_hook``, which
    both SDKs call after their retry policy, so once per attempt on the wire."""

    def __init__(self) -> None:
        self.count = 0
        self._lock = threading.Lock()

    def __call__(self, request: PipelineRequest[Any]) -> None:
        with self._lock:
            self.count += 1


def status_of(number: int) -> RunStatus:
    """About 4% failed, 3% partially failed, the rest succeeded; the newest of each stream still loading."""
    if number % 25 == 3:
        return RunStatus.FAILED
    if number % 33 == 5:
        return RunStatus.PARTIALLY_FAILED
    return RunStatus.SUCCEEDED


def seeded_run(number: int, now: datetime) -> RunRecord:
    started = now - timedelta(minutes=10 * number)
    stream = STREAMS[number % len(STREAMS)]
    status = RunStatus.LOADING if number < len(STREAMS) else status_of(number)
    problems = []
    if status is RunStatus.PARTIALLY_FAILED and number % 10 == 0:
        problems = [
            RecordProblem(
                batch_id="batch-0001", key=["0101", n], outcome="rejected", status=400, message="refused"
            )
            for n in range(2000)
        ]
    return RunRecord(
        id=f"{started:%Y%m%dT%H%M%SZ}-{stream}-{number:08x}",
        stream=stream,
        mode=RunMode.INCREMENTAL,
        trigger="timer",
        status=status,
        started_at=started,
        finished_at=started + timedelta(minutes=3),
        problems=problems,
    )


def seed(runs: RunTable, count: int, workers: int) -> float:
    """Create ``count`` runs newest first, several at a time; seconds taken."""
    now = datetime.now(UTC).replace(microsecond=0)
    began = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for _ in pool.map(lambda number: runs.create(seeded_run(number, now)), range(count)):
            pass
    return time.perf_counter() - began


def measure(name: str, call: Callable[[], int], counter: RequestCounter, repeat: int) -> bool:
    """Print one line for ``call`` (which returns how many runs it got); True if within the goal."""
    timings, requests, found = [], 0, 0
    for _ in range(repeat):
        before = counter.count
        began = time.perf_counter()
        found = call()
        timings.append((time.perf_counter() - began) * 1000)
        requests = counter.count - before
    median, slowest = statistics.median(timings), max(timings)
    within = median < GOAL_MS
    print(
        f"  {name:<44} {found:>5} runs  median {median:7.1f} ms  slowest {slowest:7.1f} ms  "
        f"storage requests {requests}  {'ok' if within else 'OVER ' + str(GOAL_MS) + ' ms'}"
    )
    return within


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m localdev.bench.run_queries", description=__doc__)
    parser.add_argument("--runs", type=int, default=20_000, help="run records to seed (default 20,000)")
    parser.add_argument("--repeat", type=int, default=20, help="calls timed per question (default 20)")
    parser.add_argument("--workers", type=int, default=8, help="threads seeding the records (default 8)")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hub-bench-runs-") as folder:
        root = Path(folder)
        blob_port, table_port = services.free_port(), services.free_port()
        running = [
            services.start(services.azurite(blob_port, root / "azurite")),
            services.start(services.azurite_table(table_port, root / "azurite")),
        ]
        try:
            return bench(services.azurite_connection_string(blob_port, table_port), arguments)
        finally:
            for service in reversed(running):
                service.stop()


def bench(connection_string: str, arguments: argparse.Namespace) -> int:
    counter = RequestCounter()
    tables = TableServiceClient.from_connection_string(connection_string, raw_request_hook=counter)
    blobs = BlobServiceClient.from_connection_string(connection_string, raw_request_hook=counter)
    state = BlobStore(blobs, "hub-state")
    state.ensure_container()
    table = TableStore(tables, "benchRuns")
    table.ensure_table()
    runs = RunTable(table, state)

    before = counter.count
    seconds = seed(runs, arguments.runs, arguments.workers)
    writes = counter.count - before
    print(
        f"Seeded {arguments.runs:,} runs through RunTable.create in {seconds:.1f} s "
        f"({arguments.runs / seconds:,.0f} runs/s, {writes / arguments.runs:.2f} storage requests a run)"
    )

    stream = STREAMS[1]
    second_page: dict[str, Any] = {}

    def first_stream_page() -> int:
        page = runs.page(stream=stream, top=50)
        second_page["token"] = page.continuation
        return len(page.records)

    print(f"Queries against {arguments.runs:,} runs ({arguments.repeat} calls each)")
    results = [
        measure(
            "page(status=failed, top=50)",
            lambda: len(runs.page(status="failed", top=50).records),
            counter,
            arguments.repeat,
        ),
        measure(f"page(stream={stream}, top=50)", first_stream_page, counter, arguments.repeat),
        measure(
            f"page(stream={stream}, top=50), second page",
            lambda: len(runs.page(stream=stream, top=50, continuation=second_page["token"]).records),
            counter,
            arguments.repeat,
        ),
        measure(
            "page(status=failed, since=7 days ago)",
            lambda: len(
                runs.page(status="failed", since=datetime.now(UTC) - timedelta(days=7), top=50).records
            ),
            counter,
            arguments.repeat,
        ),
        measure(
            "latest_per_stream() (GET /api/v1/syncs)",
            lambda: len(runs.latest_per_stream()),
            counter,
            arguments.repeat,
        ),
        measure(
            "page(status=partially_failed, top=50), spilled",
            lambda: len(runs.page(status="partially_failed", top=50).records),
            counter,
            arguments.repeat,
        ),
    ]
    views = RunViews(runs)

    def answered(**query: Any) -> int:
        """What the ListRuns handler does for the query: the page, as the JSON body it answers."""
        found, _ = views.page(RunQuery.model_validate(query))
        body = RunPage(value=found).model_dump_json(by_alias=True, exclude_none=True)
        return body.count('"id"')

    print("The API's answers to the same questions (RunViews.page, rendered as ListRuns' JSON body)")
    results += [
        measure(
            "GET /api/v1/runs?status=failed&top=50",
            lambda: answered(status="failed", top=50),
            counter,
            arguments.repeat,
        ),
        measure(
            f"GET /api/v1/runs?stream={stream}", lambda: answered(stream=stream), counter, arguments.repeat
        ),
    ]
    return 0 if all(results[:5] + results[6:]) else 1


if __name__ == "__main__":
    raise SystemExit(main())
