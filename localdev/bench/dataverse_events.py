"""``make bench-events``: from a Web API write in Dataverse to its GP posting's start, on a running ``make run``.

For each of ``--count`` billing statements (seeded as ``python -m localdev
statements`` seeds them), the flow's ``bs_emailgenerationprocess`` row is
written with SendToGP through the sandbox Web API. The sandbox's service
endpoint posts the step's execution context to ``dataverse-events``; the
local Functions host's ``route_dataverse_event`` reads the row back and
requests the posting; ``post_to_gp`` picks it up. The clock starts before the
write and this script polls the request's record (every 10 ms) for:

* *requested*: the record exists (its ``createdAt`` less the write's start);
* *started*: the record left ``queued`` (the posting's trigger has it);
* *settled*: the record is finished (GP answered every document).

Statements are posted one after another, so each number is one event's path
with nothing queued ahead of it. A statement the hub already has a request for
is skipped (its event would rightly do nothing): the script walks back a month
at a time until it finds statements the hub never saw (``--month`` starts
elsewhere). Seeding writes customer sites and contracts, whose own events
queue syncs; the clock starts once the events queue has been empty for two
seconds, so the numbers are of one event, not of the seeding's backlog (the
syncs those events started may still be running: the machine is not idle).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import uuid
from datetime import UTC, date, datetime

from azure.servicebus import ServiceBusClient

from localdev.billing_statements import SeededStatement, last_month, seed_billing_statements
from shared.composition import build_hub
from shared.connectors.dataverse.client import DataverseClient
from shared.connectors.great_plains.ledger import GpLedger
from shared.settings import SettingsError, load_settings
from shared.workflows.gp_posting.requests import PostingRequest, PostingSubject
from shared.workflows.gp_posting.sweep import (
    EMAIL_GENERATION_PROCESSES,
    PROCESS_ID,
    PROCESS_STATEMENT,
    SEND_ACTION,
    SEND_TO_GP,
    sweep_request_id,
)
from shared.workflows.gp_posting.workflow import GpPostings

GOAL_SECONDS = 5.0
POLL_SECONDS = 0.01
GIVE_UP_SECONDS = 60.0
MONTHS_BACK = 12


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m localdev.bench.dataverse_events", description=__doc__)
    parser.add_argument("--count", type=int, default=10, help="statements to post (default 10)")
    parser.add_argument(
        "--month", type=date.fromisoformat, help="service month's first day (default last month)"
    )
    arguments = parser.parse_args(argv)
    try:
        hub = build_hub(load_settings())
    except SettingsError as error:
        print(f"{error}\nStart `make run` first: this measures its hub.", file=sys.stderr)
        return 2
    if hub.edw is None or hub.gp_databases is None:
        print("Needs EDW_SQL_URL and GP_SQL_URL (make run's sandboxes)", file=sys.stderr)
        return 2
    postings = hub.gp_postings_for_api
    month = arguments.month or last_month(date.today())
    fresh: list[SeededStatement] = []
    for _ in range(MONTHS_BACK):
        chart = GpLedger(hub.gp_databases.engine).chart
        seeded = seed_billing_statements(hub.dataverse, hub.edw, chart, arguments.count, month)
        fresh = [
            s for s in seeded if postings.requests.latest(PostingSubject(statement_id=s.statement_id)) is None
        ]
        if fresh:
            break
        month = last_month(month)
    if not fresh:
        print(f"Every statement of the last {MONTHS_BACK} months has a GP request already", file=sys.stderr)
        return 1
    # Seeding wrote customer sites and contracts, whose events queue syncs; let them pass first.
    _wait_until_idle(str(hub.settings.service_bus), hub.settings.dataverse_events_queue)
    print(
        f"Web API write → GP posting, {len(fresh)} statement(s), one at a time (goal: started < {GOAL_SECONDS} s)"
    )
    timings = [_post_one(hub.dataverse, postings, item.statement_id) for item in fresh]
    for name, index in (("requested", 0), ("started", 1), ("settled", 2)):
        values = [timing[index] for timing in timings]
        print(
            f"  {name:<9}  median {statistics.median(values):6.3f} s  "
            f"min {min(values):6.3f} s  max {max(values):6.3f} s"
        )
    worst = max(timing[1] for timing in timings)
    print(
        f"  slowest start {worst:.3f} s: {'within' if worst < GOAL_SECONDS else 'OVER'} the {GOAL_SECONDS} s goal"
    )
    return 0 if worst < GOAL_SECONDS else 1


def _wait_until_idle(connection: str, queue: str) -> None:
    """Until no event waits on ``queue`` for two seconds running (at most two minutes)."""
    quiet_since: float | None = None
    deadline = time.perf_counter() + 120
    with (
        ServiceBusClient.from_connection_string(connection) as client,
        client.get_queue_receiver(queue) as receiver,
    ):
        while time.perf_counter() < deadline:
            if receiver.peek_messages(max_message_count=1):
                quiet_since = None
            elif quiet_since is None:
                quiet_since = time.perf_counter()
            elif time.perf_counter() - quiet_since > 2:
                return
            time.sleep(0.2)


def _post_one(
    dataverse: DataverseClient, postings: GpPostings, statement_id: str
) -> tuple[float, float, float]:
    """Seconds from the write's start to requested, started and settled."""
    process_id = str(uuid.uuid4())
    request_id = sweep_request_id(statement_id, process_id)
    began, wall = time.perf_counter(), datetime.now(UTC)
    dataverse.upsert(
        EMAIL_GENERATION_PROCESSES,
        {PROCESS_ID: process_id},
        {SEND_ACTION: SEND_TO_GP, PROCESS_STATEMENT: statement_id},
    )
    requested: float | None = None
    started: float | None = None
    while time.perf_counter() - began < GIVE_UP_SECONDS:
        record: PostingRequest | None = postings.requests.get(request_id)
        if record is not None:
            if requested is None:
                requested = (record.created_at - wall).total_seconds()
            if started is None and record.status != "queued":
                started = time.perf_counter() - began
            if not record.active:
                assert requested is not None and started is not None
                return requested, started, time.perf_counter() - began
        time.sleep(POLL_SECONDS)
    raise SystemExit(
        f"statement {statement_id}: no settled GP request {request_id} after {GIVE_UP_SECONDS} s"
    )


if __name__ == "__main__":
    raise SystemExit(main())
