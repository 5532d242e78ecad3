"""``python -m localdev sync <stream>``: run one sync here, watch it, and print what it did.

It uses the same settings and composition root as the Functions app, so it
reaches whatever ``local.settings.json`` points at (the local world of ``make
run``). Extraction runs in this process; loading happens where load messages
are consumed: by the running hub (the default, and this command waits for it),
or right here with ``--load-here``, through the same loader the load trigger
calls. Batches loaded here are marked, so the hub skips their messages later.

``python -m localdev statements`` seeds a month of billing statements into the
local Dataverse and prints, for each, the curl that posts it to sandbox GP
through the running hub (see ``localdev/billing_statements.py``).

``python -m localdev trace <run id>`` draws the run's spans as a tree, from the
telemetry ``make run`` writes to ``LOCAL_TELEMETRY_FOLDER`` (``localdev/trace_tree.py``).

``python -m localdev migrate-state`` moves the run records, GP posting requests
and stream states of the state container into their tables, once; with a
deployment's settings in the environment (``StagingStorage__blobServiceUri``,
``__tableServiceUri``) it moves that deployment's (``shared/state_migration.py``).
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime

from localdev.billing_statements import DEFAULT_COUNT, describe, posting_command, seed_billing_statements
from localdev.run import HOST_PORT
from localdev.trace_tree import print_run
from shared.composition import Hub, build_hub
from shared.connectors.great_plains.ledger import GpLedger
from shared.pipeline import progress
from shared.pipeline.load import LoadBatchMessage
from shared.pipeline.requests import SyncRequest
from shared.pipeline.run_queue import AlreadyRunningError
from shared.pipeline.run_record import RunMode, RunRecord
from shared.pipeline.stream import ReadWindow
from shared.settings import Settings, SettingsError, load_settings
from shared.state_migration import connect, migrate_state

_POLL_SECONDS = 1.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m localdev", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    sync = commands.add_parser("sync", help="run one stream's sync and print a summary")
    sync.add_argument("stream", help="the stream's name (see `python -m localdev streams`)")
    sync.add_argument(
        "--mode",
        choices=[mode.value for mode in RunMode],
        default=RunMode.INCREMENTAL.value,
        help="how to read the source (default incremental)",
    )
    sync.add_argument("--start", type=date.fromisoformat, help="backfill window start (inclusive)")
    sync.add_argument("--end", type=date.fromisoformat, help="backfill window end (exclusive)")
    sync.add_argument("--replay-of", help="for --mode replay: the run to replay")
    sync.add_argument("--load-here", action="store_true", help="load the batches in this process")
    sync.add_argument("--wait", type=float, default=120.0, help="seconds to wait for loading (default 120)")
    commands.add_parser("streams", help="list the streams the hub knows")
    statements = commands.add_parser(
        "statements", help="seed billing statements in the local Dataverse and print how to post each to GP"
    )
    statements.add_argument(
        "--count", type=int, default=DEFAULT_COUNT, help=f"how many (default {DEFAULT_COUNT})"
    )
    statements.add_argument("--month", type=service_month, help="service month yyyy-MM (default: last month)")
    commands.add_parser(
        "migrate-state", help="move run records, GP requests and stream states from blobs into tables"
    )
    trace = commands.add_parser("trace", help="draw a run's spans as a tree, from the local telemetry files")
    trace.add_argument("run_id", help="the run's id (the API's runs/{id}, or the sync's summary)")
    arguments = parser.parse_args(argv)
    try:
        settings = load_settings()
        if arguments.command == "migrate-state":
            return migrate(settings)
        if arguments.command == "trace":
            return trace_run(settings, arguments.run_id)
        hub = build_hub(settings)
    except SettingsError as error:
        print(error, file=sys.stderr)
        return 2
    if arguments.command == "streams":
        for stream in hub.engine.catalog:
            print(f"{stream.name:<28} → {stream.target.name} (cursor: {stream.cursor or 'full read'})")
        return 0
    if arguments.command == "statements":
        return seed_statements(hub, arguments.count, arguments.month)
    return run_sync(hub, arguments)


def trace_run(settings: Settings, run_id: str) -> int:
    if settings.local_telemetry_folder is None:
        print("LOCAL_TELEMETRY_FOLDER is not set: the hub writes no telemetry files to read", file=sys.stderr)
        return 2
    return print_run(settings.local_telemetry_folder, run_id)


def migrate(settings: Settings) -> int:
    """Move what the tables do not hold yet and print, per kind, what moved."""
    state, stores = connect(settings)
    report = migrate_state(state, stores)
    for line in report.lines():
        print(line)
    unreadable = report.runs.unreadable + report.requests.unreadable + report.subjects.unreadable
    return 1 if unreadable + report.streams.unreadable else 0


def service_month(value: str) -> date:
    """``yyyy-MM`` → the month's first day."""
    try:
        return datetime.strptime(value, "%Y-%m").date()
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a month as yyyy-MM") from None


def seed_statements(hub: Hub, count: int, month: date | None) -> int:
    """Seed the statements and print one line each: id, site, company, kind and the curl that posts it."""
    if hub.edw is None or hub.gp_databases is None:
        print("Seeding statements needs EDW_SQL_URL and GP_SQL_URL (make run's sandboxes)", file=sys.stderr)
        return 2
    seeded = seed_billing_statements(
        hub.dataverse, hub.edw, GpLedger(hub.gp_databases.engine).chart, count, month
    )
    # Keys are never printed: the commands read the key from the shell.
    print("# export LOCAL_FUNCTION_KEY=<Values.LOCAL_FUNCTION_KEY in local.settings.json>")
    for item in seeded:
        print(f"{describe(item)}  {posting_command(item.statement_id, f'http://127.0.0.1:{HOST_PORT}')}")
    if len(seeded) < count:
        print(
            f"Only {len(seeded)} of {count}: the EDW has no more sites with every account in sandbox GP's chart",
            file=sys.stderr,
        )
    return 0 if seeded else 1


def run_sync(hub: Hub, arguments: argparse.Namespace) -> int:
    window = ReadWindow(arguments.start, arguments.end) if arguments.mode == RunMode.BACKFILL else None
    request = SyncRequest(
        stream=arguments.stream,
        mode=RunMode(arguments.mode),
        trigger="cli",
        window=window,
        replay_of=arguments.replay_of,
    )
    started = time.monotonic()
    with _progress_on_stderr():
        try:
            record = hub.engine.run(request)
        except (AlreadyRunningError, KeyError) as refused:
            print(refused, file=sys.stderr)
            return 1
        if arguments.load_here:
            for batch in record.batches:
                hub.loader.load(LoadBatchMessage(run_id=record.id, stream=record.stream, batch=batch))
        record = _wait_for_loading(hub, record, arguments.wait)
    print(summary(record, time.monotonic() - started))
    return 0 if record.status.value == "succeeded" else 1


@contextmanager
def _progress_on_stderr() -> Iterator[None]:
    """The run's progress lines, as the hub logs them, on stderr: whole lines, so a pipe or a file reads them."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
    told = logging.getLogger(progress.__name__)
    level = told.level
    told.setLevel(logging.INFO)
    told.addHandler(handler)
    try:
        yield
    finally:
        told.removeHandler(handler)
        told.setLevel(level)


def _wait_for_loading(hub: Hub, record: RunRecord, seconds: float) -> RunRecord:
    deadline = time.monotonic() + seconds
    while not record.status.finished and time.monotonic() < deadline:
        time.sleep(_POLL_SECONDS)
        record = hub.engine.runs.get(record.id) or record
    if not record.status.finished:
        print(f"Still loading after {seconds:g} s: is the hub running (make run)? Run id {record.id}")
    return record


def summary(record: RunRecord, seconds: float) -> str:
    extract, load = record.extract, record.load
    rows = [
        ("run", record.id),
        (
            "status",
            record.status.value
            + (f" ({record.error.error_class}: {record.error.message})" if record.error else ""),
        ),
        ("mode", record.mode.value),
        ("watermark", f"{record.watermark_before} → {record.watermark_after}"),
        ("read / valid", f"{extract.read:,} / {extract.valid:,}"),
        (
            "quarantined",
            f"{extract.quarantined:,}" + (f"  ({record.quarantine_path})" if record.quarantine_path else ""),
        ),
        ("unchanged / skipped", f"{extract.unchanged:,} / {extract.skipped:,}"),
        (
            "staged (deletes)",
            f"{extract.staged:,} ({extract.deletes_staged:,}) in {len(record.batches)} batches",
        ),
        ("loaded batches", f"{load.batches_loaded} of {record.batches_expected}"),
        ("written", f"{load.upserted + load.created + load.updated:,} upserted, {load.deleted:,} deleted"),
        (
            "refused",
            f"{load.rejected:,} rejected, {load.conflicts:,} conflicts, {load.not_found:,} not found",
        ),
        ("time", f"{seconds:.1f} s"),
    ]
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"  {name:<{width}}  {value}" for name, value in rows)
